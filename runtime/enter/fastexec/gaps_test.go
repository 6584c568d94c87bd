package fastexec_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"
	"boxtui/runtime/events"
)

// TestNoCallerFDReachesCommand: an fd boxtui was started with (here a
// directory of the host, the way out of runc's CVE-2024-21626) is closed
// in the command, on both paths.
func TestNoCallerFDReachesCommand(t *testing.T) {
	testutil.RequireRoot(t, "enters namespaces")
	runDir := t.TempDir()
	requireFastPath(t, runDir)
	initPID, _ := container(t, runDir)
	hostDir, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer hostDir.Close()
	for _, mode := range []string{"require", "0"} {
		cmd := exec.Command(testutil.Binary(t), "exec", strconv.Itoa(initPID), "--", "sh", "-c", "ls /proc/$$/fd")
		cmd.Env = append(os.Environ(), "BOXTUI_RUN_DIR="+runDir, "BOXTUI_FASTEXEC="+mode)
		cmd.ExtraFiles = []*os.File{hostDir, hostDir, hostDir, hostDir, hostDir} // fds 3-7
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("BOXTUI_FASTEXEC=%s: %v: %s", mode, err, errOut.String())
		}
		if fds := strings.Fields(out.String()); strings.Join(fds, " ") != "0 1 2" {
			t.Errorf("BOXTUI_FASTEXEC=%s: the command has fds %v, want only 0 1 2", mode, fds)
		}
	}
}

// startChrootedInit starts a container whose init chrooted into the rootfs
// but kept its working directory: a directory of the host (holding a file
// named marker), outside its root. It returns the init's host PID.
func startChrootedInit(t *testing.T, marker string) int {
	t.Helper()
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skipf("needs util-linux unshare: %v", err)
	}
	rootfs := testutil.Rootfs(t)
	hostDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(hostDir, marker), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// --wd=. after --root: unshare changes to "." once chrooted, which
	// leaves it where it was. (It mounts proc after the chroot, so the
	// path is the container's.)
	cmd := exec.Command(unshare, "--pid", "--fork", "--kill-child", "--mount-proc=/proc",
		"--root="+rootfs, "--wd=.", "/bin/sleep", "100000")
	cmd.Dir = hostDir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out := &testutil.LockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM) // --kill-child takes the init along
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if left, _ := testutil.MountsUnder(rootfs); len(left) > 0 {
			t.Errorf("mounts left under %s: %v", rootfs, left)
		}
	})
	var initPID int
	testutil.WaitFor(t, 10*time.Second, func() bool {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		if err != nil || len(strings.Fields(string(data))) == 0 {
			return false
		}
		initPID, _ = strconv.Atoi(strings.Fields(string(data))[0])
		exe, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", initPID))
		return strings.HasPrefix(string(exe), "/bin/sleep\x00")
	}, "the chrooted init to start: "+out.String())
	if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", initPID)); err != nil || cwd != hostDir {
		t.Fatalf("init's cwd is %q (%v), want the host's %s", cwd, err, hostDir)
	}
	return initPID
}

// makeHistory creates the (empty) history of the container of initPID, so
// that the fast path serves it without a first exec through Go.
func makeHistory(t *testing.T, runDir string, initPID int) {
	t.Helper()
	t.Setenv("BOXTUI_RUN_DIR", runDir)
	c, err := discovery.FindInit(strconv.Itoa(initPID))
	if err != nil {
		t.Fatal(err)
	}
	p, err := events.Path(events.Key(c))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCwdOutsideRootRefused: an init whose working directory is outside
// its root (it chrooted and stayed where it was) must not hand that
// directory to the command, which could then walk the host's tree. Both
// paths refuse with the same line, before anything starts.
func TestCwdOutsideRootRefused(t *testing.T) {
	testutil.RequireRoot(t, "enters namespaces")
	runDir := t.TempDir()
	requireFastPath(t, runDir)
	initPID := startChrootedInit(t, "host-marker")
	makeHistory(t, runDir, initPID)
	pid := strconv.Itoa(initPID)
	for _, args := range [][]string{
		{pid, "--", "ls"},
		{"-w", ".", pid, "--", "ls"},
		{"-w", "..", pid, "--", "ls", "-a"},
		{"-w", "/", pid, "--", "true"}, // an absolute -w is inside: allowed
	} {
		fast := boxtui(t, runDir, "require", "", append([]string{"exec"}, args...)...)
		slow := boxtui(t, runDir, "0", "", append([]string{"exec"}, args...)...)
		if fast != slow {
			t.Errorf("exec %q: paths differ:\nC:  %+v\nGo: %+v", args, fast, slow)
		}
		if strings.Contains(fast.stdout, "host-marker") || strings.Contains(slow.stdout, "host-marker") {
			t.Errorf("exec %q listed the host's directory: %+v / %+v", args, fast, slow)
		}
		if args[1] == "/" {
			if fast.code != 0 {
				t.Errorf("exec %q: %+v, want it to run", args, fast)
			}
			continue
		}
		want := "boxtui: working directory is outside the container's root: refusing to start there (a process there could reach the host's files)\n"
		if fast.code != 1 || fast.stderr != want {
			t.Errorf("exec %q: %+v, want exit 1 and %q", args, fast, want)
		}
	}
}

// hostPid masks what differs between two runs of the same exec: the time,
// host PIDs and the client fields of exec-opened, which name each exec's
// own process.
var hostPid = regexp.MustCompile(`"time":"[^"]*"|host pid [0-9]+|"client_(pid|start)":[0-9]+`)

// TestLongCommandLineHistory: a command line of any length is recorded
// whole, exec-opened and exec-closed, the same on both paths (the C path
// used to drop exec-opened past 8 KiB and write exec-closed alone).
func TestLongCommandLineHistory(t *testing.T) {
	testutil.RequireRoot(t, "enters namespaces")
	runDir := t.TempDir()
	requireFastPath(t, runDir)
	initPID, _ := container(t, runDir)
	t.Setenv("BOXTUI_RUN_DIR", runDir)
	c, err := discovery.FindInit(strconv.Itoa(initPID))
	if err != nil {
		t.Fatal(err)
	}
	path, err := events.Path(events.Key(c))
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x<&>\u2028é", 2000) // ~20 KiB, and every escape
	lines := map[string][]string{}
	for _, mode := range []string{"require", "0"} {
		before, _ := os.ReadFile(path)
		if r := boxtui(t, runDir, mode, "", "exec", strconv.Itoa(initPID), "--", "sh", "-c", "exit 3", long); r.code != 3 {
			t.Fatalf("BOXTUI_FASTEXEC=%s: %+v", mode, r)
		}
		after, _ := os.ReadFile(path)
		for _, l := range strings.SplitAfter(string(after[len(before):]), "\n") {
			if l != "" {
				lines[mode] = append(lines[mode], hostPid.ReplaceAllString(l, "·"))
			}
		}
	}
	if len(lines["0"]) != 2 {
		t.Fatalf("Go path wrote %d lines, want 2: %q", len(lines["0"]), lines["0"])
	}
	if strings.Join(lines["require"], "") != strings.Join(lines["0"], "") {
		t.Errorf("C path's events differ from Go's:\nC:  %.400q\nGo: %.400q", lines["require"], lines["0"])
	}
}
