package enter

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"
	"boxtui/runtime/procfs"

	"github.com/creack/pty"
)

// The CLI tests run `boxtui exec` as a user would: a real binary, built
// once per test binary.

// boxtui runs the CLI with args and stdin, and returns stdout, stderr and
// the exit code.
func boxtui(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return testutil.RunBinary(t, stdin, args...)
}

func TestCLIExec(t *testing.T) {
	c, _ := unshareContainer(t)
	pid := strconv.Itoa(c.PID)

	out, errOut, code := boxtui(t, "", "exec", pid, "--", "sh", "-c", "echo out; echo err >&2; exit 7")
	if code != 7 || out != "out\n" || errOut != "err\n" {
		t.Errorf("exit 7: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Without -- and with flags after the target: they belong to the command.
	if out, _, code := boxtui(t, "", "exec", "-e", "A=b", pid, "sh", "-c", "echo $A"); code != 0 || out != "b\n" {
		t.Errorf("exec PID sh -c: code %d, %q", code, out)
	}
	// stdin reaches the command with -i only.
	if out, _, code := boxtui(t, "piped\n", "exec", "-i", pid, "--", "cat"); code != 0 || out != "piped\n" {
		t.Errorf("-i: code %d, %q", code, out)
	}
	if out, _, code := boxtui(t, "piped\n", "exec", pid, "--", "cat"); code != 0 || out != "" {
		t.Errorf("without -i: code %d, %q; want empty stdin", code, out)
	}
	// -t without a terminal still gives the command a PTY.
	if out, _, code := boxtui(t, "", "exec", "-t", pid, "--", "sh", "-c", "[ -t 0 ] && [ -t 1 ] && echo TTY; exit 3"); code != 3 || !strings.Contains(out, "TTY") {
		t.Errorf("-t: code %d, %q", code, out)
	}
	if out, _, code := boxtui(t, "", "exec", "--ns", "pid", "--new-mount-proc", "-w", "/tmp", pid, "--", "sh", "-c", "pwd; ps ax -o pid=,comm="); code != 0 || !strings.HasPrefix(out, "/tmp\n") || !psHasInit(out, "sleep") {
		t.Errorf("--new-mount-proc: code %d, %q", code, out)
	}
}

func TestCLIErrors(t *testing.T) {
	c, _ := unshareContainer(t)
	pid := strconv.Itoa(c.PID)
	dead := strconv.Itoa(startAndReap(t))
	for _, tc := range []struct {
		args []string
		want string
		code int // 0: 1
	}{
		{[]string{"exec", dead}, "boxtui: target " + dead + ": no such process", 0},
		{[]string{"exec", strconv.Itoa(os.Getpid())}, "not in a container", 0},
		// A command not found exits 127, as a shell, nsenter and docker
		// exec do; not executable counts as not found.
		{[]string{"exec", pid, "--", "/bin/nope"}, "boxtui: command /bin/nope not found in the container", 127},
		{[]string{"exec", pid, "--", "nope"}, "boxtui: command nope not found in the container", 127},
		{[]string{"exec", pid, "--", "/etc/passwd"}, "boxtui: command /etc/passwd not found in the container", 127},
		{[]string{"exec", "-t", pid, "--", "/bin/nope"}, "boxtui: command /bin/nope not found in the container", 127},
		{[]string{"exec", "--new-mount-proc", pid, "--", "/bin/nope"}, "boxtui: command /bin/nope not found in the container", 127},
		{[]string{"exec", "--ns", "pid,foo", pid}, `boxtui: unknown namespace "foo" in --ns`, 0},
		{[]string{"exec", "-e", "NOVALUE", pid}, `invalid environment entry "NOVALUE"`, 0},
		{[]string{"exec", "no-such-box"}, `no container named "no-such-box"`, 0},
		// Usage errors fall through the early path to the cobra command.
		{[]string{"exec", "--bogus", pid}, "boxtui: unknown flag: --bogus", 0},
		{[]string{"exec"}, "boxtui: no target given", 0},
	} {
		want := tc.code
		if want == 0 {
			want = 1
		}
		out, errOut, code := boxtui(t, "", tc.args...)
		if code != want || out != "" || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("boxtui %q: code %d, stdout %q, stderr %q; want code %d and one line with %q", tc.args, code, out, errOut, want, tc.want)
		}
	}

	// The host's PID 1: in boxtui's own namespace, or (on hosts that hide
	// its links even from root) unreadable; never "run as root" to root.
	if _, errOut, code := boxtui(t, "", "exec", "1", "--", "true"); code != 1 || strings.Contains(errOut, "sudo") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("exec 1 as root: code %d, stderr %q; want one line that does not ask for sudo", code, errOut)
	}

	if out, _, code := boxtui(t, "", "exec", "--help"); code != 0 || !strings.Contains(out, "--new-mount-proc") {
		t.Errorf("exec --help: code %d, %q", code, out)
	}

	// Not root.
	cmd := exec.Command(testutil.Binary(t), "exec", pid, "--", "true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	errOut, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || string(errOut) != "boxtui: boxtui exec needs root: run it again with sudo\n" {
		t.Errorf("as nobody: %v, %q", err, errOut)
	}
}

