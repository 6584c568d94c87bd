package debug

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"
	"boxtui/runtime/enter"

	"golang.org/x/sys/unix"
)

func init() {
	// As cmd/boxtui does: threads that joined a container are thrown away,
	// and the main thread must never be parked in their place.
	runtime.LockOSThread()
}

// TestMain: the test binary is also the debug stage (Start re-executes
// /proc/self/exe; package stage's init runs it).
func TestMain(m *testing.M) {
	code := m.Run()
	if pauseDir != "" {
		os.RemoveAll(pauseDir)
	}
	testutil.Cleanup()
	os.Exit(code)
}

var (
	pauseOnce sync.Once
	pauseDir  string
	pauseErr  error
)

// noShellRoot returns a root filesystem holding one static program,
// /pause, and nothing else: no shell, no libc, no /bin. The directory is
// the test's own (StartUnshare's --mount-proc adds /proc to it).
func noShellRoot(t *testing.T) string {
	t.Helper()
	pauseOnce.Do(func() {
		pauseDir, pauseErr = os.MkdirTemp("", "boxtui-debug-pause-")
		if pauseErr != nil {
			return
		}
		src := filepath.Join(pauseDir, "pause.go")
		pauseErr = os.WriteFile(src, []byte(`package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	<-c
}
`), 0o644)
		if pauseErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(pauseDir, "pause"), src)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			pauseErr = fmt.Errorf("build a static pause: %v\n%s", err, out)
		}
	})
	if pauseErr != nil {
		t.Fatal(pauseErr)
	}
	dir := filepath.Join(t.TempDir(), "root")
	if err := os.MkdirAll(filepath.Join(dir, "proc"), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(pauseDir, "pause"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pause"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// run starts a debug command for target (a host PID) and returns its
// output and exit status.
func run(t *testing.T, target int, opts Options) (string, enter.ExitStatus, error) {
	t.Helper()
	c, err := discovery.FindContainer(strconv.Itoa(target))
	if err != nil {
		t.Fatalf("find target %d: %v", target, err)
	}
	var out testutil.LockedBuffer
	opts.Stdout, opts.Stderr = &out, &out
	p, err := Start(c, opts)
	if err != nil {
		return "", enter.ExitStatus{}, err
	}
	done := make(chan struct{})
	var st enter.ExitStatus
	go func() { st, err = p.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		p.Signal(syscall.SIGKILL)
		<-done
		t.Fatalf("debug command did not end within 30s; output:\n%s", out.String())
	}
	return out.String(), st, err
}

func mountinfo(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// pidsIn lists the host PIDs of the processes in pid namespace link ns.
func pidsIn(ns string) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if l, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && l == ns {
			out = append(out, pid)
		}
	}
	return out
}

// TestDebugContainerWithoutShell is the "done when": a container
// whose root holds one static program gets a shell from the toolbox, in
// its PID, network, IPC and UTS namespaces, with its root at /target, a
// fresh /proc of its PID namespace, and its mount table untouched.
func TestDebugContainerWithoutShell(t *testing.T) {
	testutil.RequireRoot(t, "debug joins namespaces and mounts")
	testutil.PinThread(t)
	root := noShellRoot(t)
	init := testutil.StartUnshare(t, root, "/pause")
	before := mountinfo(t, init)
	tools := testutil.Rootfs(t)

	script := `for n in pid net ipc uts mnt; do echo "ns $n $(readlink /proc/self/ns/$n)"; done
ps -e -o pid=,comm= | while read p c; do echo "ps $p $c"; done
ls /target | while read f; do echo "target $f"; done
echo "pid1 $(cat /proc/1/cmdline)"
echo "root $(stat -c %i /target/pause)"
`
	out, st, err := run(t, init, Options{Tools: tools, Command: []string{"sh", "-c", script}})
	if err != nil || st.Code != 0 {
		t.Fatalf("debug: %v, %s\n%s", err, st, out)
	}
	lines := strings.Split(out, "\n")
	for _, ns := range []string{"pid", "net", "ipc", "uts"} {
		if want := "ns " + ns + " " + testutil.NSLink(t, init, ns); !slices.Contains(lines, want) {
			t.Errorf("the shell is not in the target's %s namespace: want %q in\n%s", ns, want, out)
		}
	}
	for _, other := range []int{init, os.Getpid()} {
		if bad := "ns mnt " + testutil.NSLink(t, other, "mnt"); slices.Contains(lines, bad) {
			t.Errorf("the shell runs in the mount namespace of process %d, not its own:\n%s", other, out)
		}
	}
	if !slices.Contains(lines, "ps 1 pause") {
		t.Errorf("ps does not show the target's init as PID 1 (is /proc the target's?):\n%s", out)
	}
	if !slices.Contains(lines, "target pause") || !slices.Contains(lines, "pid1 /pause") {
		t.Errorf("/target is not the target's root:\n%s", out)
	}
	var st2 unix.Stat_t
	if err := unix.Stat(filepath.Join(root, "pause"), &st2); err != nil || !slices.Contains(lines, fmt.Sprintf("root %d", st2.Ino)) {
		t.Errorf("/target/pause is not the target's file (inode %d):\n%s", st2.Ino, out)
	}
	if after := mountinfo(t, init); after != before {
		t.Errorf("the target's mount table changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	checkNothingLeft(t, init, tools, root)
}

// leakedMounts lists the mounts of boxtui's own namespace that the debug
// namespace would show if it leaked: anything at or below the toolbox or
// the target's root (the scratch tmpfs goes over the toolbox, the copy of
// the target's tree onto /target), a /target, or the toolbox overlay
// (its lower layer is named by /proc/thread-self/fd). Other tests on the
// machine mount and unmount elsewhere all the time; these are ours alone.
func leakedMounts(t *testing.T, dirs ...string) []string {
	t.Helper()
	infos, err := testutil.HostMounts()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range infos {
		ours := strings.HasSuffix(m.Mountpoint, "/target") ||
			(m.FSType == "overlay" && strings.Contains(m.VFSOptions, "lowerdir=/proc/thread-self/fd/"))
		for _, d := range dirs {
			if m.Mountpoint == d || strings.HasPrefix(m.Mountpoint, d+"/") {
				ours = true
			}
		}
		if ours {
			out = append(out, m.Mountpoint+" ("+m.FSType+")")
		}
	}
	return out
}

// checkNothingLeft checks that the target's PID namespace holds its init
// only and that no mount of the debug namespace is in boxtui's.
func checkNothingLeft(t *testing.T, init int, dirs ...string) {
	t.Helper()
	ns := testutil.NSLink(t, init, "pid")
	testutil.WaitFor(t, 5*time.Second, func() bool { return len(pidsIn(ns)) == 1 },
		"a process of the debug shell is left in the target's PID namespace")
	if left := leakedMounts(t, dirs...); len(left) > 0 {
		t.Errorf("debug mounts in boxtui's mount namespace: %v", left)
	}
}

// TestHostPIDTargetsThatProcess: a host PID of a process with mount and
// UTS namespaces of its own (the seed's second shell) is debugged in its
// namespaces, as exec does.
func TestHostPIDTargetsThatProcess(t *testing.T) {
	testutil.RequireRoot(t, "debug joins namespaces and mounts")
	testutil.PinThread(t)
	rootfs := testutil.Rootfs(t)
	init := testutil.StartUnshare(t, rootfs, "/bin/sleep", "1000")
	second := testutil.StartSecondShell(t, init, rootfs, "second", "/bin/sleep", "1001")
	out, st, err := run(t, second, Options{Tools: rootfs, Command: []string{"sh", "-c", "hostname"}})
	if err != nil || st.Code != 0 {
		t.Fatalf("debug: %v, %s\n%s", err, st, out)
	}
	if !strings.HasPrefix(out, "second\n") {
		t.Errorf("hostname is not the second shell's:\n%s", out)
	}
}

// TestUserNamespacedTarget: the user namespace is not needed: the debug
// shell joins a user-namespaced container's other namespaces as host root.
func TestUserNamespacedTarget(t *testing.T) {
	testutil.RequireRoot(t, "debug joins namespaces and mounts")
	testutil.PinThread(t)
	root := noShellRoot(t)
	cmd := exec.Command("unshare", "--user", "--map-root-user", "--pid", "--fork", "--kill-child", "--mount",
		"--uts", "--mount-proc="+filepath.Join(root, "proc"), "chroot", root, "/pause")
	exited, _, err := testutil.StartTied(cmd)
	if err != nil {
		t.Skipf("needs util-linux unshare: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	init := 0
	testutil.WaitFor(t, 10*time.Second, func() bool {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return false
		}
		c, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		init = pid
		return string(c) == "/pause\x00"
	}, "the user-namespaced container did not start")
	if testutil.NSLink(t, init, "user") == testutil.NSLink(t, os.Getpid(), "user") {
		t.Fatal("the container has no user namespace of its own")
	}
	out, st, err := run(t, init, Options{Tools: testutil.Rootfs(t), Command: []string{"sh", "-c", "ps -e -o pid=,comm= | head -1; ls /target"}})
	if err != nil || st.Code != 0 {
		t.Fatalf("debug a user-namespaced container: %v, %s\n%s", err, st, out)
	}
	if !strings.Contains(out, "1 pause") || !strings.Contains(out, "\npause\n") {
		t.Errorf("not in the container's PID namespace with its root at /target:\n%s", out)
	}
}

// TestDebugErrors: the ways it can fail are one line each and say what to
// do; none leaves anything behind.
func TestDebugErrors(t *testing.T) {
	testutil.RequireRoot(t, "debug joins namespaces and mounts")
	testutil.PinThread(t)
	root, bare := noShellRoot(t), noShellRoot(t)
	init := testutil.StartUnshare(t, root, "/pause")
	// A toolbox without a shell.
	_, _, err := run(t, init, Options{Tools: bare})
	if err == nil || !strings.Contains(err.Error(), "no shell in the toolbox") {
		t.Errorf("toolbox without a shell: %v", err)
	}
	_, _, err = run(t, init, Options{Tools: testutil.Rootfs(t), Command: []string{"no-such-tool"}})
	if !errors.Is(err, enter.ErrCommandNotFound) || !strings.Contains(err.Error(), "command no-such-tool not found in the toolbox") {
		t.Errorf("missing command: %v", err)
	}
	_, _, err = run(t, init, Options{Tools: "/nonexistent/tools"})
	if err == nil || !strings.Contains(err.Error(), "toolbox /nonexistent/tools") {
		t.Errorf("missing toolbox: %v", err)
	}
	checkNothingLeft(t, init, root, bare, testutil.Rootfs(t))
}

// TestTargetEndingEndsTheShell: the shell lives in the target's PID
// namespace, so the target's end ends it; no mount or process is left.
func TestTargetEndingEndsTheShell(t *testing.T) {
	testutil.RequireRoot(t, "debug joins namespaces and mounts")
	testutil.PinThread(t)
	root := noShellRoot(t)
	init := testutil.StartUnshare(t, root, "/pause")
	c, err := discovery.FindContainer(strconv.Itoa(init))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start(c, Options{Tools: testutil.Rootfs(t), Command: []string{"sleep", "1000"}})
	if err != nil {
		t.Fatal(err)
	}
	syscall.Kill(init, syscall.SIGKILL)
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		p.Signal(syscall.SIGKILL)
		t.Fatal("the debug command outlived its target's PID namespace")
	}
	if st, _ := p.Wait(); st.Signal != syscall.SIGKILL {
		t.Errorf("debug command ended with %s, want killed by KILL", st)
	}
	if left := leakedMounts(t, root, testutil.Rootfs(t)); len(left) > 0 {
		t.Errorf("debug mounts in boxtui's mount namespace: %v", left)
	}
}
