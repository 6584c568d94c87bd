package mounts

import (
	"errors"
	"fmt"
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

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// box is a container made for one test, in a root filesystem of its own.
type box struct {
	t      *testing.T
	rootfs string
	pid    int
	c      discovery.Container
	// hostBefore is the test process's mount table when the box started,
	// for leak checks.
	hostBefore []*mountinfo.Info
}

// newBox starts `unshare --pid --fork [--mount-proc] chroot ROOTFS sleep`:
// with ownNS the container has its own mount namespace (as the seed's
// first container), without it shares the test's (the seed's plain chroot).
// State goes to a temporary BOXTUI_RUN_DIR.
func newBox(t *testing.T, ownNS bool) *box {
	t.Helper()
	testutil.RequireRoot(t, "starts containers and mounts into them")
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	testutil.PinThread(t)
	rootfs := testutil.FreshRootfs(t)
	if err := os.MkdirAll(filepath.Join(rootfs, "var/x"), 0o755); err != nil {
		t.Fatal(err)
	}
	before, err := testutil.HostMounts()
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if ownNS {
		pid = testutil.StartUnshare(t, rootfs, "/bin/sleep", "1000")
	} else {
		pid = startSharedNS(t, rootfs)
	}
	b := &box{t: t, rootfs: rootfs, pid: pid, hostBefore: before}
	b.c = b.find(strconv.Itoa(pid))
	return b
}

func (b *box) find(target string) discovery.Container {
	b.t.Helper()
	c, err := discovery.FindContainer(target)
	if err != nil {
		b.t.Fatalf("find container %s: %v", target, err)
	}
	return c
}

// startSharedNS starts a container with no mount namespace of its own and
// returns its init's PID. Its cleanup kills it and detaches (and reports)
// anything still mounted under rootfs, which would otherwise outlive it in
// the test's own mount table.
func startSharedNS(t *testing.T, rootfs string) int {
	t.Helper()
	cmd := exec.Command("unshare", "--pid", "--fork", "--kill-child", "chroot", rootfs, "/bin/sleep", "1000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	var init *os.Process
	t.Cleanup(func() {
		if init != nil {
			init.Kill()
		}
		cmd.Process.Kill()
		<-done
		left, _ := testutil.MountsUnder(rootfs)
		for i := len(left) - 1; i >= 0; i-- {
			unix.Unmount(left[i], unix.MNT_DETACH)
		}
		if len(left) > 0 {
			t.Errorf("mounts left under %s: %v", rootfs, left)
		}
	})
	want := "/bin/sleep\x001000\x00"
	pid := 0
	testutil.WaitFor(t, 10*time.Second, func() bool {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		if err != nil {
			return false
		}
		f := strings.Fields(string(data))
		if len(f) == 0 {
			return false
		}
		pid, _ = strconv.Atoi(f[0])
		cl, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		return err == nil && string(cl) == want
	}, "the shared-namespace container to exec sleep")
	init, _ = os.FindProcess(pid)
	return pid
}

// table is the container's mount table, read from outside.
func (b *box) table() []*mountinfo.Info {
	b.t.Helper()
	infos, err := pidMountinfo(b.pid)
	if err != nil {
		b.t.Fatalf("read mountinfo of %d: %v", b.pid, err)
	}
	return infos
}

// mountAt returns the topmost mount at target in the container's table.
func (b *box) mountAt(target string) *mountinfo.Info {
	b.t.Helper()
	var top *mountinfo.Info
	for _, m := range b.table() {
		if m.Mountpoint == target {
			top = m
		}
	}
	return top
}

func isRO(m *mountinfo.Info) bool { return hasOption(m.Options, "ro") }

// write tries to write a line to path from inside the container, the way a
// person would: nsenter into its mount namespace and root.
func (b *box) write(path string) error {
	out, err := exec.Command("nsenter", "-t", strconv.Itoa(b.pid), "-m", "-r", "-w",
		"sh", "-c", "echo x >> "+path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// read reads a file from inside the container.
func (b *box) read(path string) (string, error) {
	out, err := exec.Command("nsenter", "-t", strconv.Itoa(b.pid), "-m", "-r", "-w", "cat", path).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%v: %s", err, out)
	}
	return string(out), nil
}

// checkHostUnchanged fails the test if the test's own mount table gained
// or lost a mount that concerns this test (under its rootfs, or a bind of
// one of srcs) since the box started. Other tests on the machine may mount
// elsewhere meanwhile; those are ignored.
func (b *box) checkHostUnchanged(srcs ...string) {
	b.t.Helper()
	after, err := testutil.HostMounts()
	if err != nil {
		b.t.Fatal(err)
	}
	concerns := func(m *mountinfo.Info) bool {
		if m.Mountpoint == b.rootfs || strings.HasPrefix(m.Mountpoint, b.rootfs+"/") {
			return true
		}
		for _, s := range srcs {
			if strings.HasPrefix(m.Mountpoint, s) || strings.HasPrefix(m.Root, s) {
				return true
			}
		}
		return false
	}
	key := func(m *mountinfo.Info) string { return m.Mountpoint + " " + m.Root + " " + m.Options }
	count := map[string]int{}
	for _, m := range b.hostBefore {
		if concerns(m) {
			count[key(m)]++
		}
	}
	for _, m := range after {
		if concerns(m) {
			count[key(m)]--
		}
	}
	for k, n := range count {
		if n != 0 {
			b.t.Errorf("host mount table changed: %q (%+d)", k, -n)
		}
	}
}

// checkRecords fails unless the records for the box are exactly want
// (targets with modes, in order).
func (b *box) checkRecords(want ...string) {
	b.t.Helper()
	recs, err := loadRecords(b.find(strconv.Itoa(b.pid)))
	if err != nil {
		b.t.Fatalf("load records: %v", err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%s:%s", r.Target, mode(r.ReadOnly)))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		b.t.Errorf("records = %q, want %q", got, want)
	}
}

// srcDir makes a host directory to mount, with one file in it.
func srcDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello"), []byte("hello from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func wantErr(t *testing.T, err error, target error, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %v", what, target)
	}
	if target != nil && !errors.Is(err, target) {
		t.Fatalf("%s: error %q, want one wrapping %v", what, err, target)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("%s: error is not one line: %q", what, err)
	}
	t.Logf("%s: %v", what, err)
}

func openPathDir(dir string) (int, error) {
	return unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}

// pidMountinfo reads /proc/PID/mountinfo: pid's mount table as pid sees it.
func pidMountinfo(pid int) ([]*mountinfo.Info, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return mountinfo.GetMountsFromReader(f, nil)
}
