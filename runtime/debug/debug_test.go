package debug

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime"
	"boxtui/runtime/enter"

	"golang.org/x/sys/unix"
)

func init() {
	// As cmd/boxtui does: threads that joined a container are thrown away,
	// and the main thread must never be parked in their place.
	goruntime.LockOSThread()
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
	c, err := runtime.FindContainer(strconv.Itoa(target))
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

// TestDebugChangesNothingWhileRunning compares the target's and the
// host's mount tables while the debug shell runs, and checks that the
// debug namespace dies with the shell.
func TestDebugChangesNothingWhileRunning(t *testing.T) {
	testutil.RequireRoot(t, "debug joins namespaces and mounts")
	testutil.PinThread(t)
	root, tools := noShellRoot(t), testutil.Rootfs(t)
	init := testutil.StartUnshare(t, root, "/pause")
	before := mountinfo(t, init)
	c, err := runtime.FindContainer(strconv.Itoa(init))
	if err != nil {
		t.Fatal(err)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	p, err := Start(c, Options{Tools: tools, Command: []string{"sh", "-c", "echo ready; read x; echo bye"},
		Stdin: inR, Stdout: outW, Stderr: outW})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Signal(syscall.SIGKILL)
	r := bufio.NewReader(outR)
	line, err := r.ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("debug shell said %q, %v", line, err)
	}
	if during := mountinfo(t, init); during != before {
		t.Errorf("the target's mount table changed while debugging:\nbefore:\n%s\nduring:\n%s", before, during)
	}
	debugNS := testutil.NSLink(t, p.Pid, "mnt")
	table := mountinfo(t, p.Pid)
	for _, want := range []string{" / / ", " /target ", " /proc ", " /dev "} {
		if !strings.Contains(table, want) {
			t.Errorf("debug mount table has no %q:\n%s", want, table)
		}
	}
	if left := leakedMounts(t, tools, root); len(left) > 0 {
		t.Errorf("debug mounts in boxtui's mount namespace while debugging: %v", left)
	}
	inW.Write([]byte("go\n"))
	go io.Copy(io.Discard, r)
	st, err := p.Wait()
	outW.Close()
	if err != nil || st.Code != 0 {
		t.Fatalf("debug shell ended with %s, %v", st, err)
	}
	if after := mountinfo(t, init); after != before {
		t.Errorf("the target's mount table changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// The debug namespace had no process but the shell: nothing holds it.
	if holders := processesIn("mnt", debugNS); len(holders) > 0 {
		t.Errorf("processes %v still hold the debug mount namespace", holders)
	}
	checkNothingLeft(t, init, tools, root)
}

func processesIn(ns, link string) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			if l, err := os.Readlink("/proc/" + e.Name() + "/ns/" + ns); err == nil && l == link {
				out = append(out, pid)
			}
		}
	}
	return out
}

