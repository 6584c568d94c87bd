package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

func TestWaitForPolls(t *testing.T) {
	start := time.Now()
	WaitFor(t, 2*time.Second, func() bool { return time.Since(start) > 30*time.Millisecond }, "30ms to pass")
}

// TestWaitForFailsWithItsMessage: a condition that never holds fails the
// test, after the timeout and not before, saying what it waited for; it
// was polled more than once on the way.
func TestWaitForFailsWithItsMessage(t *testing.T) {
	polls := 0
	start := time.Now()
	msg := CaptureFailure(t, func(tb testing.TB) {
		WaitFor(tb, 100*time.Millisecond, func() bool { polls++; return false }, "the moon to rise")
		tb.Error("WaitFor returned after its timeout")
	})
	if took := time.Since(start); took < 100*time.Millisecond {
		t.Errorf("failed after %v, before its 100ms timeout", took)
	}
	if want := "timed out after 100ms waiting for the moon to rise"; msg != want {
		t.Errorf("message %q, want %q", msg, want)
	}
	if polls < 2 {
		t.Errorf("condition polled %d times", polls)
	}
}

// TestWaitForStateSaysWhatItLastSaw: the failure names the last state the
// condition reported, not the first.
func TestWaitForStateSaysWhatItLastSaw(t *testing.T) {
	n := 0
	msg := CaptureFailure(t, func(tb testing.TB) {
		WaitForState(tb, 50*time.Millisecond, "n to reach a million", func() (bool, string) {
			n++
			return false, "n is " + strconv.Itoa(n)
		})
	})
	if want := "timed out after 50ms waiting for n to reach a million; last seen: n is " + strconv.Itoa(n); msg != want {
		t.Errorf("message %q, want %q", msg, want)
	}
	if n < 2 {
		t.Errorf("state polled %d times", n)
	}
}

// TestCaptureFailureFailsWhenTheHelperPasses: a capture of a helper that
// does not fail is itself a failure (else a broken failure path would pass
// its test).
func TestCaptureFailureFailsWhenTheHelperPasses(t *testing.T) {
	msg := CaptureFailure(t, func(tb testing.TB) {
		CaptureFailure(tb, func(testing.TB) {})
	})
	if msg != "the helper did not fail" {
		t.Fatalf("message %q", msg)
	}
}

