package stage0

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/containerenv"

	"golang.org/x/sys/unix"
)

// TestLookPathInside: the init finds a bare name in containerenv.Path
// only (the command's environment does not choose), takes a name with a
// slash as it is (exec then says what is wrong), and quotes as the C init.
func TestLookPathInside(t *testing.T) {
	exe := uint32(unix.S_IFREG | 0o755)
	stat := func(files map[string]uint32) containerenv.StatFunc {
		return func(name string) (uint32, error) {
			if m, ok := files[name]; ok {
				return m, nil
			}
			return 0, unix.ENOENT
		}
	}(map[string]uint32{"/bin/sh": exe, "/usr/local/bin/sh": exe, "/opt/bin/tool": exe, "/sbin/data": unix.S_IFREG | 0o644})
	for _, tc := range []struct {
		cmd, want, err string
	}{
		{"sh", "/usr/local/bin/sh", ""},
		{"/opt/bin/tool", "/opt/bin/tool", ""},
		{"./nope", "./nope", ""},
		{"tool", "", `command not found: "tool" is not in the container's PATH`},
		{"data", "", `command not found: "data" is not in the container's PATH`},
		{"", "", `command not found: "" is not in the container's PATH`},
		{"nö\x01", "", `command not found: "n\u00f6\x01" is not in the container's PATH`},
	} {
		got, err := lookPathInside(tc.cmd, stat)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("lookPathInside(%q) = %q, %v; want %q, %q", tc.cmd, got, err, tc.want, tc.err)
		}
	}
}

// TestOpenDirInRoot: /proc and /dev of a rootfs are found with every
// symlink resolved inside it, created when missing, and a link that
// leads out (or nowhere) never reaches the host's files.
func TestOpenDirInRoot(t *testing.T) {
	root := t.TempDir()
	hostDir := filepath.Join(t.TempDir(), "host-only")
	for _, d := range []string{"etc", "real"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for link, to := range map[string]string{"up": "../../../../real", "abs": "/real", "out": hostDir, "self": "/proc/self/cwd"} {
		if err := os.Symlink(to, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	rootfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rootfd)
	ino := func(fd int) uint64 {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}
	var real unix.Stat_t
	if err := unix.Stat(filepath.Join(root, "real"), &real); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"up", "abs"} {
		fd, err := openDirInRoot(rootfd, name)
		if err != nil {
			t.Fatalf("openDirInRoot(%s): %v", name, err)
		}
		if ino(fd) != real.Ino {
			t.Errorf("%s -> %s did not resolve inside the root", name, name)
		}
		unix.Close(fd)
	}
	fd, err := openDirInRoot(rootfd, "proc")
	if err != nil {
		t.Fatalf("a missing /proc: %v", err)
	}
	unix.Close(fd)
	if fi, err := os.Lstat(filepath.Join(root, "proc")); err != nil || !fi.IsDir() || fi.Mode().Perm()&^0o755 != 0 {
		t.Errorf("/proc was not created as a directory: %v %v", fi, err)
	}
	if _, err := openDirInRoot(rootfd, "out"); err == nil || err.Error() != "open /out in the rootfs: no such file or directory" {
		t.Errorf("a link out of the root: %v", err)
	}
	if _, err := os.Lstat(hostDir); !os.IsNotExist(err) {
		t.Errorf("a link out of the root made %s on the host (%v)", hostDir, err)
	}
	if _, err := openDirInRoot(rootfd, "self"); err == nil {
		t.Errorf("a magic link was followed")
	}
}

// TestInitRefusesOutsideItsNamespaces: __boxtui-init anywhere but PID 1 of
// a holder's fresh namespaces, with its pipes, does nothing and says why
// (initstage.c leaves that case to init.go).
func TestInitRefusesOutsideItsNamespaces(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"", "go"} {
		cmd := exec.Command(self, InitStage, "/", "h", "0", "/bin/true")
		cmd.Env = append(os.Environ(), "BOXTUI_INIT_STAGE="+mode)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 || stdout.Len() != 0 ||
			stderr.String() != "boxtui: __boxtui-init is internal to boxtui run; it only runs as a container's init\n" {
			t.Errorf("BOXTUI_INIT_STAGE=%q: %v, stdout %q, stderr %q", mode, err, stdout.String(), stderr.String())
		}
	}
}

// initRun is what an init stage did: its messages on the ready pipe (the
// 'R', then an 'E' with its error or an 'A'), the command's output, its
// stderr and exit status.
type initRun struct {
	ready, stdout, stderr string
	status                int
}