// TestCLIForwardsSignals sends SIGTERM to `boxtui exec` and expects the
// entered command to get it, and boxtui to exit as the command did.
func TestCLIForwardsSignals(t *testing.T) {
	c, _ := unshareContainer(t)
	cmd := exec.Command(testutil.Binary(t), "exec", strconv.Itoa(c.PID), "--", "/bin/sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	var sleeper int
	testutil.WaitFor(t, 10*time.Second, func() bool {
		sleeper = childWithComm(cmd.Process.Pid, "sleep")
		return sleeper > 0
	}, "the entered sleep")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
		done <- err
	case <-time.After(10 * time.Second):
		t.Fatal("boxtui exec did not exit after SIGTERM")
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 143 {
		t.Errorf("boxtui exec after SIGTERM: %v; want exit status 143 (the sleep killed by TERM)", err)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", sleeper)); err == nil {
		if st, ok := readStatus(sleeper); ok && st.PPid == cmd.Process.Pid {
			t.Errorf("entered sleep %d still runs", sleeper)
		}
	}
}

// childWithComm finds a child of parent named comm by reading every
// process's stat: the child was forked by a thread that has since exited,
// so it is not in parent's own task/*/children lists reliably.
func childWithComm(parent int, comm string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		st, err := procfs.ParseStat(data)
		if err == nil && st.PPid == parent && st.Comm == comm {
			return pid
		}
	}
	return 0
}

// TestCLIBoxtuiContainer enters a container that `boxtui run` made, by name.
func TestCLIBoxtuiContainer(t *testing.T) {
	testutil.RequireRoot(t, "launches a boxtui container")
	testutil.PinThread(t)
	bin := testutil.Binary(t)
	if _, _, code := boxtui(t, "", "run", "--help"); code != 0 {
		t.Skip("this boxtui has no run command yet")
	}
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	rootfs := testutil.FreshRootfs(t)
	checkNoMountLeak(t, filepath.Dir(rootfs))
	const name = "enter-test"
	out, errOut, code := boxtui(t, "", "run", "-d", "--name", name, "--rootfs", rootfs, "--", "/bin/sleep", "1000")
	if code != 0 {
		t.Fatalf("boxtui run: %d %s %s", code, out, errOut)
	}
	t.Cleanup(func() {
		if _, errOut, code := boxtui(t, "", "rm", "-f", name); code != 0 {
			t.Errorf("boxtui rm -f %s: %s", name, errOut)
		}
	})
	c, err := discovery.FindInit(name)
	if err != nil {
		t.Fatalf("FindInit(%q): %v", name, err)
	}
	if c.Name != name || c.Origin != discovery.OriginBoxtui {
		t.Errorf("discovery.FindInit(%q) = %+v", name, c)
	}

	cmd := exec.Command(bin, "exec", name, "--", "/bin/sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	var sleeper int
	testutil.WaitFor(t, 10*time.Second, func() bool {
		sleeper = childWithComm(cmd.Process.Pid, "sleep")
		return sleeper > 0
	}, "the entered sleep")
	assertJoined(t, c.PID, sleeper, joinedTypes...)

	out, _, code = boxtui(t, "", "exec", name, "--", "sh", "-c", "hostname; ps ax -o pid=,comm=")
	if code != 0 || !strings.HasPrefix(out, name+"\n") || !psHasInit(out, "sleep") {
		t.Errorf("inside %s: code %d, %q", name, code, out)
	}
}

// TestCLITerminal runs `boxtui exec` on a terminal, as a person would: the
// command gets a PTY of the terminal's size, follows it when the terminal
// is resized (SIGWINCH to boxtui), and its exit code comes back.
func TestCLITerminal(t *testing.T) {
	c, _ := unshareContainer(t)
	cmd := exec.Command(testutil.Binary(t), "exec", strconv.Itoa(c.PID), "--", "/bin/bash", "--norc", "--noprofile", "-i")
	cmd.Env = append(os.Environ(), "TERM=xterm")
	term, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		t.Fatal(err)
	}
	defer term.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("boxtui exec did not exit")
		}
	})
	screen := &testutil.LockedBuffer{}
	go io.Copy(screen, term)

	// The marker is the container PTY's own size as stty reads it, so it
	// shows what boxtui did with the resize (SIGWINCH to boxtui, then the
	// ioctl on the container's PTY) and not whether bash happened to be
	// reading a line when its SIGWINCH came: bash updates COLUMNS only
	// then, and a CI run once missed it while bash was running the echo
	// builtin. The shell computes the marker, so the echoed command line
	// never matches it. The resize and the line typed after it race, so
	// ask again until the new size shows, then wait for the prompt.
	size := func(want string) {
		t.Helper()
		last := time.Time{}
		testutil.WaitFor(t, 10*time.Second, func() bool {
			_, after, ok := strings.Cut(screen.String(), want)
			if ok && strings.Contains(after, "# ") {
				return true
			}
			if time.Since(last) > 300*time.Millisecond {
				fmt.Fprintf(term, "echo S$(stty size)\n")
				last = time.Now()
			}
			return false
		}, "the container's terminal to be "+want+" and bash to prompt again")
	}
	size("S24 80")
	if err := pty.Setsize(term, &pty.Winsize{Rows: 30, Cols: 100}); err != nil {
		t.Fatal(err)
	}
	size("S30 100")
	fmt.Fprintf(term, "exit 4\n")
	select {
	case err := <-done:
		done <- err
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 4 {
			t.Errorf("boxtui exec after exit 4: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("boxtui exec did not exit after the shell did:\n%s", screen.String())
	}
}