func TestNewMounts(t *testing.T) {
	before, err := HostMounts()
	if err != nil {
		t.Fatal(err)
	}
	if len(before) == 0 {
		t.Fatal("empty mount table")
	}
	if got := NewMounts(before, before); len(got) != 0 {
		t.Fatalf("NewMounts of a table against itself = %v", got)
	}
	if got := NewMounts(before[1:], before); len(got) != 1 || got[0] != before[0].Mountpoint {
		t.Fatalf("NewMounts = %v, want [%s]", got, before[0].Mountpoint)
	}
	// MountTableOf(self) reads the same table as HostMounts, less nothing:
	// compare the two reads, taken again while other test packages (or
	// scripts/churn.sh, whose mounts HostMounts leaves out) change the
	// host's mounts in between.
	var own, want int
	for try := 0; try < 50; try++ {
		before, err = HostMounts()
		if err != nil {
			t.Fatal(err)
		}
		self, err := MountTableOf(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		own, want = 0, len(before)
		for _, m := range self {
			if !strings.HasPrefix(m.Mountpoint, ChurnDirPrefix) {
				own++
			}
		}
		if own == want {
			return
		}
	}
	t.Fatalf("MountTableOf(self) = %d entries besides the churn's; want %d, as HostMounts read", own, want)
}

func TestRootfsShared(t *testing.T) {
	a := Rootfs(t)
	b := Rootfs(t)
	if a != b {
		t.Fatalf("Rootfs built twice: %s and %s", a, b)
	}
	if !strings.Contains(a, strconv.Itoa(os.Getpid())) {
		t.Errorf("shared rootfs %s is not keyed by pid", a)
	}
	if _, err := os.Stat(filepath.Join(a, "bin/sh")); err != nil {
		t.Fatalf("shared rootfs has no /bin/sh: %v", err)
	}
}

func TestStartUnshare(t *testing.T) {
	RequireRoot(t, "starts a PID-namespaced chroot")
	root := Rootfs(t)
	pid := StartUnshare(t, root, "/bin/sleep", "1000")
	if innerPID(pid) != 1 {
		t.Fatalf("init %d has inner PID %d, want 1", pid, innerPID(pid))
	}
	link, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/root")
	if err != nil || link != root {
		t.Fatalf("init root = %q (%v), want %q", link, err, root)
	}
	// The mount of proc happened in unshare's own mount namespace.
	if left, _ := MountsUnder(root); len(left) != 0 {
		t.Fatalf("container mounts visible on the host: %v", left)
	}
	ms, err := MountTableOf(pid)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range ms {
		// Mount points show relative to the chrooted process's own root.
		found = found || (m.Mountpoint == "/proc" && m.FSType == "proc")
	}
	if !found {
		t.Fatalf("container mount table has no /proc: %v", MountPoints(ms))
	}
}

func TestStartUnshareCleanupKillsContainer(t *testing.T) {
	RequireRoot(t, "starts a PID-namespaced chroot")
	root := Rootfs(t)
	var pid int
	var start string
	t.Run("container", func(t *testing.T) {
		pid = StartUnshare(t, root, "/bin/sh", "-c", "sleep 1000 & wait")
		start = startTime(pid)
		if start == "" {
			t.Fatalf("no start time for init %d", pid)
		}
	})
	// The subtest's cleanup has run: the init and its child sleep are gone
	// (a PID reused since would have a different stat line).
	if startTime(pid) == start {
		t.Fatalf("container init %d still running after its test ended", pid)
	}
}

func TestStartUnshareFailsClearly(t *testing.T) {
	RequireRoot(t, "starts a PID-namespaced chroot")
	ft := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		StartUnshare(ft, Rootfs(t), "/no/such/program")
	}()
	<-done
	if !ft.failed || !strings.Contains(ft.msg, "exited before the container started") {
		t.Fatalf("StartUnshare of a missing program: failed=%v msg=%q", ft.failed, ft.msg)
	}
}

// fakeTB records a Fatal instead of failing the real test; Fatal ends the
// goroutine as the testing package does.
type fakeTB struct {
	testing.TB
	failed bool
	msg    string
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = true
	f.msg = strings.TrimSpace(strings.SplitN(sprintf(format, args...), "\n", 2)[0])
	runtimeGoexit()
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func runtimeGoexit() { runtime.Goexit() }

// startTime is field 22 of /proc/PID/stat, "" if the process is gone.
func startTime(pid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	i := strings.LastIndexByte(string(data), ')')
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// TestStatTicks: utime and stime are fields 14 and 15, counted after the
// last ')' of a command name that may hold both parentheses and spaces.
func TestStatTicks(t *testing.T) {
	line := "4242 (a) (b c) S 1 4242 4242 0 -1 4194560 100 0 0 0 37 5 0 0 20 0 1 0 900 1000 50\n"
	if n, err := statTicks([]byte(line)); err != nil || n != 42 {
		t.Fatalf("statTicks = %d, %v; want 42", n, err)
	}
	for _, bad := range []string{"4242 no name", "4242 (x) S 1 2"} {
		if _, err := statTicks([]byte(bad)); err == nil {
			t.Errorf("statTicks(%q) did not fail", bad)
		}
	}
	// Our own ticks only grow while we spin.
	start := CPUTicks(t, os.Getpid())
	WaitFor(t, time.Minute, func() bool {
		for i := 0; i < 1e6; i++ {
			_ = strconv.Itoa(i)
		}
		return CPUTicks(t, os.Getpid()) > start
	}, "this process to use a CPU tick")
}
