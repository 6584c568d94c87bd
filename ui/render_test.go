package ui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// freshView is what View draws for m with nothing cached.
func freshView(m Model) string {
	m.cache = &viewCache{}
	return m.View().Content
}

// TestCachedViewIsTheFreshView walks through panes, list and focus changes
// and checks after each step that the view drawn with the cache (which
// keeps the screen around the panes while only a pane changes) is the one
// drawn without it.
func TestCachedViewIsTheFreshView(t *testing.T) {
	d := newDriver(t, 120, 40, Options{})
	check := func(step string) {
		t.Helper()
		if got, want := d.m.View().Content, freshView(d.m); got != want {
			t.Fatalf("after %s the cached view differs from a fresh one:\n--- cached ---\n%s\n--- fresh ---\n%s", step, got, want)
		}
	}
	check("start")
	d.keys("e")
	check("exec pane")
	d.typeText("echo hi")
	d.waitTyped(0, "echo hi")
	check("typing in the pane")
	gen := d.m.gen
	d.send(paneRedrawMsg{id: d.m.panes.all[0].id})
	d.typeText("!")
	d.waitTyped(0, "echo hi!")
	if d.m.gen != gen {
		t.Fatal("pane output and keys for the pane drew the list again")
	}
	check("more typing")
	d.keys("ctrl+]")
	check("back to the list")
	d.keys("down")
	check("list cursor")
	d.keys("e")
	check("second pane")
	d.send(tea.WindowSizeMsg{Width: 100, Height: 30})
	check("resize")
	d.keys("ctrl+]", "1")
	d.typeText("x")
	d.waitTyped(0, "echo hi!x")
	check("pane 1 again")
	d.keys("ctrl+]", "x")
	check("kill question")
}

// blockingTerm is a shell whose terminal takes no paste until gate
// closes, so what comes after it fills the pane's queue.
type blockingTerm struct {
	*fakeTerminal
	gate chan struct{}
}

func (t *blockingTerm) Paste(s string) {
	<-t.gate
	t.fakeTerminal.Paste(s)
}

// TestResizeReachesAPaneWhoseQueueWasFull resizes the UI while a pane's
// queue is full: the new size must reach the terminal once it catches up
// (it used to be dropped for good, and the program kept its old size).
func TestResizeReachesAPaneWhoseQueueWasFull(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	cols, rows := d.m.newPaneSize()
	bt := &blockingTerm{fakeTerminal: d.b.newTerm(cols, rows, "# "), gate: make(chan struct{})}
	d.handle(opened(bt, paneExec, "busy", 1, cols, rows))
	if len(d.m.panes.all) != 1 {
		t.Fatal("pane not opened")
	}
	p := d.m.panes.all[0]
	d.send(tea.PasteMsg{Content: "stuck"})
	for i := 0; !strings.Contains(d.m.status.text, "key dropped"); i++ {
		if i > 5000 {
			t.Fatal("the pane's queue never filled")
		}
		d.send(tea.KeyPressMsg{Code: 'x', Text: "x"})
	}
	d.send(tea.WindowSizeMsg{Width: 130, Height: 45})
	if p.cols == cols && p.rows == rows {
		t.Fatalf("the pane kept its size %dx%d", cols, rows)
	}
	close(bt.gate)
	deadline := time.Now().Add(5 * time.Second)
	for {
		bt.mu.Lock()
		c, r := bt.cols, bt.rows
		bt.mu.Unlock()
		if c == p.cols && r == p.rows {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("terminal is %dx%d, pane %dx%d: the resize was lost", c, r, p.cols, p.rows)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestKeyDoesNotOvertakeAQueuedPaste: a key goes straight to the terminal
// only when nothing is queued before it.
func TestKeyDoesNotOvertakeAQueuedPaste(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	cols, rows := d.m.newPaneSize()
	bt := &blockingTerm{fakeTerminal: d.b.newTerm(cols, rows, "# "), gate: make(chan struct{})}
	d.handle(opened(bt, paneExec, "busy", 1, cols, rows))
	d.typeText("a")
	d.waitTyped(0, "a")
	d.send(tea.PasteMsg{Content: "b"})
	d.typeText("c")
	bt.mu.Lock()
	early := bt.typed.String()
	bt.mu.Unlock()
	close(bt.gate)
	d.waitTyped(0, "abc")
	if early != "a" {
		t.Fatalf("before the paste was taken the terminal had %q, want %q", early, "a")
	}
}
