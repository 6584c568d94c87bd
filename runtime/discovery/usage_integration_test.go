package discovery_test

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"boxtui/runtime/discovery"

	"boxtui/internal/testutil"
	"boxtui/runtime/namespace"
)

func TestUsageBusyLoopShowsAboutOneCore(t *testing.T) {
	testutil.RequireRoot(t)
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	busy := testutil.StartGroup(t, "unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", "while :; do :; done")
	idle := testutil.StartGroup(t, "unshare", "--pid", "--fork", "--mount-proc", "sleep", "1005")
	s := discovery.NewScanner()
	m := discovery.NewUsageMeter()
	var busyPID, idlePID int
	testutil.WaitFor(t, 10*time.Second, func() bool {
		snap, err := s.Scan(discovery.ScanOptions{ProcessNamespaces: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range snap.Containers {
			switch {
			case descendsFrom(c.PID, busy.Process.Pid):
				busyPID = c.PID
			case descendsFrom(c.PID, idle.Process.Pid):
				idlePID = c.PID
			}
		}
		m.Observe(snap, time.Now())
		return busyPID != 0 && idlePID != 0
	}, "both containers")
	// The meter's figure is the CPU ticks the two scans read, over the
	// time between the moments given to Observe. Each check below is true
	// on any machine, however loaded, and fails when the meter or the scan
	// is wrong: the scan's ticks for the busy process lie between reads of
	// /proc taken just before and after it; the meter's percentage is the
	// arithmetic of those ticks and that time; the busy process used no
	// more than one core over the window the scans bracket, and did use
	// CPU; the idle one, asleep, used none at all.
	const userHZ = 100 // USER_HZ, the unit of /proc/PID/stat's times
	observe := func() (map[int]discovery.Usage, uint64, time.Time, time.Time) {
		before, t0 := testutil.CPUTicks(t, busyPID), time.Now()
		snap, err := s.Scan(discovery.ScanOptions{ProcessNamespaces: true})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Now()
		after := testutil.CPUTicks(t, busyPID)
		var got uint64
		found := false
		for _, c := range snap.Containers {
			for _, p := range c.Procs {
				if p.PID == busyPID {
					got, found = p.CPUTicks, true
				}
			}
		}
		if !found {
			t.Fatalf("busy process %d not in the scan", busyPID)
		}
		if got < before || got > after {
			t.Fatalf("scan read %d CPU ticks for the busy process; /proc said %d before the scan and %d after", got, before, after)
		}
		return m.Observe(snap, at), got, t0, at
	}
	_, ticks0, start0, at0 := observe()
	for i := 0; i < 3; i++ {
		// Let the busy process run at least 20 ticks, however long that
		// takes on this machine.
		from := testutil.CPUTicks(t, busyPID)
		testutil.WaitFor(t, time.Minute, func() bool { return testutil.CPUTicks(t, busyPID) >= from+20 }, "the busy loop to use 20 CPU ticks")
		u, ticks1, start1, at1 := observe()
		used := ticks1 - ticks0
		want := 100 * float64(used) / userHZ / at1.Sub(at0).Seconds()
		got := u[busyPID].CPUPercent
		if math.Abs(got-want) > 1e-9*math.Max(1, want) {
			t.Errorf("busy container at %.3f%% CPU; its %d ticks over %v are %.3f%%", got, used, at1.Sub(at0), want)
		}
		if used < 20 {
			t.Errorf("busy container used %d ticks between the scans, after /proc counted 20 more", used)
		}
		// One core at most over the widest window the two reads can span,
		// give or take a tick at each end.
		if most := uint64(at1.Sub(start0).Seconds()*userHZ) + 2; used > most {
			t.Errorf("busy process used %d ticks in %v: more than one core", used, at1.Sub(start0))
		}
		if got := u[idlePID].CPUPercent; got != 0 {
			t.Errorf("idle container, asleep, at %.3f%% CPU", got)
		}
		if u[busyPID].RSSBytes <= 0 || u[busyPID].Processes != 1 {
			t.Errorf("busy container usage %+v", u[busyPID])
		}
		ticks0, start0, at0 = ticks1, start1, at1
	}
}

func TestNamespaceTreeNestsContainers(t *testing.T) {
	testutil.RequireRoot(t)
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	outer := testutil.StartGroup(t, "unshare", "--pid", "--fork", "--mount-proc", "sh", "-c",
		"unshare --pid --fork --mount-proc sleep 1007 & exec sleep 1006")
	var snap discovery.Snapshot
	var outerC, innerC discovery.Container
	testutil.WaitFor(t, 10*time.Second, func() bool {
		var err error
		if snap, err = discovery.Scan(discovery.ScanOptions{}); err != nil {
			t.Fatal(err)
		}
		outerC, innerC = discovery.Container{}, discovery.Container{}
		for _, c := range snap.Containers {
			if !descendsFrom(c.PID, outer.Process.Pid) {
				continue
			}
			switch c.Command {
			case "sleep 1006":
				outerC = c
			case "sleep 1007":
				innerC = c
			}
		}
		return outerC.PID != 0 && innerC.PID != 0
	}, "outer and nested containers")
	tree := discovery.NamespaceTree(snap)
	if tree.Inode != snap.Host[namespace.PID] || tree.Container != 0 {
		t.Fatalf("root %+v, want boxtui's own pid namespace", tree)
	}
	var outerNode *discovery.PIDNamespaceNode
	for _, n := range tree.Children {
		if n.Container == innerC.PID {
			t.Fatal("nested container hung at the top level")
		}
		if n.Container == outerC.PID {
			outerNode = n
		}
	}
	if outerNode == nil {
		t.Fatal("outer container missing from the tree's top level")
	}
	if len(outerNode.Children) != 1 || outerNode.Children[0].Container != innerC.PID {
		t.Fatalf("outer node children %+v, want the nested container", outerNode.Children)
	}
	if outerNode.Children[0].Parent != outerNode.Inode || outerNode.Owner != snap.Host[namespace.User] {
		t.Errorf("parent/owner wrong: %+v", outerNode.Children[0])
	}
}

// The seed's two shells: same pid namespace, different mnt.
func TestDiffSeedShellsSharePIDDifferInMnt(t *testing.T) {
	testutil.RequireRoot(t)
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	rootfs := testutil.Rootfs(t)
	first := testutil.StartUnshare(t, rootfs, "/bin/sleep", "1008")
	second := testutil.StartGroup(t, "nsenter", fmt.Sprintf("--pid=/proc/%d/ns/pid", first),
		"unshare", "--fork", "--mount-proc="+filepath.Join(rootfs, "proc"),
		"chroot", rootfs, "/bin/sleep", "1009")
	var secondPID int
	testutil.WaitFor(t, 10*time.Second, func() bool {
		snap, err := discovery.Scan(discovery.ScanOptions{ProcessNamespaces: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range snap.Containers {
			for _, p := range c.Procs {
				if p.Command == "/bin/sleep 1009" && descendsFrom(p.PID, second.Process.Pid) {
					secondPID = p.PID
				}
			}
		}
		return secondPID != 0
	}, "the second shell")
	a, err := namespace.Read(first)
	if err != nil {
		t.Fatal(err)
	}
	b, err := namespace.Read(secondPID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, d := range namespace.Compare(a, b) {
		got[d.Type] = d.Shared
	}
	if !got["pid"] || got["mnt"] || !got["net"] || !got["uts"] {
		t.Errorf("diff %v: want pid shared, mnt different, net and uts shared", got)
	}
}
