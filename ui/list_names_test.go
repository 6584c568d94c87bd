package ui

import (
	"testing"

	"boxtui/runtime/discovery"
	"boxtui/runtime/state"
)

// TestListShowsAndFindsEngineNames: the list's NAME column shows boxtui's
// name, else the engine's; the filter finds a container by its engine's
// name and by a prefix of its engine ID, as a TARGET does; titles and
// messages name it so too.
func TestListShowsAndFindsEngineNames(t *testing.T) {
	cs := []discovery.Container{
		{PID: 1, Origin: discovery.OriginBoxtui, Name: "box", Status: state.StatusRunning},
		{PID: 2, Origin: discovery.OriginDocker, EngineName: "web", EngineID: "0e09800b4182aa", Status: state.StatusRunning},
		{PID: 3, Origin: discovery.OriginUnshare, Status: state.StatusRunning},
	}
	var l containerList
	for i, want := range []string{"box", "web", "-"} {
		if got := l.cells(cs[i], fakeNow)[0].Text; got != want {
			t.Errorf("NAME cell of pid %d = %q, want %q", cs[i].PID, got, want)
		}
	}
	for filter, want := range map[string]int{"web": 2, "0e0980": 2, "docker": 2, "box": 1} {
		got := visibleContainers(cs, filter, sortName, false, nil, false)
		if len(got) != 1 || got[0].PID != want {
			t.Errorf("filter %q: %d containers, want only pid %d", filter, len(got), want)
		}
	}
	if got := visibleContainers(cs, "", sortName, false, nil, false); got[0].PID != 3 || got[1].PID != 1 || got[2].PID != 2 {
		t.Errorf("sort by name: pids %d %d %d, want 3 1 2 (\"\" < box < web)", got[0].PID, got[1].PID, got[2].PID)
	}
	if got := containerLabel(cs[1]); got != "web (PID 2)" {
		t.Errorf("containerLabel = %q", got)
	}
	if got := shortLabel(cs[1]); got != "web" {
		t.Errorf("shortLabel = %q", got)
	}
}
