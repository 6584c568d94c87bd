package enter

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"
	"boxtui/runtime/namespace"
	"boxtui/runtime/procfs"
	"boxtui/runtime/reexec"

	"golang.org/x/sys/unix"
)

// TestMain lets the test binary serve as boxtui's re-exec'd stages (the
// enter stage and the test's own pivot_root container init) before it runs
// the tests.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && reexec.Is(os.Args[1]) {
		runtime.LockOSThread()
		os.Exit(reexec.Run(os.Args[1], os.Args[2:]))
	}
	code := m.Run()
	testutil.Cleanup()
	os.Exit(code)
}

const pivotStage = reexec.Prefix + "test-pivot-init"

// pivotMarker is a file that exists only in the pivot_root container's own
// mount namespace (on a tmpfs it mounts at /tmp), neither on the host nor
// in the rootfs on disk.
const pivotMarker = "/tmp/only-in-the-container"

func init() { reexec.Register(pivotStage, pivotInit) }

// pivotInit is PID 1 of a container made the way runc makes them: a
// private mount namespace, the rootfs bind-mounted, proc and a tmpfs
// mounted inside, pivot_root into it, the old root detached. Its
// /proc/PID/root then reads "/".
func pivotInit(args []string) int {
	fail := func(what string, err error) int {
		fmt.Fprintf(os.Stderr, "pivot init: %s: %v\n", what, err)
		return 1
	}
	root := args[0]
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fail("make / private", err)
	}
	if err := unix.Sethostname([]byte("pivotbox")); err != nil {
		return fail("sethostname", err)
	}
	if err := unix.Mount(root, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fail("bind rootfs", err)
	}
	if err := unix.Mount("proc", root+"/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fail("mount proc", err)
	}
	if err := unix.Mount("tmpfs", root+"/tmp", "tmpfs", 0, "size=1m"); err != nil {
		return fail("mount tmpfs", err)
	}
	if err := os.WriteFile(root+pivotMarker, []byte("pivot marker\n"), 0o644); err != nil {
		return fail("write marker", err)
	}
	if err := unix.Chdir(root); err != nil {
		return fail("chdir rootfs", err)
	}
	// pivot_root(".", ".") stacks the old root under the new one; the
	// detach below removes it, with no put_old directory needed.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fail("pivot_root", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fail("detach old root", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fail("chdir /", err)
	}
	err := unix.Exec("/bin/sleep", []string{"/bin/sleep", "1000"}, []string{"PATH=/bin:/usr/bin"})
	return fail("exec sleep", err)
}

// startPivot starts a pivot_root container on rootfs and returns its init's
// host PID; cleanup kills it.
func startPivot(t *testing.T, rootfs string) int {
	t.Helper()
	cmd := exec.Command("/proc/self/exe", pivotStage, rootfs)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC,
		Pdeathsig:  syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pivot_root container: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	pid := cmd.Process.Pid
	testutil.WaitFor(t, 10*time.Second, func() bool {
		select {
		case <-exited:
			t.Fatalf("pivot_root container exited early: %s", out.String())
		default:
		}
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		return strings.TrimSpace(string(comm)) == "sleep"
	}, "the pivot_root container to exec sleep")
	return pid
}

// checkNoMountLeak fails the test if, at cleanup, a mount under dir exists
// that did not before.
func checkNoMountLeak(t *testing.T, dir string) {
	t.Helper()
	before, err := testutil.MountsUnder(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		after, err := testutil.MountsUnder(dir)
		if err != nil {
			t.Error(err)
			return
		}
		if strings.Join(after, "\n") != strings.Join(before, "\n") {
			t.Errorf("mounts under %s changed: before %q, after %q", dir, before, after)
		}
	})
}

// start starts opts in c and makes sure the process is killed and reaped
// by the end of the test.
func start(t *testing.T, c discovery.Container, opts Options) *Process {
	t.Helper()
	p, err := Start(c, opts)
	if err != nil {
		t.Fatalf("Start(%d, %q): %v", c.PID, opts.Command, err)
	}
	t.Cleanup(func() {
		p.Signal(syscall.SIGKILL)
		waitDone(t, p)
		if p.Master != nil {
			p.Master.Close()
		}
	})
	return p
}

