package discovery_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"boxtui/runtime/discovery"

	"boxtui/internal/testutil"
	"boxtui/runtime/namespace"
	"boxtui/runtime/procfs"
	"boxtui/runtime/state"
)

// containerOfDescendant waits until a container whose init descends from
// ancestor shows up with at least procs processes, and returns it.
func waitContainer(t *testing.T, match func(discovery.Container) bool, what string) (discovery.Snapshot, discovery.Container) {
	t.Helper()
	var snap discovery.Snapshot
	var found discovery.Container
	testutil.WaitFor(t, 10*time.Second, func() bool {
		var err error
		snap, err = discovery.Scan(discovery.ScanOptions{ProcessNamespaces: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range snap.Containers {
			if match(c) {
				found = c
				return true
			}
		}
		return false
	}, what)
	return snap, found
}

func descendsFrom(pid, ancestor int) bool {
	for i := 0; i < 64 && pid > 1; i++ {
		if pid == ancestor {
			return true
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		st, err := procfs.ParseStat(data)
		if err != nil {
			return false
		}
		pid = st.PPid
	}
	return false
}

// kernelNS reads every namespace link of pid straight from the kernel, the
// way `ls -l /proc/PID/ns` does, for comparison with what discovery says.
func kernelNS(t *testing.T, pid int) namespace.Set {
	t.Helper()
	var s namespace.Set
	for _, typ := range namespace.All() {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, typ))
		if err != nil {
			t.Fatalf("readlink ns/%s of %d: %v", typ, pid, err)
		}
		// link looks like "pid:[4026532152]"
		var ino uint64
		if _, err := fmt.Sscanf(link[strings.Index(link, "[")+1:], "%d]", &ino); err != nil {
			t.Fatalf("parse %q: %v", link, err)
		}
		s[typ] = ino
	}
	return s
}

func TestDiscoverUnshareChrootContainer(t *testing.T) {
	testutil.RequireRoot(t)
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	rootfs := testutil.Rootfs(t)
	pid := testutil.StartUnshare(t, rootfs, "/bin/bash", "-c", "/bin/sleep 1000 </etc/passwd & /bin/sleep 1000 </etc/passwd & wait")

	// Wait until both sleeps have exec'd (the shell forks before each exec).
	snap, c := waitContainer(t, func(c discovery.Container) bool {
		n := 0
		for _, p := range c.Procs {
			if p.Command == "/bin/sleep 1000" {
				n++
			}
		}
		return c.PID == pid && c.Processes == 3 && n == 2
	}, "the chroot container with 3 processes")
	if c.Origin != discovery.OriginUnshare || c.Name != "" || c.Status != state.StatusRunning {
		t.Errorf("origin %q name %q status %q", c.Origin, c.Name, c.Status)
	}
	if c.Root != rootfs {
		t.Errorf("root %q, want %q", c.Root, rootfs)
	}
	if !strings.HasPrefix(c.Command, "/bin/bash -c /bin/sleep 1000 </etc/passwd") {
		t.Errorf("command %q", c.Command)
	}
	if got, want := c.Namespaces, kernelNS(t, pid); got != want {
		t.Errorf("init namespaces\n got %v\nwant %v", got, want)
	}
	host := kernelNS(t, os.Getpid())
	if snap.Host != host {
		t.Errorf("host reference %v, want boxtui's own %v", snap.Host, host)
	}
	// --mount-proc gives a private mount namespace; the rest is shared.
	if c.Namespaces[namespace.PID] == host[namespace.PID] || c.Namespaces[namespace.Mnt] == host[namespace.Mnt] {
		t.Errorf("pid and mnt must be the container's own: %v vs host %v", c.Namespaces, host)
	}
	if c.Namespaces[namespace.Net] != host[namespace.Net] || c.Namespaces[namespace.UTS] != host[namespace.UTS] {
		t.Errorf("net and uts must be shared with the host")
	}
	inner := map[int]bool{}
	for _, p := range c.Procs {
		inner[p.InnerPID] = true
		if p.Namespaces != kernelNS(t, p.PID) {
			t.Errorf("process %d namespaces differ from the kernel's", p.PID)
		}
	}
	if c.Procs[0].PID != pid || c.Procs[0].InnerPID != 1 || len(inner) != 3 {
		t.Errorf("procs %+v: want init first with inner PID 1 and 3 distinct inner PIDs", c.Procs)
	}
	if c.Started.IsZero() || time.Since(c.Started) > time.Minute || time.Since(c.Started) < -time.Second {
		t.Errorf("started %v, want about now", c.Started)
	}

	// TARGET resolution: by any host PID inside, and refusal of host PIDs.
	for _, p := range c.Procs {
		got, err := snap.Find(fmt.Sprint(p.PID))
		if err != nil || got.PID != pid {
			t.Errorf("Find(%d) = %d, %v", p.PID, got.PID, err)
		}
	}
	if _, err := snap.Find(fmt.Sprint(os.Getpid())); err == nil || !strings.Contains(err.Error(), "not in a container") {
		t.Errorf("Find(own pid) = %v, want not in a container", err)
	}
	if _, err := snap.Find("999999999"); err == nil || !strings.Contains(err.Error(), "no such process") {
		t.Errorf("Find(missing pid) = %v", err)
	}
	if _, err := snap.Find("nosuchbox"); err == nil || !strings.Contains(err.Error(), `no container named "nosuchbox"`) {
		t.Errorf("Find(missing name) = %v", err)
	}
}

// The seed's second shell: nsenter --pid=... unshare --fork --mount-proc=...
// joins the PID namespace with a mount namespace of its own. Discovery must
// show that difference.
func TestDiscoverSeedSecondShellHasItsOwnMountNamespace(t *testing.T) {
	testutil.RequireRoot(t)
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	rootfs := testutil.Rootfs(t)
	pid := testutil.StartUnshare(t, rootfs, "/bin/sleep", "1000")
	second := testutil.StartGroup(t, "nsenter", fmt.Sprintf("--pid=/proc/%d/ns/pid", pid),
		"unshare", "--fork", "--mount-proc="+filepath.Join(rootfs, "proc"),
		"chroot", rootfs, "/bin/sleep", "999")

	_, c := waitContainer(t, func(c discovery.Container) bool {
		if c.PID != pid {
			return false
		}
		for _, p := range c.Procs {
			if p.Command == "/bin/sleep 999" {
				return true
			}
		}
		return false
	}, "the second shell inside the first container")
	var shell discovery.Process
	for _, p := range c.Procs {
		if p.Command == "/bin/sleep 999" {
			shell = p
		}
	}
	if !descendsFrom(shell.PID, second.Process.Pid) {
		t.Fatalf("process %d is not the nsenter'd one", shell.PID)
	}
	if shell.Namespaces[namespace.PID] != c.Namespaces[namespace.PID] {
		t.Error("second shell must share the pid namespace")
	}
	if shell.Namespaces[namespace.Mnt] == c.Namespaces[namespace.Mnt] || shell.Namespaces[namespace.Mnt] == 0 {
		t.Error("second shell must have its own mnt namespace")
	}
	if shell.Namespaces != kernelNS(t, shell.PID) {
		t.Error("second shell namespaces differ from the kernel's")
	}
	if shell.InnerPID <= 1 {
		t.Errorf("second shell inner PID %d", shell.InnerPID)
	}
}

func TestDiscoverNestedAndPIDOnlyContainers(t *testing.T) {
	testutil.RequireRoot(t)
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	// A PID namespace only: no mount namespace of its own.
	pidOnly := testutil.StartGroup(t, "unshare", "--pid", "--fork", "sleep", "1001")
	// A container inside a container.
	outer := testutil.StartGroup(t, "unshare", "--pid", "--fork", "--mount-proc", "sh", "-c",
		"unshare --pid --fork --mount-proc sleep 1003 & exec sleep 1002")

	snap, po := waitContainer(t, func(c discovery.Container) bool {
		return c.Command == "sleep 1001" && descendsFrom(c.PID, pidOnly.Process.Pid)
	}, "the pid-only container")
	if po.Namespaces[namespace.Mnt] != snap.Host[namespace.Mnt] {
		t.Error("pid-only container must share the host mount namespace")
	}
	if po.Namespaces[namespace.PID] == snap.Host[namespace.PID] {
		t.Error("pid-only container must have its own pid namespace")
	}

	_, inner := waitContainer(t, func(c discovery.Container) bool {
		return c.Command == "sleep 1003" && descendsFrom(c.PID, outer.Process.Pid)
	}, "the nested container")
	snap, out := waitContainer(t, func(c discovery.Container) bool {
		return c.Command == "sleep 1002" && descendsFrom(c.PID, outer.Process.Pid)
	}, "the outer container")
	for _, c := range snap.Containers {
		if c.PID == inner.PID {
			inner = c
		}
	}
	if inner.Parent != out.PID {
		t.Errorf("nested container's parent %d, want the outer init %d", inner.Parent, out.PID)
	}
	if out.Parent != 0 {
		t.Errorf("outer container's parent %d, want 0 (the host)", out.Parent)
	}
	if inner.Namespaces != kernelNS(t, inner.PID) || out.Namespaces != kernelNS(t, out.PID) {
		t.Error("namespaces differ from the kernel's")
	}
	// The outer container's own processes do not include the nested ones.
	for _, p := range out.Procs {
		if p.PID == inner.PID {
			t.Error("nested init listed among the outer container's own processes")
		}
	}
}

func TestScannerReusesCacheAndForgetsExitedProcesses(t *testing.T) {
	testutil.RequireRoot(t)
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	tree := testutil.StartGroup(t, "unshare", "--pid", "--fork", "sleep", "1004")
	s := discovery.NewScanner()
	find := func() (discovery.Container, bool) {
		snap, err := s.Scan(discovery.ScanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range snap.Containers {
			if c.Command == "sleep 1004" && descendsFrom(c.PID, tree.Process.Pid) {
				return c, true
			}
		}
		return discovery.Container{}, false
	}
	testutil.WaitFor(t, 10*time.Second, func() bool { _, ok := find(); return ok }, "the container")
	c1, _ := find()
	c2, ok := find()
	if !ok || c1.PID != c2.PID || c1.Command != c2.Command || c1.Namespaces != c2.Namespaces {
		t.Fatalf("second scan differs: %+v vs %+v", c1, c2)
	}
	syscall.Kill(-tree.Process.Pid, syscall.SIGKILL)
	tree.Wait()
	testutil.WaitFor(t, 10*time.Second, func() bool { _, ok := find(); return !ok }, "the container to disappear")
}