// runInit starts this test binary as a container's init, as a holder
// does (new PID, mount, UTS and IPC namespaces, fds 3 and 4 its pipes),
// on the C path (mode "") or init.go's (mode "go"), and sends the go byte
// once it is ready unless abandon. GODEBUG=inittrace=1 makes a Go runtime
// say on stderr that it started: the C path must have none.
func runInit(t *testing.T, mode string, cfg Config, abandon bool) initRun {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	goR, goW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"GOMAXPROCS=1", "GODEBUG=inittrace=1"}
	if mode != "" {
		env = append(env, "BOXTUI_INIT_STAGE="+mode)
	}
	pid, err := syscall.ForkExec(self, InitArgs(cfg), &syscall.ProcAttr{
		Dir:   "/",
		Env:   env,
		Files: []uintptr{null.Fd(), outW.Fd(), errW.Fd(), readyW.Fd(), goR.Fd()},
		Sys: &syscall.SysProcAttr{
			Cloneflags: unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC,
			Setsid:     true,
			Pdeathsig:  syscall.SIGKILL,
		},
	})
	for _, f := range []*os.File{null, outW, errW, readyW, goR} {
		f.Close()
	}
	if err != nil {
		t.Fatalf("start the init: %v", err)
	}
	reaped := false
	defer func() {
		if !reaped {
			unix.Kill(pid, unix.SIGKILL)
			var ws unix.WaitStatus
			unix.Wait4(pid, &ws, 0, nil)
		}
		for _, f := range []*os.File{readyR, goW, outR, errR} {
			f.Close()
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for _, f := range []*os.File{readyR, outR, errR} {
		f.SetReadDeadline(deadline)
	}
	var run initRun
	first := make([]byte, 1)
	if n, _ := readyR.Read(first); n == 1 {
		run.ready = string(first)
		if first[0] == InitReady && !abandon {
			goW.Write([]byte{'g'})
		}
	}
	goW.Close()
	rest, err := io.ReadAll(readyR)
	if err != nil {
		t.Fatalf("read the ready pipe: %v", err)
	}
	run.ready += string(rest)
	stdout, err := io.ReadAll(outR)
	if err != nil {
		t.Fatalf("read the command's output: %v", err)
	}
	stderr, err := io.ReadAll(errR)
	if err != nil {
		t.Fatalf("read the init's stderr: %v", err)
	}
	run.stdout, run.stderr = string(stdout), string(stderr)
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil {
		t.Fatalf("wait for the init: %v", err)
	}
	reaped = true
	run.status = ws.ExitStatus()
	return run
}

func (r initRun) String() string {
	short := func(s string) string {
		if len(s) > 300 {
			return fmt.Sprintf("%+q...%+q (%d bytes)", s[:150], s[len(s)-150:], len(s))
		}
		return fmt.Sprintf("%+q", s)
	}
	return fmt.Sprintf("ready %s, stdout %s, stderr %s, status %d", short(r.ready), short(r.stdout), short(r.stderr), r.status)
}

// goStarted reports whether the stderr of an init holds the Go runtime's
// init trace (GODEBUG=inittrace=1), and returns the rest.
func goStarted(stderr string) (bool, string) {
	started := false
	var rest []string
	for _, l := range strings.SplitAfter(stderr, "\n") {
		if strings.HasPrefix(l, "init ") {
			started = true
			continue
		}
		rest = append(rest, l)
	}
	return started, strings.Join(rest, "")
}

// TestInitStagesAgree runs each case through initstage.c and init.go, as
// PID 1 of fresh namespaces, and wants the same bytes from both: on the
// ready pipe (what the holder shows the user), from the command, and the
// same exit status.
func TestInitStagesAgree(t *testing.T) {
	testutil.RequireRoot(t, "the init stage makes namespaces, mounts and pivots")
	if !cgoBuild {
		t.Skip("built without cgo: there is no C init stage to compare")
	}
	rootfs := testutil.Rootfs(t)
	long := strings.Repeat("x", 5000) // its message passes what one read of the holder takes
	// Roots that fail the mounts: /proc a file; /dev a link to nowhere;
	// nothing at all (proc and dev are made, then no command is found).
	procFile, devLink, empty := t.TempDir(), t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(procFile, "proc"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/nonexistent-boxtui-dev", filepath.Join(devLink, "dev")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		cfg   Config
		ready string // the holder's part, when the case pins it
	}{
		{"runs", Config{Rootfs: rootfs, Hostname: "box", Env: []string{"A=1", "HOSTNAME=mine"},
			Command: []string{"sh", "-c", `echo "$HOSTNAME $A $PATH"; hostname; ls /dev /dev/pts; readlink /dev/ptmx /dev/fd; cat /proc/1/cmdline; echo; umask; ls /proc/self/fd; echo $$`}}, "R"},
		{"command not found", Config{Rootfs: rootfs, Hostname: "h", Command: []string{"nope"}},
			`RE` + `command not found: "nope" is not in the container's PATH`},
		{"command not found, quoted", Config{Rootfs: rootfs, Hostname: "h", Command: []string{"n\u00f6\x01\"\xff\U0001F600"}},
			`RE` + `command not found: "n\u00f6\x01\"\xff\U0001f600" is not in the container's PATH`},
		{"a long command not found", Config{Rootfs: rootfs, Hostname: "h", Command: []string{long}}, ""},
		{"exec fails", Config{Rootfs: rootfs, Hostname: "h", Command: []string{"/dev"}}, "REexec /dev: permission denied"},
		{"exec of a missing path", Config{Rootfs: rootfs, Hostname: "h", Command: []string{"/nope/x"}}, "REexec /nope/x: no such file or directory"},
		{"hostname too long", Config{Rootfs: rootfs, Hostname: strings.Repeat("h", 65) + "\u00e9", Command: []string{"true"}},
			`Eset hostname "` + strings.Repeat("h", 65) + `\u00e9": invalid argument`},
		{"no rootfs", Config{Rootfs: "/nonexistent-boxtui-rootfs", Hostname: "h", Command: []string{"true"}},
			"Ebind rootfs onto itself /nonexistent-boxtui-rootfs: no such file or directory"},
		{"abandoned", Config{Rootfs: rootfs, Hostname: "h", Command: []string{"true"}}, "RA"},
		{"/proc is a file", Config{Rootfs: procFile, Hostname: "h", Command: []string{"true"}},
			"Eopen /proc in the rootfs: not a directory"},
		{"/dev leads nowhere", Config{Rootfs: devLink, Hostname: "h", Command: []string{"true"}},
			"Eopen /dev in the rootfs: no such file or directory"},
		{"an empty root", Config{Rootfs: empty, Hostname: "h", Command: []string{"sh"}},
			`RE` + `command not found: "sh" is not in the container's PATH`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := runInit(t, "", tc.cfg, tc.name == "abandoned")
			g := runInit(t, "go", tc.cfg, tc.name == "abandoned")
			if cgo, _ := goStarted(c.stderr); cgo {
				t.Fatalf("the C init stage did not run: Go started (stderr %q)", c.stderr)
			}
			gogo, rest := goStarted(g.stderr)
			if !gogo {
				t.Fatalf("BOXTUI_INIT_STAGE=go: no Go runtime started (stderr %q)", g.stderr)
			}
			g.stderr = rest
			if c != g {
				t.Fatalf("the init stages differ:\nC:  %+q\nGo: %v", c, g)
			}
			if tc.ready != "" && c.ready != tc.ready {
				t.Errorf("ready pipe %+q, want %+q", c.ready, tc.ready)
			}
			if c.ready == "R" && c.status != 0 {
				t.Errorf("the command exited %d: %v", c.status, c)
			}
			if tc.name == "a long command not found" && len(c.ready) != 1+4096 {
				t.Errorf("a long message: %d bytes on the ready pipe, want the 4096 the holder reads", len(c.ready))
			}
		})
	}
	if _, err := os.Lstat("/nonexistent-boxtui-dev"); !os.IsNotExist(err) {
		t.Errorf("a rootfs's /dev link made /nonexistent-boxtui-dev on the host (%v)", err)
	}
}

// TestInitRootIsTheRootfs: the command is PID 1 (the init exec'd it) and
// sees the rootfs as /, with its own proc, /dev and devpts, and no other
// mount: the host's tree is detached.
func TestInitRootIsTheRootfs(t *testing.T) {
	testutil.RequireRoot(t, "the init stage makes namespaces, mounts and pivots")
	rootfs := testutil.Rootfs(t)
	for _, mode := range []string{"", "go"} {
		r := runInit(t, mode, Config{Rootfs: rootfs, Hostname: "h", Command: []string{"sh", "-c",
			"echo $$; cat /proc/mounts | while read dev dir rest; do echo $dir; done"}}, false)
		if want := "1\n/\n/proc\n/dev\n/dev/pts\n"; r.stdout != want || r.ready != "R" {
			t.Errorf("BOXTUI_INIT_STAGE=%q: %v, want the command as PID 1 with mounts / /proc /dev /dev/pts only and the host's /tmp unreachable", mode, r)
		}
	}
}
