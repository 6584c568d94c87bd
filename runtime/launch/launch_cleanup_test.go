// A launch that fails, races or is interrupted leaves no state, process or
// mount behind.

package launch

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"
	"boxtui/runtime/procfs"
	"boxtui/runtime/signals"
	"boxtui/runtime/state"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

func TestBadInputLeavesNothing(t *testing.T) {
	rootfs := setup(t)
	launch(t, Options{Name: "taken", Rootfs: rootfs, Command: []string{"/bin/sleep", "1000"}})
	empty := t.TempDir()
	cases := []struct {
		name string
		opts Options
		want error
		text string
	}{
		{"missing rootfs", Options{Rootfs: filepath.Join(empty, "nope")}, ErrNoRootfs, "boxtui rootfs create"},
		// An empty directory has no shell either: not "e.g. -- /bin/sh".
		{"rootfs without the command", Options{Rootfs: empty}, ErrNoCommand, "has no shell either: is it a root filesystem?"},
		{"command not in rootfs", Options{Rootfs: rootfs, Command: []string{"/bin/nope"}}, ErrNoCommand, "/bin/nope\" is not an executable file in " + rootfs + " (pass a command the rootfs has, e.g. -- /bin/"},
		{"name taken", Options{Name: "taken", Rootfs: rootfs}, state.ErrNameTaken, "taken"},
		{"invalid name", Options{Name: "../x", Rootfs: rootfs}, nil, "invalid name"},
		{"bad env", Options{Rootfs: rootfs, Env: []string{"NOEQUALS"}}, nil, "KEY=VALUE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(tc.opts)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.text) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want one line mentioning %q", err, tc.text)
			}
			if names := stateNames(t); len(names) != 1 || names[0] != "taken" {
				t.Errorf("state left behind: %v", names)
			}
		})
	}
}

// A failing Prepare aborts the launch: the init never runs the command, and
// state, process and mounts are gone when Run returns.
func TestPrepareFailureLeavesNothing(t *testing.T) {
	rootfs := setup(t)
	before, _ := testutil.HostMounts()
	var initPID int
	_, err := Run(Options{Name: "prep", Rootfs: rootfs, Command: []string{"/bin/sleep", "1000"},
		Prepare: func(pid int) error {
			initPID = pid
			return errors.New("no such volume")
		}})
	if err == nil || !strings.Contains(err.Error(), "no such volume") {
		t.Fatalf("Run: %v, want the prepare error", err)
	}
	testutil.WaitFor(t, 5*time.Second, func() bool { return !exists(initPID) }, "the init to be gone")
	if names := stateNames(t); len(names) != 0 {
		t.Errorf("state left behind: %v", names)
	}
	after, _ := testutil.HostMounts()
	assertNoNewMounts(t, before, after, rootfs)
}

// The holder dies during the launch: the client kills the init and removes
// the state itself.
func TestHolderDeathDuringLaunchLeavesNothing(t *testing.T) {
	rootfs := setup(t)
	var initPID int
	_, err := Run(Options{Name: "orphan", Rootfs: rootfs, Command: []string{"/bin/sleep", "1000"},
		Prepare: func(pid int) error {
			initPID = pid
			data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if err != nil {
				return err
			}
			st, err := procfs.ParseStat(data) // the init's parent is the holder
			if err != nil {
				return err
			}
			return signals.Send(st.PPid, 0, unix.SIGKILL)
		}})
	if err == nil {
		t.Fatal("Run succeeded without its holder")
	}
	testutil.WaitFor(t, 5*time.Second, func() bool { return !exists(initPID) }, "the init to be gone")
	if names := stateNames(t); len(names) != 0 {
		t.Errorf("state left behind: %v", names)
	}
}

