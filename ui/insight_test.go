package ui

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"boxtui/runtime/discovery"
	"boxtui/runtime/events"
)

func TestMarkTwoProcessesDiffsTheirNamespaces(t *testing.T) {
	d := newDriver(t, 100, 30, Options{NoColor: true})
	d.keys("p", "space", "down", "space")
	if want := []procKey{{4242, 100}, {4300, 150}}; !slices.Equal(d.m.procs.marks, want) {
		t.Fatalf("marks %v, want %v", d.m.procs.marks, want)
	}
	s := d.screen()
	// The seed's two shells: pid shared, mnt different, spelled out.
	for _, w := range []string{"PID 4242 vs 4300: different mnt · shared cgroup,ipc,net,pid,time,user,uts", "A vs B", "differ"} {
		if !strings.Contains(s, w) {
			t.Errorf("screen lacks %q:\n%s", w, s)
		}
	}
	// Marking the marked one again unmarks it.
	d.keys("space")
	if want := []procKey{{4242, 100}}; !slices.Equal(d.m.procs.marks, want) {
		t.Fatalf("after unmark %v", d.m.procs.marks)
	}
	// A third mark drops the oldest.
	d.keys("space", "down", "space")
	if want := []procKey{{4300, 150}, {4301, 160}}; !slices.Equal(d.m.procs.marks, want) {
		t.Fatalf("after a third mark %v", d.m.procs.marks)
	}
	d.keys("u")
	if len(d.m.procs.marks) != 0 {
		t.Fatalf("u left marks %v", d.m.procs.marks)
	}
}

func TestMarksAcrossContainersAndExitedProcessesAreForgotten(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("p", "space", "esc", "down", "down", "p", "space")
	if want := []procKey{{4242, 100}, {5150, 250}}; !slices.Equal(d.m.procs.marks, want) {
		t.Fatalf("marks %v", d.m.procs.marks)
	}
	if s := d.screen(); !strings.Contains(s, "PID 4242 vs 5150: different ipc,mnt,pid,user,uts · shared cgroup,net,time") {
		t.Fatalf("cross-container diff missing:\n%s", s)
	}
	snap := fakeSnapshot()
	snap.Containers = slices.DeleteFunc(snap.Containers, func(c discovery.Container) bool { return c.PID == 5150 })
	d.rescanWith(snap)
	if want := []procKey{{4242, 100}}; !slices.Equal(d.m.procs.marks, want) {
		t.Fatalf("after 5150 exited marks %v", d.m.procs.marks)
	}
}

func TestTreeNavigationSelectsContainer(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("t")
	var got []string
	for _, r := range d.m.tree.rows {
		got = append(got, r.prefix+strconv.Itoa(r.node.Container))
	}
	want := []string{"0", "├─ 4242", "├─ 5100", "│  └─ 5150", "└─ 6200"}
	if !slices.Equal(got, want) {
		t.Fatalf("tree rows %q, want %q", got, want)
	}
	// The cursor starts on the selected container's namespace.
	if d.m.tree.cur != 1 {
		t.Fatalf("tree cursor %d, want 1 (web)", d.m.tree.cur)
	}
	d.keys("down", "down")
	if d.selectedPID() != 5150 {
		t.Fatalf("moving onto the nested namespace selected %d, want 5150", d.selectedPID())
	}
	// A refresh keeps the cursor on the same namespace.
	d.rescans(1)
	if d.m.tree.rows[d.m.tree.cur].node.Container != 5150 {
		t.Fatalf("after refresh tree cursor on %d", d.m.tree.rows[d.m.tree.cur].node.Container)
	}
	d.keys("up", "up", "up", "enter")
	if d.m.detail != detailTree || !strings.Contains(d.m.status.text, "host's PID namespace") {
		t.Fatalf("enter on the host node: detail %v status %q", d.m.detail, d.m.status.text)
	}
	d.keys("down", "down", "enter")
	if d.m.detail != detailNamespaces || d.m.focus != focusList || d.selectedPID() != 5100 {
		t.Fatalf("enter: detail %v focus %v selected %d", d.m.detail, d.m.focus, d.selectedPID())
	}
}