// TestToolboxIsNeverWritten: the shell may write, delete and replace
// anywhere outside /target; the toolbox directory stays as it was.
func TestToolboxIsNeverWritten(t *testing.T) {
	testutil.RequireRoot(t, "debug joins namespaces and mounts")
	testutil.PinThread(t)
	init := testutil.StartUnshare(t, noShellRoot(t), "/pause")
	tools := testutil.FreshRootfs(t)
	snapshot := func() string {
		var b strings.Builder
		filepath.Walk(tools, func(p string, fi os.FileInfo, err error) error {
			if err == nil {
				fmt.Fprintf(&b, "%s %v %d %v\n", p, fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
			}
			return nil
		})
		return b.String()
	}
	before := snapshot()
	script := `echo x > /etc/hostname.new && rm /bin/ls && mkdir -p /opt/new && echo y > /tmp/f && touch /etc && echo wrote`
	out, st, err := run(t, init, Options{Tools: tools, Command: []string{"sh", "-c", script}})
	if err != nil || st.Code != 0 || !strings.Contains(out, "wrote") {
		t.Fatalf("debug: %v, %s\n%s", err, st, out)
	}
	if after := snapshot(); after != before {
		t.Errorf("the toolbox changed")
	}
	// And the next shell starts from the toolbox as it is.
	out, _, err = run(t, init, Options{Tools: tools, Command: []string{"sh", "-c", "test -x /bin/ls && test ! -e /opt/new && echo clean"}})
	if err != nil || !strings.Contains(out, "clean") {
		t.Errorf("a second debug shell saw the first one's changes: %v\n%s", err, out)
	}
}

// TestTargetIsWritableOrReadOnly: /target is read-write (writes land in the
// target's files), and read-only with ReadOnly, without the target's own
// mounts changing either way.
func TestTargetIsWritableOrReadOnly(t *testing.T) {
	testutil.RequireRoot(t, "debug joins namespaces and mounts")
	testutil.PinThread(t)
	root := noShellRoot(t)
	init := testutil.StartUnshare(t, root, "/pause")
	before := mountinfo(t, init)
	out, st, err := run(t, init, Options{Tools: testutil.Rootfs(t), Command: []string{"sh", "-c", "echo hello > /target/note"}})
	if err != nil || st.Code != 0 {
		t.Fatalf("write /target/note: %v, %s\n%s", err, st, out)
	}
	if b, err := os.ReadFile(filepath.Join(root, "note")); err != nil || string(b) != "hello\n" {
		t.Errorf("a write to /target/note did not reach the target's root: %q, %v", b, err)
	}
	out, st, err = run(t, init, Options{Tools: testutil.Rootfs(t), ReadOnly: true,
		Command: []string{"sh", "-c", "echo again > /target/note2"}})
	if err != nil || st.Code == 0 {
		t.Errorf("a write to /target with ReadOnly succeeded (%v, %s):\n%s", err, st, out)
	}
	if _, err := os.Stat(filepath.Join(root, "note2")); err == nil {
		t.Errorf("a write to a read-only /target reached the target")
	}
	if after := mountinfo(t, init); after != before {
		t.Errorf("the target's mount table changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// startChroot starts `unshare --pid --fork chroot ROOT ARGS...`: a
// container in the host's mount namespace, as the seed's first recipe
// makes without --mount-proc. It returns the init's host PID.
func startChroot(t *testing.T, root string, args ...string) int {
	t.Helper()
	cmd := exec.Command("unshare", append([]string{"--pid", "--fork", "--kill-child", "chroot", root}, args...)...)
	exited, _, err := testutil.StartTied(cmd)
	if err != nil {
		t.Skipf("needs util-linux unshare: %v", err)
	}
	init := 0
	t.Cleanup(func() {
		if init > 0 {
			syscall.Kill(init, syscall.SIGKILL)
		}
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	testutil.WaitFor(t, 10*time.Second, func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		if err != nil {
			return false
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return false
		}
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/root", pid)); err != nil || l != root {
			return false
		}
		init = pid
		return true
	}, "the chroot container did not start")
	return init
}

// TestMountsUnderTargetNeverPropagate: the target's root is a shared
// mount (a chroot container in the host's mount namespace, its root a
// shared bind). A copy that kept the peer group would carry a mount made
// under /target back into the host's (and the container's) mount table.
func TestMountsUnderTargetNeverPropagate(t *testing.T) {
	testutil.RequireRoot(t, "debug joins namespaces and mounts")
	testutil.PinThread(t)
	root := noShellRoot(t)
	if err := os.Mkdir(filepath.Join(root, "mnt"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(root, root, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unix.Unmount(filepath.Join(root, "mnt"), unix.MNT_DETACH)
		unix.Unmount(root, unix.MNT_DETACH)
	})
	if err := unix.Mount("", root, "", unix.MS_SHARED, ""); err != nil {
		t.Fatal(err)
	}
	init := startChroot(t, root, "/pause")
	out, st, err := run(t, init, Options{Tools: testutil.Rootfs(t), Command: []string{"sh", "-c",
		"mount -t tmpfs probe /target/mnt && echo mounted && grep -c ' /target/mnt ' /proc/self/mountinfo"}})
	if err != nil || st.Code != 0 || !strings.Contains(out, "mounted") {
		t.Fatalf("mount under /target: %v, %s\n%s", err, st, out)
	}
	if left, _ := testutil.MountsUnder(filepath.Join(root, "mnt")); len(left) > 0 {
		t.Errorf("a mount made under /target reached the host's mount table: %v", left)
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
	c, err := runtime.FindContainer(strconv.Itoa(init))
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

// TestNetworkFilesComeFromTheTarget: the shell is in the target's network
// namespace, so /etc/resolv.conf and /etc/hosts are the target's (copied
// into the overlay, the toolbox untouched). The target controls them: a
// FIFO never hangs the stage, and a symlink out of its root or into proc
// is not followed there: the toolbox's file stays.
func TestNetworkFilesComeFromTheTarget(t *testing.T) {
	testutil.RequireRoot(t, "debug joins namespaces and mounts")
	testutil.PinThread(t)
	tools := testutil.Rootfs(t)
	toolsHosts, err := os.ReadFile(filepath.Join(tools, "etc/hosts"))
	if err != nil {
		t.Fatal(err)
	}
	toolsResolv, _ := os.ReadFile(filepath.Join(tools, "etc/resolv.conf"))

	root := noShellRoot(t)
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A symlink inside the target's root, as systemd images have, is
	// followed there.
	if err := os.MkdirAll(filepath.Join(root, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "run/resolv.conf"), []byte("nameserver 192.0.2.53\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/run/resolv.conf", filepath.Join(root, "etc/resolv.conf")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/hosts"), []byte("192.0.2.7 inside\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	init := testutil.StartUnshare(t, root, "/pause")
	out, st, err := run(t, init, Options{Tools: tools, Command: []string{"cat", "/etc/resolv.conf", "/etc/hosts"}})
	if err != nil || st.Code != 0 || out != "nameserver 192.0.2.53\n192.0.2.7 inside\n" {
		t.Errorf("the debug shell's network files are not the target's: %v, %s\n%s", err, st, out)
	}
	if b, _ := os.ReadFile(filepath.Join(tools, "etc/resolv.conf")); string(b) != string(toolsResolv) {
		t.Errorf("the toolbox's resolv.conf changed")
	}

	hostile := noShellRoot(t)
	if err := os.MkdirAll(filepath.Join(hostile, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(hostile, "etc/resolv.conf"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Out of its root (resolved inside: its own, missing, /etc/passwd)
	// and into its proc.
	if err := os.Symlink("/../../../../../../etc/passwd", filepath.Join(hostile, "etc/hosts")); err != nil {
		t.Fatal(err)
	}
	init = testutil.StartUnshare(t, hostile, "/pause")
	out, st, err = run(t, init, Options{Tools: tools, Command: []string{"cat", "/etc/hosts"}})
	if err != nil || st.Code != 0 || out != string(toolsHosts) {
		t.Errorf("a hostile target's network files: %v, %s; want the toolbox's hosts, got\n%s", err, st, out)
	}
	if err := os.Remove(filepath.Join(hostile, "etc/hosts")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/proc/self/environ", filepath.Join(hostile, "etc/hosts")); err != nil {
		t.Fatal(err)
	}
	out, st, err = run(t, init, Options{Tools: tools, Command: []string{"cat", "/etc/hosts"}})
	if err != nil || st.Code != 0 || out != string(toolsHosts) {
		t.Errorf("hosts -> /proc/self/environ was copied: %v, %s\n%s", err, st, out)
	}
}

// sharedEnv marks the run of the test binary inside a mount namespace whose
// mounts are all shared, as on every systemd host.
const sharedEnv = "BOXTUI_DEBUG_TEST_SHARED_ROOT"

// TestNothingLeaksWhenRootIsShared: on a host whose / is shared (every
// systemd host; not this test VM's), the debug namespace starts as a copy
// in the same peer groups, and every mount the stage made there would
// propagate back unless it made its copy private first. The test runs
// itself again inside `unshare --mount --propagation shared`.
func TestNothingLeaksWhenRootIsShared(t *testing.T) {
	testutil.RequireRoot(t, "debug joins namespaces and mounts")
	if os.Getenv(sharedEnv) == "" {
		if _, err := exec.LookPath("unshare"); err != nil {
			t.Skip("needs util-linux unshare")
		}
		cmd := exec.Command("unshare", "--mount", "--propagation", "shared", os.Args[0],
			"-test.run=^TestNothingLeaksWhenRootIsShared$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), sharedEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestNothingLeaksWhenRootIsShared") {
			t.Fatalf("inside a shared mount namespace: %v\n%s", err, out)
		}
		return
	}
	testutil.PinThread(t)
	if !strings.Contains(mountinfo(t, os.Getpid()), " shared:") {
		t.Fatal("the test's mount namespace has no shared mount")
	}
	root, tools := noShellRoot(t), testutil.Rootfs(t)
	init := testutil.StartUnshare(t, root, "/pause")
	c, err := runtime.FindContainer(strconv.Itoa(init))
	if err != nil {
		t.Fatal(err)
	}
	outR, outW := io.Pipe()
	inR, inW := io.Pipe()
	p, err := Start(c, Options{Tools: tools, Command: []string{"sh", "-c", "echo ready; read x"}, Stdin: inR, Stdout: outW, Stderr: outW})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Signal(syscall.SIGKILL)
	r := bufio.NewReader(outR)
	if line, err := r.ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("debug shell said %q, %v", line, err)
	}
	if left := leakedMounts(t, tools, root); len(left) > 0 {
		t.Errorf("debug mounts propagated into boxtui's shared mount namespace: %v", left)
	}
	inW.Write([]byte("go\n"))
	go io.Copy(io.Discard, r)
	p.Wait()
	outW.Close()
	checkNothingLeft(t, init, tools, root)
}
