package ui

import (
	"strings"
	"testing"
)

// TestExecAsEngineKeyOpensAnEnginePane: E on the list execs as the engine
// would, in its own pane; e stays the plain (nsenter) exec.
func TestExecAsEngineKeyOpensAnEnginePane(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("E")
	if got := d.b.Calls(); len(got) != 1 || !strings.HasPrefix(got[0], "exec-as-engine 4242 ") {
		t.Fatalf("calls %v, want an exec as the engine into container 4242", got)
	}
	if len(d.m.panes.all) != 1 || d.m.panes.all[0].label != "web (engine)" {
		t.Fatalf("%d panes, want one labelled %q", len(d.m.panes.all), "web (engine)")
	}
	d = newDriver(t, 100, 30, Options{})
	d.keys("e")
	if got := d.b.Calls(); len(got) != 1 || !strings.HasPrefix(got[0], "exec 4242 ") {
		t.Fatalf("e: calls %v, want the plain exec", got)
	}
}
