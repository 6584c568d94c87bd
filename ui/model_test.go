package ui

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"boxtui/runtime/discovery"
)

func (d *driver) selectedPID() int {
	c, ok := d.m.selected()
	if !ok {
		return 0
	}
	return c.PID
}

func (d *driver) rowPIDs() []int {
	var out []int
	for _, c := range d.m.list.rows {
		out = append(out, c.PID)
	}
	return out
}

// rescanWith replaces the backend's snapshot and delivers a scan.
func (d *driver) rescanWith(snap discovery.Snapshot) {
	d.b.mu.Lock()
	d.b.snap = snap
	d.b.mu.Unlock()
	d.send(tickMsg{id: d.m.scan.tickID})
}

func TestSelectionFollowsContainerAcrossRefresh(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("down")
	if got := d.selectedPID(); got != 5100 {
		t.Fatalf("selected %d, want 5100", got)
	}
	snap := fakeSnapshot()
	// A new, older container lands before it in the list.
	older := snap.Containers[1]
	older.PID, older.StartTime = 3000, 1
	older.Procs = []discovery.Process{{PID: 3000, InnerPID: 1, StartTime: 1, Namespaces: older.Namespaces}}
	snap.Containers = append([]discovery.Container{older}, snap.Containers...)
	d.rescanWith(snap)
	if got := d.rowPIDs(); !slices.Equal(got, []int{3000, 4242, 5100, 5150, 6200}) {
		t.Fatalf("rows %v", got)
	}
	if got := d.selectedPID(); got != 5100 {
		t.Fatalf("after refresh selected %d, want 5100 still", got)
	}
	// The selected container goes away: the cursor stays in range.
	snap.Containers = snap.Containers[:2]
	d.rescanWith(snap)
	if got := d.selectedPID(); got != 3000 {
		t.Fatalf("after its exit selected %d, want the first row 3000", got)
	}
}

func TestStaleTickIsDropped(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	old := d.m.scan.tickID - 1
	mod, cmd := d.m.Update(tickMsg{id: old})
	if cmd != nil || mod.(Model).scan.busy {
		t.Fatal("a stale tick started a scan")
	}
}

func TestFilterEnterKeepsAndSelectsFirstMatchEscClears(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("/")
	d.typeText("unsh")
	if got := d.rowPIDs(); !slices.Equal(got, []int{5100, 5150}) {
		t.Fatalf("while typing rows %v", got)
	}
	d.keys("enter")
	if d.m.focus != focusList || d.m.list.filter.Value() != "unsh" || d.selectedPID() != 5100 {
		t.Fatalf("after enter: focus %v filter %q selected %d", d.m.focus, d.m.list.filter.Value(), d.selectedPID())
	}
	// The kept filter survives a refresh.
	d.rescanWith(fakeSnapshot())
	if got := d.rowPIDs(); !slices.Equal(got, []int{5100, 5150}) {
		t.Fatalf("after refresh rows %v", got)
	}
	d.keys("/", "esc")
	if got := d.rowPIDs(); len(got) != 4 || d.m.list.filter.Value() != "" {
		t.Fatalf("after esc rows %v filter %q", got, d.m.list.filter.Value())
	}
	if d.selectedPID() != 5100 {
		t.Fatalf("esc moved the selection to %d", d.selectedPID())
	}
}

func TestSortCyclesAndReverses(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("s") // name
	if got := d.rowPIDs(); !slices.Equal(got, []int{5100, 5150, 6200, 4242}) {
		t.Fatalf("by name %v", got)
	}
	d.keys("s", "s", "s") // pid, origin, procs
	if got := d.rowPIDs(); !slices.Equal(got, []int{5100, 5150, 6200, 4242}) {
		t.Fatalf("by procs %v", got)
	}
	d.keys("S")
	if got := d.rowPIDs(); !slices.Equal(got, []int{4242, 6200, 5150, 5100}) {
		t.Fatalf("by procs reversed %v", got)
	}
}

func TestKillContainerDefaultIsStop(t *testing.T) {
	d := newDriver(t, 100, 30, Options{StopGrace: 3 * time.Second})
	d.keys("x", "y")
	if got := d.b.Calls(); !slices.Equal(got, []string{"stop 4242 3s"}) {
		t.Fatalf("calls %v", got)
	}
	if !strings.Contains(d.m.status.text, "stopped web (PID 4242): sent SIGTERM (handled), exited after 0.01 s") {
		t.Fatalf("status %q", d.m.status.text)
	}
}

func TestKillContainerChosenSignal(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("down", "x", "right", "right", "y") // KILL
	if got := d.b.Calls(); !slices.Equal(got, []string{"kill 5100 200 killed"}) {
		t.Fatalf("calls %v", got)
	}
}

func TestKillAnsweredNoDoesNothing(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("x", "n")
	d.keys("x", "esc")
	if got := d.b.Calls(); len(got) != 0 {
		t.Fatalf("calls %v", got)
	}
	if d.m.confirm != nil {
		t.Fatal("question still open")
	}
}

