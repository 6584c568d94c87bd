package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime"

	tea "charm.land/bubbletea/v2"
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
	for _, c := range d.m.rows {
		out = append(out, c.PID)
	}
	return out
}

// rescanWith replaces the backend's snapshot and delivers a scan.
func (d *driver) rescanWith(snap runtime.Snapshot) {
	d.b.mu.Lock()
	d.b.snap = snap
	d.b.mu.Unlock()
	d.send(tickMsg{id: d.m.tickID})
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
	older.Procs = []runtime.Process{{PID: 3000, InnerPID: 1, StartTime: 1, Namespaces: older.Namespaces}}
	snap.Containers = append([]runtime.Container{older}, snap.Containers...)
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
	old := d.m.tickID - 1
	mod, cmd := d.m.Update(tickMsg{id: old})
	if cmd != nil || mod.(Model).scanning {
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
	if d.m.focus != focusList || d.m.filter.Value() != "unsh" || d.selectedPID() != 5100 {
		t.Fatalf("after enter: focus %v filter %q selected %d", d.m.focus, d.m.filter.Value(), d.selectedPID())
	}
	// The kept filter survives a refresh.
	d.rescanWith(fakeSnapshot())
	if got := d.rowPIDs(); !slices.Equal(got, []int{5100, 5150}) {
		t.Fatalf("after refresh rows %v", got)
	}
	d.keys("/", "esc")
	if got := d.rowPIDs(); len(got) != 4 || d.m.filter.Value() != "" {
		t.Fatalf("after esc rows %v filter %q", got, d.m.filter.Value())
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
	if !strings.Contains(d.m.status, "stopped web (PID 4242): sent SIGTERM (handled), exited after 0.01 s") {
		t.Fatalf("status %q", d.m.status)
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
	if d.m.confirm != nil || d.m.form != nil || len(d.b.Calls()) != 0 {
		t.Fatalf("read-only UI acted: confirm %v form %v calls %v", d.m.confirm != nil, d.m.form != nil, d.b.Calls())
	}
}

func TestMountFlipAddRemove(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("m")
	if len(d.m.mounts) != 3 {
		t.Fatalf("mounts %v", d.m.mounts)
	}
	d.keys("space") // "/" is not boxtui's: refused without a call
	if len(d.b.Calls()) != 0 || !d.m.statusErr {
		t.Fatalf("flipping an unmanaged mount: calls %v status %q", d.b.Calls(), d.m.status)
	}
	d.keys("down", "down", "space")
	if got := d.b.Calls(); !slices.Equal(got, []string{"mount-ro 4242 /data ro=false"}) {
		t.Fatalf("calls %v", got)
	}
	if d.m.mounts[2].ReadOnly {
		t.Fatal("mount list not reloaded after the flip")
	}
	d.keys("a")
	d.typeText("/srv/www")
	d.keys("enter")
	d.typeText("/www")
	d.keys("enter", "enter") // read-only: default yes, submit
	if got := d.b.Calls(); len(got) != 2 || got[1] != "mount-add 4242 /srv/www /www ro=true" {
		t.Fatalf("calls %v", got)
	}
	if d.m.form != nil || len(d.m.mounts) != 4 {
		t.Fatalf("after add: form open %v, mounts %d", d.m.form != nil, len(d.m.mounts))
	}
	// The cursor is on the mount just added, so space or d act on it.
	if mt, ok := d.m.selectedMount(); !ok || mt.Target != "/www" {
		t.Fatalf("after add the cursor is on %+v, want the new /www", mt)
	}
	d.keys("up", "d", "y") // the fake refuses: the error reaches the status line
	if !d.m.statusErr || !strings.Contains(d.m.status, "remove mount /data from web: fake: not removed") {
		t.Fatalf("status %q", d.m.status)
	}
}

func TestMountFormRefusesRelativePath(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("m", "a")
	d.typeText("relative")
	d.keys("enter")
	if d.m.form == nil {
		t.Fatal("form moved on past a relative path")
	}
	if !strings.Contains(d.screen(), "absolute path") {
		t.Fatalf("no error shown:\n%s", d.screen())
	}
	d.keys("esc")
	if d.m.form != nil || len(d.b.Calls()) != 0 {
		t.Fatal("esc did not cancel cleanly")
	}
}

func TestLaunchOffersToCreateMissingRootfs(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.b.rootfs = false
	d.keys("n")
	d.typeText("demo")
	d.keys("enter", "enter", "enter", "enter", "enter")
	d.typeText("/srv:/srv")
	d.keys("enter")
	if d.m.confirm == nil || !strings.Contains(d.m.confirm.prompt, "does not exist") {
		t.Fatalf("no rootfs question; calls %v status %q", d.b.Calls(), d.m.status)
	}
	d.keys("y")
	want := []string{
		"create-rootfs /var/lib/boxtui/rootfs",
		"launch demo rootfs=/var/lib/boxtui/rootfs cmd= host= net=false mounts=[{/srv /srv false}]", // read-write, as run -v
	}
	got := d.b.Calls()
	if len(got) < 3 || !slices.Equal(got[:2], want) || !strings.HasPrefix(got[2], "console demo ") {
		t.Fatalf("calls %v", got)
	}
	if len(d.m.panes) != 1 || d.m.panes[0].kind != paneConsole || d.m.focus != focusPane {
		t.Fatalf("console pane not opened and focused: %d panes", len(d.m.panes))
	}
}

// The launch form's bind mounts follow run -v (and docker's -v):
// read-write unless :ro.
func TestParseMountSpecs(t *testing.T) {
	got, err := parseMountSpecs(" /a:/b , /c:/d:rw, /e:/f:ro")
	if err != nil || !slices.Equal(got, []MountSpec{{"/a", "/b", false}, {"/c", "/d", false}, {"/e", "/f", true}}) {
		t.Fatalf("got %v %v", got, err)
	}
	for _, bad := range []string{"/a", "a:/b", "/a:/b:xx", "/a:/b:ro:x"} {
		if _, err := parseMountSpecs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPaneKeysGoToShellUntilEscapeKey(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("e")
	if len(d.m.panes) != 1 || d.m.focus != focusPane {
		t.Fatal("exec pane not opened and focused")
	}
	d.typeText("q?x") // list keys, but the pane has the focus
	d.waitTyped(0, "q?x")
	if d.quit || d.m.showHelp || d.m.confirm != nil {
		t.Fatal("a key meant for the shell reached the list")
	}
	if !strings.Contains(d.screen(), "exec# q?x") {
		t.Fatalf("pane does not show the typed text:\n%s", d.screen())
	}
	v := d.m.View()
	if v.Cursor == nil || v.Cursor.X != 1+len("exec# q?x") {
		t.Fatalf("cursor %+v not in the pane", v.Cursor)
	}
	d.keys("ctrl+]")
	if d.m.focus != focusList {
		t.Fatal("ctrl+] did not return to the list")
	}
	d.keys("1")
	if d.m.focus != focusPane {
		t.Fatal("1 did not focus pane 1")
	}
}

func TestPaneExitClosesItAndSaysHow(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("e")
	p := d.m.panes[0]
	d.b.terms[0].exit(errors.New("exited with status 3"))
	d.await(waitPane(p))
	if len(d.m.panes) != 0 || d.m.focus != focusList {
		t.Fatalf("pane still open (%d) or focus %v", len(d.m.panes), d.m.focus)
	}
	if !strings.Contains(d.m.status, "pane 1 (web exec) ended: exited with status 3") {
		t.Fatalf("status %q", d.m.status)
	}
}

func TestResizeResizesEveryPane(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("enter", "ctrl+]", "e")
	d.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	for i, p := range d.m.panes {
		if p.cols != p.rect.w-2 || p.rows != p.rect.h-2 {
			t.Fatalf("pane %d size %dx%d in rect %+v", i, p.cols, p.rows, p.rect)
		}
		ft := d.b.terms[i]
		testutil.WaitForState(t, cmdDeadline, fmt.Sprintf("terminal %d to be %dx%d as its pane", i, p.cols, p.rows), func() (bool, string) {
			ft.mu.Lock()
			c, r := ft.cols, ft.rows
			ft.mu.Unlock()
			return c == p.cols && r == p.rows, fmt.Sprintf("%dx%d", c, r)
		})
	}
}

func TestRedrawsAreBoundedPerPane(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("e")
	p := d.m.panes[0]
	p.lastDraw = time.Now()
	// Two bursts of output inside one frame: one redraw message, not two.
	mod, cmd1 := d.m.Update(paneDirtyMsg{id: p.id})
	d.m = mod.(Model)
	mod, cmd2 := d.m.Update(paneDirtyMsg{id: p.id})
	d.m = mod.(Model)
	if cmd1 == nil || cmd2 != nil || !p.pending {
		t.Fatalf("want one pending redraw: cmd1 %v cmd2 %v pending %v", cmd1 != nil, cmd2 != nil, p.pending)
	}
	if msg := cmd1(); msg != (paneRedrawMsg{id: p.id}) {
		t.Fatalf("redraw message %#v", msg)
	}
	// Output after a quiet frame redraws at once.
	p.pending = false
	p.lastDraw = time.Now().Add(-time.Second)
	mod, _ = d.m.Update(paneDirtyMsg{id: p.id})
	d.m = mod.(Model)
	if p.pending {
		t.Fatal("a dirty pane after a quiet frame waited")
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

func TestQuitWithExecShellAsksFirst(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("e", "ctrl+]", "q")
	if d.quit || d.m.confirm == nil {
		t.Fatal("quit without asking about the exec shell")
	}
	d.keys("n")
	if d.quit || len(d.m.panes) != 1 {
		t.Fatal("answering no still quit")
	}
	d.keys("q", "y")
	if !d.quit {
		t.Fatal("did not quit")
	}
	select {
	case <-d.b.terms[0].done:
	default:
		t.Fatal("the exec shell was not closed")
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

func TestLaunchedContainerGetsSelected(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("n")
	d.typeText("fresh")
	d.keys("enter", "enter", "enter", "enter", "enter", "enter")
	snap := fakeSnapshot()
	c := snap.Containers[1]
	c.Name, c.PID, c.StartTime, c.Origin = "fresh", 7000, 900, runtime.OriginBoxtui
	snap.Containers = append(snap.Containers, c)
	d.rescanWith(snap)
	if got := d.selectedPID(); got != 7000 {
		t.Fatalf("selected %d, want the launched container 7000", got)
	}
}

func TestMouseClickFocusesPaneAndSelectsRow(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("e", "ctrl+]", "enter", "ctrl+]")
	if len(d.m.panes) != 2 || d.m.focus != focusList {
		t.Fatalf("%d panes, focus %v", len(d.m.panes), d.m.focus)
	}
	r := d.m.panes[0].rect
	d.send(tea.MouseClickMsg{X: r.x + 3, Y: r.y + 3, Button: tea.MouseLeft})
	if d.m.focus != focusPane || d.m.paneFocus != 0 {
		t.Fatalf("click in pane 1: focus %v pane %d", d.m.focus, d.m.paneFocus)
	}
	l := d.m.layout()
	d.send(tea.MouseClickMsg{X: 5, Y: l.list.y + 2, Button: tea.MouseLeft}) // second row
	if d.m.focus != focusList || d.selectedPID() != 5100 {
		t.Fatalf("click on row 2: focus %v selected %d", d.m.focus, d.selectedPID())
	}
}

func TestFailedLaunchKeepsTheForm(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.b.launchErr = errors.New(`container "web": name already in use`)
	d.keys("n")
	d.typeText("web")
	d.keys("enter", "enter", "enter", "enter", "enter", "enter")
	if !d.m.statusErr || !strings.Contains(d.m.status, "launch web: container \"web\": name already in use") {
		t.Fatalf("status %q", d.m.status)
	}
	d.keys("n")
	if d.m.form == nil || d.m.form.name != "web" {
		t.Fatal("the form did not come back with what was typed")
	}
	d.b.launchErr = nil
	d.typeText("2")
	d.keys("enter", "enter", "enter", "enter", "enter", "enter")
	if got := d.b.Calls(); !strings.HasPrefix(got[len(got)-2], "launch web2 ") {
		t.Fatalf("calls %v", got)
	}
	d.keys("ctrl+]", "n")
	if d.m.form == nil || d.m.form.name != "" {
		t.Fatal("after a launch that worked the form should start empty")
	}
}

func TestProcessCursorFollowsProcessAcrossRefresh(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("p", "down", "down") // top, PID 4301
	snap := fakeSnapshot()
	procs := snap.Containers[0].Procs
	// The exec'd shell (4300) exits: top moves up a row.
	snap.Containers[0].Procs = []runtime.Process{procs[0], procs[2]}
	d.rescanWith(snap)
	d.keys("x")
	if d.m.confirm == nil || !strings.Contains(d.m.confirm.prompt, "Kill process 4301") {
		t.Fatalf("question %+v", d.m.confirm)
	}
}

// TestExecFromProcessViewEntersThatProcess: `e` on a process in the
// process view opens a shell in that process's own namespaces (the backend
// gets the container with the process named), on the init it names the
// init, and `e` in the list still enters the init.
func TestExecFromProcessViewEntersThatProcess(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("p", "down", "down", "e") // top, in its own namespace set
	if got := d.b.Calls(); len(got) != 1 || !strings.HasPrefix(got[0], "exec 4242/4301@160 ") {
		t.Fatalf("calls %v, want an exec into process 4301 of container 4242", got)
	}
	if len(d.m.panes) != 1 || d.m.panes[0].label != "web/4301" {
		t.Fatalf("%d panes, want one labelled web/4301", len(d.m.panes))
	}
	for _, keys := range [][]string{{"p", "e"}, {"e"}} { // the init, from the view and from the list
		d := newDriver(t, 100, 30, Options{})
		d.keys(keys...)
		if got := d.b.Calls(); len(got) != 1 || !strings.HasPrefix(got[0], "exec 4242 ") {
			t.Fatalf("keys %q: calls %v, want an exec into the init of container 4242", keys, got)
		}
	}
}

// TestDebugKeyOpensADebugShell: `d` in the list opens a debug shell in a
// pane for the selected container; it counts as an exec shell when quitting,
// and is off in read-only mode.
func TestDebugKeyOpensADebugShell(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("d")
	if got := d.b.Calls(); len(got) != 1 || !strings.HasPrefix(got[0], "debug 4242 ") {
		t.Fatalf("calls %v, want a debug shell for container 4242", got)
	}
	if len(d.m.panes) != 1 || d.m.panes[0].label != "debug:web" {
		t.Fatalf("%d panes, want one labelled debug:web", len(d.m.panes))
	}
	d.keys("ctrl+]", "q")
	if d.quit || d.m.confirm == nil {
		t.Fatal("quit without asking about the debug shell")
	}
	ro := newDriver(t, 100, 30, Options{ReadOnly: true})
	ro.keys("d")
	if len(ro.b.Calls()) != 0 || len(ro.m.panes) != 0 {
		t.Fatalf("read-only mode opened a debug shell: %v", ro.b.Calls())
	}
}

// w on an exec shell asks first, as q does: closing hangs the shell up. A
// console pane only disconnects, so it closes at once.
func TestClosingAnExecShellAsksFirst(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("e")
	if len(d.m.panes) != 1 || d.m.panes[0].kind != paneExec {
		t.Fatalf("%d panes after e", len(d.m.panes))
	}
	term := d.b.terms[0]
	d.keys("ctrl+]", "w")
	if d.m.confirm == nil || !strings.Contains(d.m.confirm.prompt, "will be hung up") || len(d.m.panes) != 1 {
		t.Fatalf("w closed the exec shell without asking: %d panes, confirm %v", len(d.m.panes), d.m.confirm)
	}
	d.keys("n")
	term.mu.Lock()
	closed := term.closed
	term.mu.Unlock()
	if len(d.m.panes) != 1 || closed {
		t.Fatalf("answered no, yet the pane closed (%d panes, terminal closed %v)", len(d.m.panes), closed)
	}
	d.keys("w", "y")
	if len(d.m.panes) != 0 {
		t.Fatalf("answered yes, %d panes left", len(d.m.panes))
	}
	term.mu.Lock()
	defer term.mu.Unlock()
	if !term.closed {
		t.Fatal("answered yes, yet the shell's terminal is open")
	}
}

// A status about one screen does not linger into the next: opening the
// mounts panel, a form or help leaves it behind, unless the key set one.
func TestOldStatusDoesNotLingerIntoTheNextScreen(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.m.setStatus("stopped web (PID 4242): sent SIGTERM", false)
	d.keys("m")
	if d.m.status != "" {
		t.Fatalf("opening the mounts panel kept %q", d.m.status)
	}
	d.m.setStatus("removed mount /data", false)
	d.keys("a")
	if d.m.form == nil || d.m.status != "" {
		t.Fatalf("opening the mount form kept %q (form open %v)", d.m.status, d.m.form != nil)
	}
	d.keys("esc")
	d.keys("down") // same screen: a status set now stays
	d.m.setStatus("kept", false)
	d.keys("down")
	if d.m.status != "kept" {
		t.Fatalf("moving within a screen dropped the status: %q", d.m.status)
	}
}

// Under NO_COLOR a form's placeholder keeps no grey to set it apart, so it
// is shown in parentheses: "> (web)" is a hint, "> web" a value.
func TestNoColorPlaceholdersDoNotLookLikeValues(t *testing.T) {
	d := newDriver(t, 100, 30, Options{NoColor: true})
	d.keys("n")
	if s := d.screen(); !strings.Contains(s, "> (web)") {
		t.Fatalf("the name's placeholder reads like a value:\n%s", s)
	}
	c := newDriver(t, 100, 30, Options{})
	c.keys("n")
	if s := c.screen(); !strings.Contains(s, "> web") || strings.Contains(s, "> (web)") {
		t.Fatalf("with colour the placeholder is its grey text:\n%s", s)
	}
}

// The status line names the pane that has the keys: after e opened pane 2,
// ctrl+] and 1 give them to pane 1, and the line says pane 1.
func TestStatusNamesThePaneThatHasTheKeys(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("enter")       // pane 1: web's console
	d.keys("ctrl+]", "e") // pane 2: an exec shell
	d.keys("ctrl+]", "1")
	if d.m.focus != focusPane || d.m.paneFocus != 0 {
		t.Fatalf("focus %v on pane %d, want pane 1", d.m.focus, d.m.paneFocus+1)
	}
	if !strings.HasPrefix(d.m.status, "pane 1: ") {
		t.Fatalf("status %q, want it to name pane 1", d.m.status)
	}
}

// A panel on screen and where the keys go never disagree: with the mounts
// panel open, a pane's ctrl+] gives the keys back to the panel, so ↓ moves
// in the mounts, not the container selection.
func TestReleasingAPaneGoesBackToTheOpenPanel(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("m")
	sel := d.m.selPID
	d.keys("e", "ctrl+]")
	if d.m.detail != detailMounts || d.m.focus != focusDetail {
		t.Fatalf("after ctrl+] the mounts panel is shown (%v) but the keys are on %v", d.m.detail == detailMounts, d.m.focus)
	}
	d.keys("down")
	if d.m.selPID != sel || d.m.mountCur != 1 {
		t.Fatalf("↓ moved the container selection (%d -> %d) or not the mount cursor (%d)", sel, d.m.selPID, d.m.mountCur)
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
	if strings.ContainsAny(d.m.status, "\x1b\n") {
		t.Fatalf("the status line carries raw control characters: %q", d.m.status)
	}
}
