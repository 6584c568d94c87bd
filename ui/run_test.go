package ui

import (
	"runtime"
	"testing"
)

// The idle list runs on idleProcs Ps; an open pane gets every P back, and
// the filter passes every message through unchanged.
func TestProcsFilterFollowsPanes(t *testing.T) {
	full := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(full) })
	if full < 2 {
		t.Skip("needs 2 CPUs to see GOMAXPROCS change")
	}
	f := procsFilter(full)
	type ping struct{}
	if got := f(Model{}, ping{}); got != (ping{}) {
		t.Fatalf("filter changed the message: %#v", got)
	}
	if n := runtime.GOMAXPROCS(0); n != idleProcs {
		t.Fatalf("no pane open: GOMAXPROCS %d, want %d", n, idleProcs)
	}
	f(Model{panes: paneSet{all: []*pane{{}}}}, ping{})
	if n := runtime.GOMAXPROCS(0); n != full {
		t.Fatalf("a pane open: GOMAXPROCS %d, want %d", n, full)
	}
	f(Model{}, ping{})
	if n := runtime.GOMAXPROCS(0); n != idleProcs {
		t.Fatalf("pane closed: GOMAXPROCS %d, want %d", n, idleProcs)
	}
}
