package ui

import (
	"testing"

	tea "charm.land/bubbletea/v2"
)

// TestViewMemoDrawsWhatViewDraws draws every screen of a walk through two
// panes (focus moving between them and the list, a title set by a
// program, copy mode, help) with the frame clock's memo and without it:
// the two must be the same.
func TestViewMemoDrawsWhatViewDraws(t *testing.T) {
	d := newDriver(t, 120, 40, Options{})
	fc := newFrameClock(10)
	check := func(step string) {
		t.Helper()
		m := d.m
		m.frames = nil
		want := m.View().Content
		m.frames = fc
		// Twice: the second is drawn from what the first kept.
		for i := 0; i < 2; i++ {
			if got := m.View().Content; got != want {
				t.Fatalf("%s: the view drawn with the memo differs:\n%s\nwithout:\n%s", step, got, want)
			}
		}
	}
	check("the list")
	cols, rows := d.m.newPaneSize()
	one := newMouseTerm(cols, rows, "one$ ")
	d.send(opened(one, paneExec, "one", 1, cols, rows))
	check("one pane")
	cols, rows = d.m.newPaneSize()
	two := newMouseTerm(cols, rows, "\x1b]2;a title\x07two$ ")
	d.send(opened(two, paneExec, "two", 2, cols, rows))
	check("two panes")
	d.send(paneDirtyMsg{id: d.m.panes.all[1].id})
	check("a title")
	d.keys("ctrl+]")
	check("the list again")
	d.keys("ctrl+]", "[")
	check("copy mode")
	d.keys("q")
	check("copy mode left")
	d.send(tea.WindowSizeMsg{Width: 100, Height: 30})
	check("resized")
	d.keys("?")
	check("help")
}