// run runs argv in c to the end and returns its combined output.
func run(t *testing.T, c discovery.Container, opts Options) (string, ExitStatus) {
	t.Helper()
	out := &testutil.LockedBuffer{}
	opts.Stdout, opts.Stderr = out, out
	p := start(t, c, opts)
	st := waitDone(t, p)
	return out.String(), st
}

func waitDone(t *testing.T, p *Process) ExitStatus {
	t.Helper()
	select {
	case <-p.Done():
	case <-time.After(20 * time.Second):
		t.Fatalf("process %d did not exit within 20s", p.Pid)
	}
	st, err := p.Wait()
	if err != nil {
		t.Errorf("wait for process %d: %v", p.Pid, err)
	}
	return st
}

// rootID identifies the directory a process's root is: its device and
// inode, read through the kernel's magic link.
func rootID(t *testing.T, pid int) [2]uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(fmt.Sprintf("/proc/%d/root/", pid), &st); err != nil {
		t.Fatalf("stat root of %d: %v", pid, err)
	}
	return [2]uint64{st.Dev, st.Ino}
}

// assertJoined proves from outside, with the kernel's own links, that
// process pid shares the listed namespaces and the root of init.
func assertJoined(t *testing.T, init, pid int, types ...namespace.Type) {
	t.Helper()
	want, err := namespace.Read(init)
	if err != nil {
		t.Fatal(err)
	}
	got, err := namespace.Read(pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, ty := range types {
		if got[ty] == 0 || got[ty] != want[ty] {
			t.Errorf("%s namespace of exec'd process %d = %d; want the init's %d", ty, pid, got[ty], want[ty])
		}
	}
	linkInit, _ := os.Readlink(fmt.Sprintf("/proc/%d/root", init))
	linkPid, _ := os.Readlink(fmt.Sprintf("/proc/%d/root", pid))
	if linkInit == "" || linkInit != linkPid {
		t.Errorf("root of exec'd process reads %q; the init's reads %q", linkPid, linkInit)
	}
	if a, b := rootID(t, init), rootID(t, pid); a != b {
		t.Errorf("root of exec'd process is dev/ino %v; the init's is %v", b, a)
	}
}

// innerPIDOf reads the PID a host process has inside its own namespace.
func innerPIDOf(t *testing.T, pid int) int {
	t.Helper()
	st, ok := readStatus(pid)
	if !ok {
		t.Fatalf("read status of %d", pid)
	}
	return st.InnerPID()
}

// psHasInit reports whether `ps ax -o pid=,comm=` output lists comm as
// PID 1.
func psHasInit(out, comm string) bool {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "1" && f[1] == comm {
			return true
		}
	}
	return false
}

// pidOfComm finds the PID of comm in `ps ax -o pid=,comm=` output.
func pidOfComm(out, comm string) int {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[1] == comm {
			n, _ := strconv.Atoi(f[0])
			return n
		}
	}
	return 0
}

// rootfsParent is the directory to watch for leaked mounts.
func rootfsParent(rootfs string) string { return filepath.Dir(rootfs) }

// startChrootOnly starts `unshare --pid --fork chroot ROOTFS sleep 1000`: a
// container with its own PID namespace but the host's mount namespace, the
// plainest chroot there is. It returns the init's host PID.
func startChrootOnly(t *testing.T, rootfs string) int {
	t.Helper()
	cmd := exec.Command("unshare", "--pid", "--fork", "--kill-child", "chroot", rootfs, "/bin/sleep", "1000")
	var out testutil.LockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	init := 0
	t.Cleanup(func() {
		if init > 0 {
			syscall.Kill(init, syscall.SIGKILL)
		}
		cmd.Process.Kill()
		<-exited
	})
	testutil.WaitFor(t, 10*time.Second, func() bool {
		select {
		case <-exited:
			t.Fatalf("%s exited early: %s", cmd, out.String())
		default:
		}
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		init, _ = strconv.Atoi(strings.TrimSpace(string(data)))
		if init <= 0 {
			return false
		}
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", init))
		return strings.TrimSpace(string(comm)) == "sleep"
	}, "the chroot container to exec sleep")
	return init
}

func readStatus(pid int) (procfs.Status, bool) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procfs.Status{}, false
	}
	defer f.Close()
	st, err := procfs.ParseStatus(f)
	return st, err == nil
}
