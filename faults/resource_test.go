package faults

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/state"
	"boxtui/ui/e2e"

	"golang.org/x/sys/unix"
)

// answersWithin runs boxtui and fails unless it exits 0 within limit.
func (c *cli) answersWithin(limit time.Duration, args ...string) string {
	c.t.Helper()
	began := time.Now()
	out := c.mustRun(args...)
	if took := time.Since(began); took > limit {
		c.t.Errorf("boxtui %s took %v, want under %v", strings.Join(args, " "), took, limit)
	}
	return out
}

// uiShows starts the UI and checks it lists name and quits promptly.
func (c *cli) uiShows(name string) {
	c.t.Helper()
	s := e2e.Start(c.t, e2e.Options{KeepOpen: true, Env: []string{"BOXTUI_RUN_DIR=" + c.runDir, "BOXTUI_LOG=" + c.runDir + "/actions.log"}}, c.bin)
	s.Wait(name, 10*time.Second)
	s.Keys("q")
	s.Wait("EXIT=0", 5*time.Second)
}

// A container that forks a flood of processes (bounded here, so the host
// survives the test) slows nothing down that must stay responsive:
// ls, ps and the UI still answer within seconds, and one kill of its init
// takes every process with it.
func TestProcessFloodDoesNotHangListOrUI(t *testing.T) {
	c := newCLI(t)
	// Two loops of 500 sleeps: forks run at a few hundred a second on a
	// busy 2-core machine, and the CI budget is minutes for the suite.
	const n = 1000
	ct := c.detached("flood", testutil.Rootfs(t), "/bin/sh", "-c",
		"spawn() { i=0; while [ $i -lt 500 ]; do sleep 1000 & i=$((i+1)); done; wait; }; spawn & spawn & wait")
	testutil.WaitFor(t, 60*time.Second, func() bool {
		got, ok := find(c.ls(false), "flood")
		return ok && got.Processes > n
	}, "the container to have 1000 processes")
	c.answersWithin(5*time.Second, "ls", "--json")
	c.answersWithin(5*time.Second, "ps", "--json", "flood")
	c.uiShows("flood")
	c.mustRun("kill", "-s", "KILL", "flood")
	testutil.WaitFor(t, 30*time.Second, func() bool { return !alive(ct.PID) }, "the flood to be killed")
}

// A container that fills its own disk: ls and the UI still answer, and
// boxtui can still enter it (nothing boxtui needs lives on that disk).
func TestFullDiskDoesNotHangListOrUI(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()
	if err := unix.Mount("boxtui-full", dir, "tmpfs", 0, "size=40m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	rootfs := filepath.Join(dir, "rootfs")
	if out, err := exec.Command("cp", "-a", testutil.Rootfs(t), rootfs).CombinedOutput(); err != nil {
		t.Fatalf("copy rootfs: %v: %s", err, out)
	}
	c.detached("full", rootfs, "/bin/sh", "-c", "cat /dev/zero > /fill; echo full; exec sleep 1000")
	testutil.WaitFor(t, 20*time.Second, func() bool {
		var st unix.Statfs_t
		return unix.Statfs(rootfs, &st) == nil && st.Bavail == 0
	}, "the container's disk to fill")
	c.answersWithin(5*time.Second, "ls", "--json")
	c.uiShows("full")

	if out, _, code := c.run("exec", "full", "--", "/bin/echo", "still-here"); code != 0 || !strings.Contains(out, "still-here") {
		t.Errorf("exec into a container with a full disk: exit %d, %q", code, out)
	}
}

// boxtui's own state directory on a full filesystem: a launch fails with a
// clear one-line error and leaves no process and no state.
func TestFullStateDirectoryFailsLaunchCleanly(t *testing.T) {
	c := newCLI(t)
	if err := unix.Mount("boxtui-state-full", c.runDir, "tmpfs", 0, "size=64k,mode=0700"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(c.runDir, unix.MNT_DETACH) })
	// Fill it up, leaving no block for a state file.
	fill, err := os.Create(filepath.Join(c.runDir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		if _, err := fill.Write(buf); err != nil {
			break
		}
	}
	fill.Close()
	os.Remove(filepath.Join(c.runDir, "actions.log"))
	mark := marker()
	_, errOut, code := c.run("run", "-d", "--name", "nospace", "--rootfs", testutil.Rootfs(t), "--", "/bin/sleep", "1000", mark)
	if code == 0 {
		c.run("rm", "-f", "nospace")
		t.Fatal("run succeeded with no space for its state")
	}
	t.Logf("run with no space for its state: %s", strings.TrimSpace(errOut))
	if line := strings.TrimSpace(errOut); strings.Count(line, "\n") != 0 || !strings.Contains(line, "nospace") {
		t.Errorf("run with no space for state: %q, want one line naming the container", errOut)
	}
	testutil.WaitFor(t, 5*time.Second, func() bool { return len(processesWith(mark)) == 0 }, "no process of the failed launch")
	if names := stateNames(t, c.runDir); len(names) != 0 {
		t.Errorf("state left: %v", names)
	}
	if _, err := state.Load("nospace"); err == nil {
		t.Error("state of the failed launch is readable")
	}
}
