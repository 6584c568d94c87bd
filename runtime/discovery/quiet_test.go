package discovery

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"boxtui/internal/testutil"
)

// startNS starts unshare --pid --fork args in its own process group and
// kills the group at cleanup.
func startNS(t *testing.T, stdin *os.File, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("unshare", append([]string{"--pid", "--fork"}, args...)...)
	cmd.Stdin = stdin
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", args, err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	return cmd
}

// childOf waits for the first child of pid (unshare's forked init).
func childOf(t *testing.T, pid int) int {
	t.Helper()
	var child int
	testutil.WaitFor(t, 10*time.Second, func() bool {
		if c := testutil.Children(pid); len(c) > 0 {
			child = c[0]
			return true
		}
		return false
	}, "unshare's child")
	return child
}

// forceQuiet makes the next scan skip the /proc listing unless a process is
// created in between, as it would after two full passes on an idle host.
func forceQuiet(s *Scanner) {
	last, _ := s.lastAllocatedPID()
	s.lastPID, s.calm, s.quiet = last, 2, 0
}

func containerOf(snap Snapshot, pid int) (Container, bool) {
	for _, c := range snap.Containers {
		if c.PID == pid {
			return c, true
		}
	}
	return Container{}, false
}

// A pass that skips the /proc listing (nothing was created since the last
// one) must still show a container that ended and a process that exec'd:
// neither creates a process, so neither moves the last PID.
func TestQuietScanSeesExitAndExec(t *testing.T) {
	testutil.RequireRoot(t, "starts real PID namespaces and reads their namespace links")
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	// read is a shell builtin: the exec that follows forks nothing.
	a := startNS(t, r, "sh", "-c", "read x; exec sleep 1007")
	b := startNS(t, nil, "sleep", "1008")
	aInit, bInit := childOf(t, a.Process.Pid), childOf(t, b.Process.Pid)

	s := NewScanner()
	scan := func() Snapshot {
		snap, err := s.Scan(ScanOptions{ProcessNamespaces: true})
		if err != nil {
			t.Fatal(err)
		}
		return snap
	}
	testutil.WaitFor(t, 10*time.Second, func() bool {
		snap := scan()
		_, okA := containerOf(snap, aInit)
		c, okB := containerOf(snap, bInit)
		return okA && okB && c.Command == "sleep 1008"
	}, "both containers")
	if s.ownProc != 1 {
		t.Fatalf("/proc is boxtui's own procfs, but the scanner thinks not")
	}

	if _, err := w.WriteString("go\n"); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(-b.Process.Pid, syscall.SIGKILL)
	quiet := false
	testutil.WaitFor(t, 10*time.Second, func() bool {
		forceQuiet(s)
		snap := scan()
		if s.quiet == 0 {
			return false // something on the host forked: not a quiet pass
		}
		quiet = true
		ca, okA := containerOf(snap, aInit)
		_, okB := containerOf(snap, bInit)
		return okA && ca.Command == "sleep 1007" && !okB
	}, "a quiet pass to show the exec and the exit")
	if !quiet {
		t.Fatal("no pass skipped the listing")
	}
}

// A process created after a quiet pass shows up in the very next scan: its
// PID moves /proc/loadavg's last PID, so that scan lists /proc.
func TestScanAfterQuietPassSeesNewContainer(t *testing.T) {
	testutil.RequireRoot(t, "starts real PID namespaces and reads their namespace links")
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	s := NewScanner()
	for i := 0; i < 3; i++ {
		if _, err := s.Scan(ScanOptions{ProcessNamespaces: true}); err != nil {
			t.Fatal(err)
		}
	}
	forceQuiet(s)
	c := startNS(t, nil, "sleep", "1009")
	init := childOf(t, c.Process.Pid)
	snap, err := s.Scan(ScanOptions{ProcessNamespaces: true})
	if err != nil {
		t.Fatal(err)
	}
	if s.quiet != 0 {
		t.Fatalf("the scan after a fork skipped the /proc listing")
	}
	if _, ok := containerOf(snap, init); !ok {
		t.Fatalf("the container started after a quiet pass (init %d) is missing: %+v", init, snap.Containers)
	}
}

// A procfs that is not boxtui's own (a test's fake, another PID namespace's
// /proc) has a last PID that does not count what it lists: never skip.
func TestQuietPassNeedsOwnProcfs(t *testing.T) {
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	proc := fakeProc(t, 4242, "sleep", "sleep\x001\x00")
	if err := os.WriteFile(proc+"/loadavg", []byte("0.00 0.00 0.00 1/100 4242\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &Scanner{proc: proc, cache: map[int]procCache{}, pidNS: map[int]pidNSCache{}}
	for i := 0; i < 4; i++ {
		if _, err := s.Scan(ScanOptions{}); err != nil {
			t.Fatal(err)
		}
		if s.quiet != 0 {
			t.Fatalf("scan %d of a fake /proc skipped the listing", i)
		}
	}
}

// A reused scanner remembers each init's parent PID namespace: the answer
// from its cache must be the kernel's, pass after pass.
func TestScannerKeepsNestingAcrossPasses(t *testing.T) {
	testutil.RequireRoot(t, "starts real PID namespaces and reads their namespace links")
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	outer := startNS(t, nil, "--mount-proc", "sh", "-c", "unshare --pid --fork --mount-proc sleep 1011 & exec sleep 1010")
	outerInit := childOf(t, outer.Process.Pid)
	s := NewScanner()
	nested := func() (inner, out Container, ok bool) {
		snap, err := s.Scan(ScanOptions{ProcessNamespaces: true})
		if err != nil {
			t.Fatal(err)
		}
		out, okOut := containerOf(snap, outerInit)
		for _, c := range snap.Containers {
			if c.Command == "sleep 1011" && c.Parent != 0 {
				inner = c
			}
		}
		return inner, out, okOut && out.Command == "sleep 1010" && inner.PID != 0
	}
	testutil.WaitFor(t, 10*time.Second, func() bool { _, _, ok := nested(); return ok }, "the nested container")
	for pass := 0; pass < 3; pass++ {
		inner, out, ok := nested()
		if !ok || inner.Parent != out.PID || out.Parent != 0 {
			t.Fatalf("pass %d: inner %d parent %d, outer %d parent %d", pass, inner.PID, inner.Parent, out.PID, out.Parent)
		}
	}
	if len(s.parents) == 0 {
		t.Fatal("the scanner remembered no parent")
	}
}