func TestTwoRunsForOneNameOneWins(t *testing.T) {
	rootfs := setup(t)
	const racers = 4
	var wg sync.WaitGroup
	results := make([]error, racers)
	containers := make([]*Container, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			containers[i], results[i] = Run(Options{Name: "race", Rootfs: rootfs, Command: []string{"/bin/sleep", "1000"}})
		}()
	}
	wg.Wait()
	wins := 0
	for i, err := range results {
		if err == nil {
			wins++
			c := containers[i]
			t.Cleanup(func() {
				signals.Send(c.InitPID, c.InitStart, unix.SIGKILL)
				signals.WaitGone(c.HolderPID, c.HolderStart, 5*time.Second)
			})
		} else if !errors.Is(err, state.ErrNameTaken) {
			t.Errorf("loser: %v, want ErrNameTaken", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d runs won the name, want exactly 1", wins)
	}
}

// Forty launch/stop/remove cycles: the host mount table is unchanged and
// no zombie is left behind.
func TestManyCyclesLeaveNoMountOrZombie(t *testing.T) {
	rootfs := setup(t)
	before, err := testutil.HostMounts()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		name := fmt.Sprintf("cycle%d", i)
		c, err := Run(Options{Name: name, Rootfs: rootfs, Command: []string{"/bin/sleep", "1000"}})
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		if err := Stop(discovery.Container{Name: name, PID: c.InitPID, StartTime: c.InitStart}, time.Second); err != nil {
			t.Fatalf("cycle %d: stop: %v", i, err)
		}
		if err := Remove(name, false, time.Second); err != nil {
			t.Fatalf("cycle %d: rm: %v", i, err)
		}
	}
	after, err := testutil.HostMounts()
	if err != nil {
		t.Fatal(err)
	}
	assertNoNewMounts(t, before, after, rootfs)
	testutil.WaitFor(t, 5*time.Second, func() bool { return len(zombieChildren()) == 0 },
		"no zombie children of the test")
	if names := stateNames(t); len(names) != 0 {
		t.Errorf("state left: %v", names)
	}
}

// assertNoNewMounts fails on any mount that appeared in the host's table.
// Other packages' tests may mount things meanwhile on a shared machine, so
// only mounts of the kinds a launch makes, or under the rootfs, count.
func assertNoNewMounts(t *testing.T, before, after []*mountinfo.Info, rootfs string) {
	t.Helper()
	if before == nil || after == nil {
		t.Fatal("no mount table snapshot")
	}
	fresh := testutil.NewMounts(before, after)
	if len(fresh) > 0 {
		t.Logf("new host mounts (maybe another package's tests): %v", fresh)
	}
	for _, m := range after {
		if m.Mountpoint == rootfs || strings.HasPrefix(m.Mountpoint, rootfs+"/") {
			t.Errorf("mount leaked into the host: %s (%s)", m.Mountpoint, m.FSType)
		}
	}
	for _, p := range fresh {
		for _, m := range after {
			if m.Mountpoint == p && (m.FSType == "proc" || m.FSType == "devpts") {
				t.Errorf("%s mount leaked into the host at %s", m.FSType, p)
			}
		}
	}
}

func zombieChildren() []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	me := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		st, err := procfs.ParseStat(data)
		if err == nil && st.State == 'Z' && st.PPid == me {
			out = append(out, pid)
		}
	}
	return out
}

// The client is SIGKILLed half way through a launch (after the init is set
// up, before the command runs): the init gives up, the holder removes the
// state, and no process or mount is left.
func TestClientKilledHalfwayLeavesNothing(t *testing.T) {
	rootfs := setup(t)
	before, _ := testutil.HostMounts()
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = append(os.Environ(), "BOXTUI_TEST_DIE_IN_PREPARE="+rootfs)
	out, _ := cmd.Output()
	initPID, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("the child did not get to Prepare: %q", out)
	}
	testutil.WaitFor(t, 10*time.Second, func() bool { return len(stateNames(t)) == 0 }, "the holder to remove the state")
	testutil.WaitFor(t, 5*time.Second, func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/%d", initPID))
		return err != nil
	}, "the init to be gone")
	snap, err := discovery.Scan(discovery.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range snap.Containers {
		if c.PID == initPID {
			t.Errorf("container %d still listed", initPID)
		}
	}
	after, _ := testutil.HostMounts()
	assertNoNewMounts(t, before, after, rootfs)
}
