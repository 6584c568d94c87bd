package ui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"

	tea "charm.land/bubbletea/v2"
)

func TestPaneKeysGoToShellUntilEscapeKey(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("e")
	if len(d.m.panes.all) != 1 || d.m.focus != focusPane {
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
	p := d.m.panes.all[0]
	d.b.terms[0].exit(errors.New("exited with status 3"))
	d.await(waitPane(p))
	if len(d.m.panes.all) != 0 || d.m.focus != focusList {
		t.Fatalf("pane still open (%d) or focus %v", len(d.m.panes.all), d.m.focus)
	}
	if !strings.Contains(d.m.status.text, "pane 1 (web exec) ended: exited with status 3") {
		t.Fatalf("status %q", d.m.status.text)
	}
}

func TestResizeResizesEveryPane(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("enter", "ctrl+]", "e")
	d.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	for i, p := range d.m.panes.all {
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
	p := d.m.panes.all[0]
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

func TestQuitWithExecShellAsksFirst(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("e", "ctrl+]", "q")
	if d.quit || d.m.confirm == nil {
		t.Fatal("quit without asking about the exec shell")
	}
	d.keys("n")
	if d.quit || len(d.m.panes.all) != 1 {
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

func TestMouseClickFocusesPaneAndSelectsRow(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("e", "ctrl+]", "enter", "ctrl+]")
	if len(d.m.panes.all) != 2 || d.m.focus != focusList {
		t.Fatalf("%d panes, focus %v", len(d.m.panes.all), d.m.focus)
	}
	r := d.m.panes.all[0].rect
	d.send(tea.MouseClickMsg{X: r.x + 3, Y: r.y + 3, Button: tea.MouseLeft})
	if d.m.focus != focusPane || d.m.panes.focus != 0 {
		t.Fatalf("click in pane 1: focus %v pane %d", d.m.focus, d.m.panes.focus)
	}
	l := d.m.layout()
	d.send(tea.MouseClickMsg{X: 5, Y: l.list.y + 2, Button: tea.MouseLeft}) // second row
	if d.m.focus != focusList || d.selectedPID() != 5100 {
		t.Fatalf("click on row 2: focus %v selected %d", d.m.focus, d.selectedPID())
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
	if len(d.m.panes.all) != 1 || d.m.panes.all[0].label != "web/4301" {
		t.Fatalf("%d panes, want one labelled web/4301", len(d.m.panes.all))
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
	if len(d.m.panes.all) != 1 || d.m.panes.all[0].label != "debug:web" {
		t.Fatalf("%d panes, want one labelled debug:web", len(d.m.panes.all))
	}
	d.keys("ctrl+]", "q")
	if d.quit || d.m.confirm == nil {
		t.Fatal("quit without asking about the debug shell")
	}
	ro := newDriver(t, 100, 30, Options{ReadOnly: true})
	ro.keys("d")
	if len(ro.b.Calls()) != 0 || len(ro.m.panes.all) != 0 {
		t.Fatalf("read-only mode opened a debug shell: %v", ro.b.Calls())
	}
}

// w on an exec shell asks first, as q does: closing hangs the shell up. A
// console pane only disconnects, so it closes at once.
func TestClosingAnExecShellAsksFirst(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("e")
	if len(d.m.panes.all) != 1 || d.m.panes.all[0].kind != paneExec {
		t.Fatalf("%d panes after e", len(d.m.panes.all))
	}
	term := d.b.terms[0]
	d.keys("ctrl+]", "w")
	if d.m.confirm == nil || !strings.Contains(d.m.confirm.prompt, "will be hung up") || len(d.m.panes.all) != 1 {
		t.Fatalf("w closed the exec shell without asking: %d panes, confirm %v", len(d.m.panes.all), d.m.confirm)
	}
	d.keys("n")
	term.mu.Lock()
	closed := term.closed
	term.mu.Unlock()
	if len(d.m.panes.all) != 1 || closed {
		t.Fatalf("answered no, yet the pane closed (%d panes, terminal closed %v)", len(d.m.panes.all), closed)
	}
	d.keys("w", "y")
	if len(d.m.panes.all) != 0 {
		t.Fatalf("answered yes, %d panes left", len(d.m.panes.all))
	}
	term.mu.Lock()
	defer term.mu.Unlock()
	if !term.closed {
		t.Fatal("answered yes, yet the shell's terminal is open")
	}
}

// The status line names the pane that has the keys: after e opened pane 2,
// ctrl+] and 1 give them to pane 1, and the line says pane 1.
func TestStatusNamesThePaneThatHasTheKeys(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("enter")       // pane 1: web's console
	d.keys("ctrl+]", "e") // pane 2: an exec shell
	d.keys("ctrl+]", "1")
	if d.m.focus != focusPane || d.m.panes.focus != 0 {
		t.Fatalf("focus %v on pane %d, want pane 1", d.m.focus, d.m.panes.focus+1)
	}
	if !strings.HasPrefix(d.m.status.text, "pane 1: ") {
		t.Fatalf("status %q, want it to name pane 1", d.m.status.text)
	}
}

// A panel on screen and where the keys go never disagree: with the mounts
// panel open, a pane's ctrl+] gives the keys back to the panel, so ↓ moves
// in the mounts, not the container selection.
func TestReleasingAPaneGoesBackToTheOpenPanel(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("m")
	sel := d.m.list.selPID
	d.keys("e", "ctrl+]")
	if d.m.detail != detailMounts || d.m.focus != focusDetail {
		t.Fatalf("after ctrl+] the mounts panel is shown (%v) but the keys are on %v", d.m.detail == detailMounts, d.m.focus)
	}
	d.keys("down")
	if d.m.list.selPID != sel || d.m.mounts.cur != 1 {
		t.Fatalf("↓ moved the container selection (%d -> %d) or not the mount cursor (%d)", sel, d.m.list.selPID, d.m.mounts.cur)
	}
}