func TestKillProcessFromProcessView(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("p", "down", "down", "x", "y") // top, default TERM
	if got := d.b.Calls(); !slices.Equal(got, []string{"kill 4301 160 terminated"}) {
		t.Fatalf("calls %v", got)
	}
}

func TestReadOnlyDisablesActions(t *testing.T) {
	d := newDriver(t, 100, 30, Options{ReadOnly: true})
	d.keys("x", "e", "n", "enter")
	if d.m.confirm != nil || d.m.forms.active != nil || len(d.b.Calls()) != 0 {
		t.Fatalf("read-only UI acted: confirm %v form %v calls %v", d.m.confirm != nil, d.m.forms.active != nil, d.b.Calls())
	}
}

func TestQuitSaysContainersKeepRunning(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("q")
	if !d.quit || !strings.Contains(d.m.Summary(), "4 container(s) keep running") {
		t.Fatalf("quit %v summary %q", d.quit, d.m.Summary())
	}
	if len(d.b.Calls()) != 0 {
		t.Fatalf("quitting touched containers: %v", d.b.Calls())
	}
}

func TestTooSmallStillQuits(t *testing.T) {
	d := newDriver(t, 60, 20, Options{})
	d.keys("x")
	if d.m.confirm != nil {
		t.Fatal("a key acted on an unreadable screen")
	}
	d.keys("q")
	if !d.quit {
		t.Fatal("q did not quit")
	}
}

func TestProcessCursorFollowsProcessAcrossRefresh(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("p", "down", "down") // top, PID 4301
	snap := fakeSnapshot()
	procs := snap.Containers[0].Procs
	// The exec'd shell (4300) exits: top moves up a row.
	snap.Containers[0].Procs = []discovery.Process{procs[0], procs[2]}
	d.rescanWith(snap)
	d.keys("x")
	if d.m.confirm == nil || !strings.Contains(d.m.confirm.prompt, "Kill process 4301") {
		t.Fatalf("question %+v", d.m.confirm)
	}
}

// A status about one screen does not linger into the next: opening the
// mounts panel, a form or help leaves it behind, unless the key set one.
func TestOldStatusDoesNotLingerIntoTheNextScreen(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.m.setStatus("stopped web (PID 4242): sent SIGTERM", false)
	d.keys("m")
	if d.m.status.text != "" {
		t.Fatalf("opening the mounts panel kept %q", d.m.status.text)
	}
	d.m.setStatus("removed mount /data", false)
	d.keys("a")
	if d.m.forms.active == nil || d.m.status.text != "" {
		t.Fatalf("opening the mount form kept %q (form open %v)", d.m.status.text, d.m.forms.active != nil)
	}
	d.keys("esc")
	d.keys("down") // same screen: a status set now stays
	d.m.setStatus("kept", false)
	d.keys("down")
	if d.m.status.text != "kept" {
		t.Fatalf("moving within a screen dropped the status: %q", d.m.status.text)
	}
}

// What a container chooses (a process name, a command line, its engine's
// name) is shown as the CLI shows it, control characters as \xHH: a
// newline cannot forge a row of the list, and no escape sequence reaches
// the terminal.
func TestContainerTextCannotDriveTheScreen(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.b.mu.Lock()
	d.b.snap.Containers[0].Command = "\x1b]0;PWNED\a\x1b[2Jx\nfake-row 1 boxtui"
	d.b.snap.Containers[1].Name, d.b.snap.Containers[1].EngineName = "", "evil\x1b[31m\nname"
	d.b.mu.Unlock()
	d.rescans(1)
	screen := d.screen()
	if !strings.Contains(screen, `\x1b]0;PWNED\x07\x1b[2Jx\x0a`) || !strings.Contains(screen, `evil\x1b[31`) {
		t.Fatalf("the hostile command is not shown escaped:\n%s", screen)
	}
	for _, line := range strings.Split(screen, "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "fake-row") || (strings.HasPrefix(l, "name") && !strings.HasPrefix(l, "namespaces")) {
			t.Fatalf("a newline in container text made a row of its own:\n%s", screen)
		}
	}
	d.keys("down", "x", "y")
	if strings.ContainsAny(d.m.status.text, "\x1b\n") {
		t.Fatalf("the status line carries raw control characters: %q", d.m.status.text)
	}
}

// TestLongListSaysWhichRowsShow: a list longer than its part of the screen
// says which rows are on it, and follows the cursor.
func TestLongListSaysWhichRowsShow(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	snap := fakeSnapshot()
	base := snap.Containers[1] // an unshare container
	for i := range 40 {
		c := base
		c.PID, c.StartTime = 10000+i, uint64(1000+i)
		c.Procs = nil
		snap.Containers = append(snap.Containers, c)
	}
	d.rescanWith(snap)
	re := regexp.MustCompile(` (\d+)-(\d+)/44\n`)
	m := re.FindStringSubmatch(d.screen())
	if m == nil || m[1] != "1" {
		t.Fatalf("no row position in the list header:\n%s", d.screen())
	}
	for range 43 {
		d.keys("down")
	}
	m = re.FindStringSubmatch(d.screen())
	if m == nil || m[2] != "44" {
		t.Fatalf("at the last row the header says %v:\n%s", m, d.screen())
	}
}
