package backend

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"
	"boxtui/runtime/events"
	"boxtui/runtime/namespace"
	"boxtui/runtime/procfs"
	"boxtui/runtime/state"
)

func TestEventsAnswersFromCacheWhileFileUnchanged(t *testing.T) {
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	r := New()
	if evs, err := r.Events("web"); err != nil || len(evs) != 0 {
		t.Fatalf("no history: %v %v", evs, err)
	}
	// A name's history lives in its state directory, which a claim makes.
	if err := state.Create(state.State{Name: "web", Status: state.StatusRunning}); err != nil {
		t.Fatal(err)
	}
	if err := events.RecordKey("web", events.Started, "/bin/sh", "boxtui"); err != nil {
		t.Fatal(err)
	}
	evs, err := r.Events("web")
	if err != nil || len(evs) != 1 || evs[0].Kind != events.Started {
		t.Fatalf("first read: %v %v", evs, err)
	}
	// Same size and mtime: the cached history is answered, the file is not
	// read again (proved by changing its bytes behind stat's back).
	path := filepath.Join(state.Dir("web"), "events.jsonl")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	forged := []byte(string(data[:len(data)-1]) + "\n")
	copy(forged, []byte(`{"kind":"xx"`)) // garbles the line, same length
	if err := os.WriteFile(path, forged, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if evs, _ := r.Events("web"); len(evs) != 1 || evs[0].Kind != events.Started {
		t.Fatalf("unchanged stat re-read the file: %v", evs)
	}
	// An appended event changes the size: it is read.
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := events.RecordKey("web", events.Exited, "status 0", ""); err != nil {
		t.Fatal(err)
	}
	if evs, _ := r.Events("web"); len(evs) != 2 || evs[1].Kind != events.Exited {
		t.Fatalf("after append: %v", evs)
	}
}

// containerUnder finds the container whose init's parent is ppid.
func containerUnder(snap discovery.Snapshot, ppid int) (discovery.Container, bool) {
	for _, c := range snap.Containers {
		for _, p := range c.Procs {
			if p.PID == c.PID && p.PPID == ppid {
				return c, true
			}
		}
	}
	return discovery.Container{}, false
}

// TestScanMeasuresBusyLoopAndTreeNestsContainer checks the UI's figures
// against the kernel: a busy loop in a container is measured from the CPU
// ticks it used, and a container started inside it hangs under it in the
// tree.
//
// The checks on the figures hold on any machine, however loaded (the loop
// may get a whole core or a tenth of one): the percentage is the ticks the
// two scans read over a time between the bounds the scans were taken in;
// the loop used the CPU /proc says it did; no process used more than one
// core over the window the scans span.
func TestScanMeasuresBusyLoopAndTreeNestsContainer(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: makes PID namespaces with unshare")
	}
	outer := testutil.StartGroup(t, "unshare", "--pid", "--fork", "--kill-child", "sh", "-c", "unshare --pid --fork --kill-child sleep 100000 & while :; do :; done")
	r := New()
	deadline := time.Now().Add(time.Minute)
	// Wait for the container inside: from then on the busy container's
	// processes (the shell and the inner unshare) stay the same.
	var busy discovery.Container
	testutil.WaitFor(t, time.Minute, func() bool {
		snap, _, err := r.Scan()
		if err != nil {
			t.Fatal(err)
		}
		c, ok := containerUnder(snap, outer.Process.Pid)
		if !ok {
			return false
		}
		busy = c
		_, ok = findInner(snap, c)
		return ok
	}, "the busy container and the one inside it")

	const userHZ = 100 // USER_HZ, the unit of /proc/PID/stat's times
	type sample struct {
		before, after time.Time // the scan (and its meter's clock) ran between
		c             discovery.Container
		u             discovery.Usage
	}
	scan := func() sample {
		before := time.Now()
		snap, usage, err := r.Scan()
		after := time.Now()
		if err != nil {
			t.Fatal(err)
		}
		c, ok := containerUnder(snap, outer.Process.Pid)
		if !ok {
			t.Fatal("the busy container went away")
		}
		return sample{before, after, c, usage[c.PID]}
	}
	prev := scan()
	var rss int64
	for i := 0; i < 2; i++ {
		from := testutil.CPUTicks(t, busy.PID)
		testutil.WaitFor(t, time.Minute, func() bool { return testutil.CPUTicks(t, busy.PID) >= from+20 }, "the busy loop to use 20 CPU ticks")
		cur := scan()
		used, ok := ticksBetween(prev.c, cur.c)
		if !ok {
			t.Fatalf("the busy container's processes changed between two scans: %+v, then %+v", prev.c.Procs, cur.c.Procs)
		}
		widest, narrowest := cur.after.Sub(prev.before), cur.before.Sub(prev.after)
		lo := 100 * float64(used) / userHZ / widest.Seconds()
		hi := 100 * float64(used) / userHZ / narrowest.Seconds()
		if got := cur.u.CPUPercent; got < lo*(1-1e-9) || got > hi*(1+1e-9) {
			t.Errorf("busy container at %.3f%%: its %d ticks over %v to %v are %.3f%% to %.3f%%", got, used, narrowest, widest, lo, hi)
		}
		if used < 20 {
			t.Errorf("busy container used %d ticks between two scans, after /proc counted 20 more for its loop", used)
		}
		n := uint64(len(cur.c.Procs))
		if most := uint64(widest.Seconds()*userHZ)*n + 2*n; used > most {
			t.Errorf("%d process(es) used %d ticks in %v: more than they can use", n, used, widest)
		}
		if cur.u.Processes != len(cur.c.Procs) {
			t.Errorf("usage counts %d processes, the container has %d", cur.u.Processes, len(cur.c.Procs))
		}
		rss = max(rss, cur.u.RSSBytes)
		prev = cur
	}
	if rss <= 0 {
		t.Fatalf("no resident memory measured for the busy container %d", busy.PID)
	}

	var tree *discovery.PIDNamespaceNode
	var inner discovery.Container
	for time.Now().Before(deadline) {
		snap, _, err := r.Scan()
		if err != nil {
			t.Fatal(err)
		}
		if c, ok := containerUnder(snap, outer.Process.Pid); ok {
			busy = c // with the unshare it has started since
		}
		var ok bool
		if inner, ok = findInner(snap, busy); ok {
			tree = r.NamespaceTree(snap)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if tree == nil {
		t.Fatal("the nested container never showed up")
	}
	parent := findNode(tree, busy.Namespaces[namespace.PID])
	if parent == nil || parent.Container != busy.PID {
		t.Fatalf("busy container's namespace not in the tree: %+v", parent)
	}
	if len(parent.Children) != 1 || parent.Children[0].Container != inner.PID {
		t.Fatalf("nested container %d not under %d: children %+v", inner.PID, busy.PID, parent.Children)
	}
	if parent.Owner == 0 || parent.Owner != tree.Owner {
		t.Fatalf("owner user namespace %d, want the host's %d", parent.Owner, tree.Owner)
	}
}

// ticksBetween is the CPU ticks a's processes used until b was scanned,
// and whether b has exactly a's processes.
func ticksBetween(a, b discovery.Container) (uint64, bool) {
	type key struct {
		pid   int
		start uint64
	}
	before := map[key]uint64{}
	for _, p := range a.Procs {
		before[key{p.PID, p.StartTime}] = p.CPUTicks
	}
	if len(b.Procs) != len(before) {
		return 0, false
	}
	var used uint64
	for _, p := range b.Procs {
		t0, ok := before[key{p.PID, p.StartTime}]
		if !ok || p.CPUTicks < t0 {
			return 0, false
		}
		used += p.CPUTicks - t0
	}
	return used, true
}

// findInner finds the container started from inside outer's PID namespace.
func findInner(snap discovery.Snapshot, outer discovery.Container) (discovery.Container, bool) {
	for _, c := range snap.Containers {
		if c.PID == outer.PID {
			continue
		}
		for _, p := range outer.Procs {
			// unshare, run by outer's shell, is the inner init's parent.
			if p.PID == outer.PID {
				continue
			}
			for _, q := range c.Procs {
				if q.PID == c.PID && q.PPID == p.PID {
					return c, true
				}
			}
		}
	}
	return discovery.Container{}, false
}

func findNode(n *discovery.PIDNamespaceNode, ino uint64) *discovery.PIDNamespaceNode {
	if n.Inode == ino {
		return n
	}
	for _, c := range n.Children {
		if f := findNode(c, ino); f != nil {
			return f
		}
	}
	return nil
}

// An exec whose client is gone shows as closed although its history file
// has not changed since the last read.
func TestEventsShowsExecOfGoneClientClosedFromCache(t *testing.T) {
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	if err := state.Create(state.State{Name: "web", Status: state.StatusRunning}); err != nil {
		t.Fatal(err)
	}
	client := exec.Command("sleep", "100")
	if err := client.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Process.Kill(); client.Wait() })
	start, err := procfs.StartTime(client.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf(`{"time":"2026-01-01T00:00:00Z","container":"web","kind":"exec-opened","detail":"host pid 42: sh","by":"boxtui exec","client_pid":%d,"client_start":%d}`+"\n", client.Process.Pid, start)
	if err := os.WriteFile(filepath.Join(state.Dir("web"), "events.jsonl"), []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	r := New()
	if evs, _ := r.Events("web"); len(evs) != 1 {
		t.Fatalf("open exec of a live client: %v", evs)
	}
	client.Process.Kill()
	client.Wait()
	evs, _ := r.Events("web")
	if len(evs) != 2 || evs[1].Kind != events.ExecClosed || !strings.HasSuffix(evs[1].Detail, events.ExecClientGone) {
		t.Fatalf("after the client died: %v", evs)
	}
}