func TestTreeIsReadOnlyWhileShown(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.rescans(3)
	if n := d.b.treeReads; n != 0 {
		t.Fatalf("the tree was read %d times while hidden", n)
	}
	d.keys("t")
	d.rescans(2)
	if n := d.b.treeReads; n != 3 {
		t.Fatalf("tree read %d times, want 3 (open + 2 refreshes)", n)
	}
	d.keys("esc")
	d.rescans(2)
	if n := d.b.treeReads; n != 3 {
		t.Fatalf("tree read %d times after closing, want still 3", n)
	}
}

func TestEventsReadOnlyForSelectedWhileShown(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.rescans(3)
	if n := d.b.eventReads; n != 0 {
		t.Fatalf("events read %d times while hidden", n)
	}
	d.keys("v")
	if d.m.events.of != "web" || len(d.m.events.list) != 4 {
		t.Fatalf("events of %q: %d", d.m.events.of, len(d.m.events.list))
	}
	// Refreshed with the scan: a new event shows.
	d.b.mu.Lock()
	d.b.events["web"] = append(d.b.events["web"], events.Event{Time: fakeNow, Container: "web", Kind: events.ExecClosed, Detail: "PID 4300 exit 0"})
	d.b.mu.Unlock()
	d.rescans(1)
	if len(d.m.events.list) != 5 || d.m.events.list[4].Kind != events.ExecClosed {
		t.Fatalf("after refresh %d events", len(d.m.events.list))
	}
	if s := d.screen(); !strings.Contains(s, "exec-closed") {
		t.Fatalf("newest event not shown:\n%s", s)
	}
	// Moving the selection reads the new container's history, and only it.
	d.keys("esc", "down", "v")
	if d.m.events.of != "pidns:4026532301@200" || len(d.m.events.list) != 0 {
		t.Fatalf("after moving: events of %q, %d", d.m.events.of, len(d.m.events.list))
	}
	d.keys("esc")
	before := d.b.eventReads
	d.rescans(2)
	if d.b.eventReads != before {
		t.Fatalf("events read after the panel closed")
	}
}

func TestUsageHistoryIsBoundedAndDropsVanished(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	var m Model = d.m
	snap := fakeSnapshot()
	for i := 0; i < 3*historyLen+7; i++ {
		m.usage.record(snap, fakeUsage(i))
	}
	web := procKey{4242, 100}
	h := m.usage.history[web]
	if len(h.cpu) != historyLen || len(h.rss) != historyLen {
		t.Fatalf("history %d/%d samples, want %d", len(h.cpu), len(h.rss), historyLen)
	}
	// The newest sample is last.
	if want := fakeUsage(3*historyLen + 6)[4242].CPUPercent; h.cpu[historyLen-1] != want {
		t.Fatalf("newest sample %v, want %v", h.cpu[historyLen-1], want)
	}
	if cap(h.cpu) > 2*historyLen {
		t.Fatalf("history grew to capacity %d", cap(h.cpu))
	}
	// A container that is gone loses its history; a new process with a
	// reused PID starts a fresh one.
	snap.Containers = snap.Containers[:1]
	snap.Containers[0].StartTime = 999
	m.usage.record(snap, fakeUsage(0))
	if len(m.usage.history) != 1 || m.usage.history[web] != nil || len(m.usage.history[procKey{4242, 999}].cpu) != 1 {
		t.Fatalf("history after exits: %v", m.usage.history)
	}
}

func TestFormatUsage(t *testing.T) {
	for _, c := range []struct {
		cpu  float64
		want string
	}{{0, "0.0"}, {0.34, "0.3"}, {12.5, "12.5"}, {99.7, "99.7"}, {180.4, "180"}} {
		if got := formatCPU(c.cpu); got != c.want {
			t.Errorf("formatCPU(%v) = %q, want %q", c.cpu, got, c.want)
		}
	}
	for _, c := range []struct {
		b    float64
		want string
	}{{512, "512B"}, {512 << 10, "512K"}, {1100 << 10, "1.1M"}, {14 << 20, "14M"}, {3 << 30, "3.0G"}} {
		if got := formatBytes(c.b); got != c.want {
			t.Errorf("formatBytes(%v) = %q, want %q", c.b, got, c.want)
		}
	}
}
