package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"boxtui/runtime/discovery"
	"boxtui/runtime/namespace"
	"boxtui/runtime/state"
	"boxtui/ui/styles"

	tea "charm.land/bubbletea/v2"

	"github.com/charmbracelet/x/ansi"
)

// mapSnapshot is the fake's snapshot with a pod: "sidecar" runs in the
// network namespace of the nginx container (docker's --net container:,
// a Kubernetes pod), with its own everything else.
func mapSnapshot() discovery.Snapshot {
	snap := fakeSnapshot()
	sideNS := makeNS(4026532500, 4026532501, 4026532502, nginxNS[namespace.Net], 4026532504, 4026531834, 4026531837, 4026532505)
	snap.Containers = append(snap.Containers, discovery.Container{
		EngineName: "sidecar", PID: 6300, Origin: discovery.OriginDocker, Command: "envoy", Comm: "envoy",
		Processes: 1, Namespaces: sideNS, StartTime: 320, Started: fakeNow.Add(-49 * time.Hour),
		Status: state.StatusRunning,
		Procs:  []discovery.Process{{PID: 6300, InnerPID: 1, Comm: "envoy", Command: "envoy", StartTime: 320, Namespaces: sideNS}},
	})
	return snap
}

// newMapDriver is a driver whose fake shows mapSnapshot.
func newMapDriver(t *testing.T, w, h int, opts Options) *driver {
	d := newDriver(t, w, h, opts)
	d.b.mu.Lock()
	d.b.snap = mapSnapshot()
	d.b.mu.Unlock()
	d.rescans(1)
	return d
}

