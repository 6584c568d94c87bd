package mounts

import (
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
)

// mountsAt returns the mounts at target in pid's own mount table (mount
// points as pid sees them), bottom first.
func mountsAt(t *testing.T, pid int, target string) []string {
	t.Helper()
	infos, err := testutil.MountTableOf(pid)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, in := range infos {
		if in.Mountpoint == target {
			out = append(out, in.Root+" "+in.Options)
		}
	}
	return out
}

func listed(t *testing.T, ms []Mount, target string) []Mount {
	t.Helper()
	var out []Mount
	for _, m := range ms {
		if m.Target == target {
			out = append(out, m)
		}
	}
	return out
}

// TestMountIntoHostPIDGoesToThatProcess: a TARGET that is a host PID means
// that process's own mount namespace and root (nsenter -t PID), not its
// init's. The seed's second shell has a mount namespace of its own: a mount
// into it must appear there and not in the init's, and the reverse; the
// list, remount and unmount by its PID act on its table; the records stay
// the container's, each matched only against its own namespace's table.
func TestMountIntoHostPIDGoesToThatProcess(t *testing.T) {
	b := newBox(t, true)
	second := testutil.StartSecondShell(t, b.pid, b.rootfs, "second", "/bin/sleep", "1000")
	cs := b.find(strconv.Itoa(second))
	if cs.PID != b.pid {
		t.Fatalf("PID %d found as container %d, want %d", second, cs.PID, b.pid)
	}
	srcA, srcB := t.TempDir(), t.TempDir()
	for _, d := range []string{srcA, srcB} {
		if err := os.WriteFile(filepath.Join(d, "who"), []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	if err := Add(cs, srcA, "/var/x", AddOptions{}); err != nil {
		t.Fatalf("mount into the second shell: %v", err)
	}
	if got := mountsAt(t, second, "/var/x"); len(got) != 1 {
		t.Fatalf("second shell's mounts at /var/x: %q, want the one just made", got)
	}
	if got := mountsAt(t, b.pid, "/var/x"); len(got) != 0 {
		t.Fatalf("the mount into the second shell landed in the init's namespace: %q", got)
	}
	ms, err := List(cs)
	if err != nil {
		t.Fatal(err)
	}
	if got := listed(t, ms, "/var/x"); len(got) != 1 || !got[0].Managed || got[0].Source != srcA {
		t.Fatalf("mounts of the second shell at /var/x: %+v, want %s managed", got, srcA)
	}
	ms, err = List(b.c)
	if err != nil {
		t.Fatal(err)
	}
	if got := listed(t, ms, "/var/x"); len(got) != 0 {
		t.Fatalf("the init's table lists %+v at /var/x, want nothing", got)
	}

	// The reverse: a mount into the init (by its PID) stays out of the
	// second shell, and neither table takes the other's record for its own.
	if err := Add(b.c, srcB, "/var/x", AddOptions{}); err != nil {
		t.Fatalf("mount into the init: %v", err)
	}
	if got := mountsAt(t, b.pid, "/var/x"); len(got) != 1 {
		t.Fatalf("init's mounts at /var/x: %q, want the one just made", got)
	}
	if got := mountsAt(t, second, "/var/x"); len(got) != 1 {
		t.Fatalf("the mount into the init reached the second shell: %q", got)
	}
	for _, tc := range []struct {
		name string
		ms   func() ([]Mount, error)
		src  string
	}{{"init", func() ([]Mount, error) { return List(b.c) }, srcB}, {"second shell", func() ([]Mount, error) { return List(cs) }, srcA}} {
		ms, err := tc.ms()
		if err != nil {
			t.Fatal(err)
		}
		if got := listed(t, ms, "/var/x"); len(got) != 1 || !got[0].Managed || got[0].Source != tc.src {
			t.Errorf("%s lists %+v at /var/x, want %s managed", tc.name, got, tc.src)
		}
	}

	// remount and umount by the second shell's PID act on its mount only.
	if err := Remount(cs, "/var/x", true); err != nil {
		t.Fatalf("remount in the second shell: %v", err)
	}
	if ms, _ := List(cs); len(listed(t, ms, "/var/x")) != 1 || !listed(t, ms, "/var/x")[0].ReadOnly {
		t.Errorf("second shell's /var/x after remount --ro: %+v", listed(t, ms, "/var/x"))
	}
	if ms, _ := List(b.c); len(listed(t, ms, "/var/x")) != 1 || listed(t, ms, "/var/x")[0].ReadOnly {
		t.Errorf("init's /var/x changed by a remount in the second shell: %+v", listed(t, ms, "/var/x"))
	}
	if err := Remove(cs, "/var/x"); err != nil {
		t.Fatalf("umount in the second shell: %v", err)
	}
	if got := mountsAt(t, second, "/var/x"); len(got) != 0 {
		t.Errorf("second shell still has %q at /var/x", got)
	}
	if got := mountsAt(t, b.pid, "/var/x"); len(got) != 1 {
		t.Errorf("init's /var/x after an umount in the second shell: %q, want it kept", got)
	}
	b.checkRecords("/var/x:read-write") // the init's, from srcB
	if err := Remove(b.c, "/var/x"); err != nil {
		t.Fatalf("umount in the init: %v", err)
	}
	b.checkRecords()
}

// TestMountIntoAHostRootedProcessIsRefused: a process that joined only the
// container's PID namespace (nsenter --pid) has the host's mount namespace
// and root; naming it must not turn a mount "inside the container" into a
// mount on the host's own paths.
func TestMountIntoAHostRootedProcessIsRefused(t *testing.T) {
	b := newBox(t, true)
	cmd := exec.Command("nsenter", fmt.Sprintf("--pid=/proc/%d/ns/pid", b.pid), "--", "sleep", "1000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Skipf("needs util-linux nsenter: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var joined int
	testutil.WaitFor(t, 10*time.Second, func() bool {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		if f := strings.Fields(string(data)); err == nil && len(f) > 0 {
			joined, _ = strconv.Atoi(f[0])
		}
		return joined > 0
	}, "nsenter's child to start")
	t.Cleanup(func() { syscall.Kill(joined, syscall.SIGKILL) })
	c := b.find(strconv.Itoa(joined))
	hostDir, src := t.TempDir(), t.TempDir()
	before, err := testutil.MountsUnder(hostDir)
	if err != nil {
		t.Fatal(err)
	}
	err = Add(c, src, hostDir, AddOptions{})
	if err == nil {
		// It went onto the host: take it away again.
		syscall.Unmount(hostDir, syscall.MNT_DETACH)
	}
	if err == nil || !strings.Contains(err.Error(), "host's mount namespace and root") {
		t.Errorf("mount into host-rooted process %d: %v, want a refusal", joined, err)
	}
	if after, _ := testutil.MountsUnder(hostDir); len(after) != len(before) {
		t.Errorf("host mounts under %s: %v, want none", hostDir, after)
	}
	b.checkRecords()
}