// colourScreen is the view with its colours, trailing blanks cut.
func (d *driver) colourScreen() string {
	lines := strings.Split(d.m.View().Content, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

// TestNSMapViews goldens the namespace map at 80x24 and 160x40: with
// colours kept (a colour that changes fails), without (NO_COLOR), and
// with a cursor on the shared network namespace.
func TestNSMapViews(t *testing.T) {
	cases := []struct {
		name   string
		opts   Options
		colour bool
		steps  func(d *driver)
	}{
		{"map", Options{}, false, func(d *driver) { d.keys("N") }},
		{"map_colour", Options{}, true, func(d *driver) { d.keys("N") }},
		{"map_nocolor", Options{NoColor: true}, true, func(d *driver) { d.keys("N") }},
		// From the nginx row to the sidecar's, in the net column.
		{"map_net", Options{}, true, func(d *driver) { d.keys("N", "down", "down", "down", "down", "down", "left") }},
		{"map_net_nocolor", Options{NoColor: true}, false, func(d *driver) { d.keys("N", "down", "down", "down", "down", "down", "left") }},
		// web folded: its processes hidden, the cursor kept on it.
		{"map_folded", Options{}, false, func(d *driver) { d.keys("N", "down", "enter") }},
		{"map_filter", Options{}, false, func(d *driver) { d.keys("N", "/"); d.typeText("ng") }},
		// With a pane open the map takes what the list and panel had.
		{"map_pane", Options{}, false, func(d *driver) { d.keys("e", "ctrl+]", "N") }},
	}
	for _, c := range cases {
		for _, sz := range [][2]int{{80, 24}, {160, 40}} {
			t.Run(fmt.Sprintf("%s_%dx%d", c.name, sz[0], sz[1]), func(t *testing.T) {
				d := newMapDriver(t, sz[0], sz[1], c.opts)
				c.steps(d)
				if c.colour {
					golden(t, "screen", d.colourScreen())
				} else {
					golden(t, "screen", d.screen())
				}
			})
		}
	}
}

// TestNSMapFitsEveryWidth draws the map from 80 to 250 columns: every line
// is the screen's width, the header names every column, from 160 on the
// inodes are written whole, and wider still the labels have the commands.
func TestNSMapFitsEveryWidth(t *testing.T) {
	for w := 80; w <= 250; w += 7 {
		d := newMapDriver(t, w, 24, Options{})
		d.keys("N")
		lines := strings.Split(d.m.View().Content, "\n")
		if len(lines) != 24 {
			t.Fatalf("width %d: %d lines", w, len(lines))
		}
		for i, l := range lines {
			if got := ansi.StringWidth(l); got != w {
				t.Fatalf("width %d: line %d is %d cells: %q", w, i, got, l)
			}
		}
		scr := d.screen()
		if !strings.Contains(scr, "mnt") || !strings.Contains(scr, "uts") {
			t.Fatalf("width %d: header lost a column:\n%s", w, scr)
		}
		if w >= 160 && !strings.Contains(scr, "A 4026532202") {
			t.Fatalf("width %d: no whole inode in the cells:\n%s", w, scr)
		}
		// The room left over goes to the command lines.
		if w >= 200 && !strings.Contains(scr, "6200 nginx: master process") {
			t.Fatalf("width %d: no command line in the labels:\n%s", w, scr)
		}
	}
}

// TestNSMapSlotsAreUniqueAndStable: within a column no two namespaces
// share a slot (so a colour, while there are colours), slots follow first
// appearance, and a namespace keeps its slot when others come and go.
func TestNSMapSlotsAreUniqueAndStable(t *testing.T) {
	snap := mapSnapshot()
	s := assignSlots(nil, snap)
	for g, slots := range s {
		seen := map[int]uint64{}
		for ino, n := range slots {
			if other, dup := seen[n]; dup {
				t.Fatalf("%s: inodes %d and %d share slot %d", g, ino, other, n)
			}
			seen[n] = ino
		}
	}
	mnt := s[namespace.Mnt]
	// First appearance: web's init, web's second shell, the sleeper...
	want := []uint64{4026532199, 4026532210, 4026532300, 4026532311, 4026532402, 4026532502}
	for i, ino := range want {
		if mnt[ino] != i {
			t.Fatalf("mnt %d has slot %d, want %d (all: %v)", ino, mnt[ino], i, mnt)
		}
	}
	if _, ok := mnt[fakeHost[namespace.Mnt]]; ok {
		t.Fatal("the host's mnt namespace got a slot")
	}
	// pid_for_children is lettered with pid.
	if _, ok := s[namespace.PIDForChildren]; ok {
		t.Fatal("pid_for_children has slots of its own")
	}
	// The sleeper goes: the others keep theirs, and a new namespace takes
	// the freed slot, not one of theirs.
	gone := snap
	gone.Containers = append([]discovery.Container(nil), snap.Containers[0])
	gone.Containers = append(gone.Containers, snap.Containers[2:]...)
	s2 := assignSlots(s, gone)
	for ino, n := range s2[namespace.Mnt] {
		if s[namespace.Mnt][ino] != n {
			t.Fatalf("mnt %d moved from slot %d to %d", ino, s[namespace.Mnt][ino], n)
		}
	}
	born := gone
	newNS := makeNS(4026539000, 4026539001, 4026539002, 4026539003, 4026539004, 4026531834, 4026531837, 4026539005)
	born.Containers = append(append([]discovery.Container(nil), gone.Containers...), discovery.Container{PID: 9000, Namespaces: newNS,
		Procs: []discovery.Process{{PID: 9000, Namespaces: newNS}}})
	s3 := assignSlots(s2, born)
	if got := s3[namespace.Mnt][4026539002]; got != 2 {
		t.Fatalf("the new mnt namespace has slot %d, want the freed 2", got)
	}
}

// TestNSMapColoursDiffer: every slot up to MapColours has a colour of its
// own, none of them a grey or the host's; past that they repeat in order.
func TestNSMapColoursDiffer(t *testing.T) {
	n := styles.MapColours()
	if n < 100 {
		t.Fatalf("only %d colours", n)
	}
	seen := map[int]int{}
	for i := 0; i < n; i++ {
		c := styles.MapColour(i)
		if j, dup := seen[c]; dup {
			t.Fatalf("slots %d and %d share colour %d", i, j, c)
		}
		if c >= 232 || c < 16 {
			t.Fatalf("slot %d has a grey, %d", i, c)
		}
		seen[c] = i
	}
	if styles.MapColour(n) != styles.MapColour(0) || styles.MapColour(n+5) != styles.MapColour(5) {
		t.Fatal("past the palette colours do not repeat in order")
	}
	// Many namespaces in one column: each gets its own colour on screen.
	snap := fakeSnapshot()
	snap.Containers = nil
	for i := 0; i < 60; i++ {
		ns := fakeHost
		ns[namespace.Net] = 4026540000 + uint64(i)
		snap.Containers = append(snap.Containers, discovery.Container{PID: 10000 + i, Namespaces: ns})
	}
	st := new(styles.New(false))
	colours := map[string]uint64{}
	for ino, n := range assignSlots(nil, snap)[namespace.Net] {
		sgr := st.MapSlot(n).Render("x")
		if other, dup := colours[sgr]; dup {
			t.Fatalf("net %d and %d look alike: %q", ino, other, sgr)
		}
		colours[sgr] = ino
	}
}

func TestSlotLabel(t *testing.T) {
	for n, want := range map[int]string{0: "A", 1: "B", 25: "Z", 26: "AA", 27: "AB", 51: "AZ", 52: "BA", 701: "ZZ", 702: "AAA"} {
		if got := slotLabel(n); got != want {
			t.Errorf("slotLabel(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestNSMapCursorHighlightsTheShared: the cursor on nginx's net highlights
// the sidecar's net cell (the same namespace) and no other net cell, and
// the line under the map names the inode and who shares it.
func TestNSMapCursorHighlightsTheShared(t *testing.T) {
	d := newMapDriver(t, 160, 40, Options{})
	d.keys("N", "down", "down", "down", "down", "down", "left")
	if d.m.detail != detailMap || d.m.focus != focusDetail {
		t.Fatal("N did not open the map")
	}
	scr := d.screen()
	if !strings.Contains(scr, "net A = net:[4026532403], shared by 2 containers, 3 processes (6200, sidecar)") {
		t.Fatalf("no cursor line for the shared net:\n%s", scr)
	}
	shared := d.m.st.MapShared(0).Render("x")
	sgr := shared[:strings.Index(shared, "x")]
	n := strings.Count(d.m.View().Content, sgr)
	// nginx's row (the cursor's own cell is underlined on top), and the
	// sidecar's; nginx's worker is folded away.
	if n != 1 {
		t.Fatalf("%d cells highlighted as shared besides the cursor, want 1 (the sidecar's)", n)
	}
	// esc goes back to the list, on the container the cursor was on.
	d.keys("esc")
	if d.m.detail != detailNamespaces || d.m.focus != focusList {
		t.Fatal("esc did not leave the map")
	}
	if c, _ := d.m.selected(); c.PID != 6200 {
		t.Fatalf("selection is %d, want nginx's 6200", c.PID)
	}
}

// TestNSMapFollowsItsRowAcrossScans: a refresh that adds a container
// before the cursor's keeps the cursor on its process.
func TestNSMapFollowsItsRowAcrossScans(t *testing.T) {
	d := newMapDriver(t, 100, 30, Options{})
	d.keys("N", "down") // web's second shell, 4300
	if d.m.nsmap.rowPID != 4300 {
		t.Fatalf("cursor on %d/%d", d.m.nsmap.rowInit, d.m.nsmap.rowPID)
	}
	d.b.mu.Lock()
	early := discovery.Container{PID: 100, Namespaces: sleeperN, Procs: []discovery.Process{{PID: 100, Namespaces: sleeperN}}}
	d.b.snap.Containers = append([]discovery.Container{early}, d.b.snap.Containers...)
	d.b.mu.Unlock()
	d.rescans(1)
	rows := d.m.nsmap.rows(d.m.scan.snap.Host, d.m.list.rows)
	if r := rows[d.m.nsmap.cursor(rows)]; r.pid != 4300 {
		t.Fatalf("after the scan the cursor is on %d/%d", r.initPID, r.pid)
	}
}

// TestNSMapShowsRowPosition: when rows are hidden the title says which
// are shown, and the cursor's row is always among them.
func TestNSMapShowsRowPosition(t *testing.T) {
	d := newMapDriver(t, 80, 24, Options{})
	d.b.mu.Lock()
	for i := 0; i < 30; i++ {
		ns := sleeperN
		ns[namespace.Mnt] = 4026533000 + uint64(i)
		d.b.snap.Containers = append(d.b.snap.Containers, discovery.Container{PID: 7000 + i, Comm: "many", StartTime: uint64(1000 + i),
			Namespaces: ns, Procs: []discovery.Process{{PID: 7000 + i, Namespaces: ns}}})
	}
	d.b.mu.Unlock()
	d.rescans(1)
	d.keys("N")
	if scr := d.screen(); !strings.Contains(scr, "rows 1-16 of 38") {
		t.Fatalf("no position in the title:\n%s", scr)
	}
	for i := 0; i < 40; i++ {
		d.keys("down")
	}
	scr := d.screen()
	if !strings.Contains(scr, "rows 23-38 of 38") || !strings.Contains(scr, "7029 many") {
		t.Fatalf("at the bottom the last row is not shown, or the position is wrong:\n%s", scr)
	}
	if !strings.Contains(scr, "pid B = pid:[4026532301]") {
		t.Fatalf("the cursor line is not about the last row:\n%s", scr)
	}
}

// TestNSMapClickPicksACell: a click on a cell puts the cursor there, and a
// click on the map never moves the hidden list under it.
func TestNSMapClickPicksACell(t *testing.T) {
	d := newMapDriver(t, 160, 40, Options{})
	d.keys("N")
	g := d.m.nsmap.geometry(160, 37)
	// Row 3 of the table (4300, web's second shell), the mnt column.
	x := g.labelW + 1 + int(namespace.Mnt)*(g.cellW+1) + 2
	d.send(tea.MouseClickMsg{X: x, Y: 1 + 2 + 2, Button: tea.MouseLeft})
	if d.m.nsmap.rowPID != 4300 || mapCols[d.m.nsmap.col] != namespace.Mnt {
		t.Fatalf("cursor on %d/%d column %d", d.m.nsmap.rowInit, d.m.nsmap.rowPID, d.m.nsmap.col)
	}
	if !strings.Contains(d.screen(), "mnt B = mnt:[4026532210], shared by 1 container, 2 processes (web)") {
		t.Fatalf("cursor line:\n%s", d.screen())
	}
	// Below the table: nothing moves.
	d.send(tea.MouseClickMsg{X: 5, Y: 35, Button: tea.MouseLeft})
	if d.m.nsmap.rowPID != 4300 {
		t.Fatal("a click below the rows moved the cursor")
	}
	if c, _ := d.m.selected(); c.PID != 4242 {
		t.Fatalf("the list's selection moved to %d", c.PID)
	}
}

// TestNSMapBeforeTheFirstScan: the map opened before anything was scanned
// says so, and fills its rows once the scan is in.
func TestNSMapBeforeTheFirstScan(t *testing.T) {
	b := newFakeBackend()
	m := New(b, Options{Now: func() time.Time { return fakeNow }})
	mod, _ := m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	mod, _ = mod.(Model).Update(keyPress("N"))
	if got := ansi.Strip(mod.(Model).View().Content); !strings.Contains(got, "scanning /proc") {
		t.Fatalf("before a scan:\n%s", got)
	}
	snap, usage, _ := b.Scan()
	mod, _ = mod.(Model).Update(scanMsg{snap: snap, usage: usage, at: fakeNow})
	if got := ansi.Strip(mod.(Model).View().Content); !strings.Contains(got, "└ 4301 top") {
		t.Fatalf("after the scan:\n%s", got)
	}
}
