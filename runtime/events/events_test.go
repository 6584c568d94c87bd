package events

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"boxtui/runtime/discovery"
	"boxtui/runtime/namespace"
	"boxtui/runtime/procfs"
	"boxtui/runtime/state"
)

func TestEventsRecordReadTrim(t *testing.T) {
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	if err := state.Create(state.State{Name: "web", Status: state.StatusRunning}); err != nil {
		t.Fatal(err)
	}
	web := discovery.Container{Name: "web"}
	other := discovery.Container{Namespaces: namespace.Set{namespace.PID: 4026532999}, StartTime: 777}
	if Key(other) != "pidns:4026532999@777" {
		t.Fatalf("key %q", Key(other))
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				if err := Record(web, MountAdded, fmt.Sprintf("w%d-%d", i, j), "boxtui mount"); err != nil {
					t.Error(err)
				}
			}
		}(i)
	}
	wg.Wait()
	if err := Record(other, ExecOpened, "pid 42", "boxtui exec"); err != nil {
		t.Fatal(err)
	}
	evs, err := Read("web")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) < maxEvents || len(evs) > 800 {
		t.Errorf("%d events kept, want between %d and 800 (bounded)", len(evs), maxEvents)
	}
	for _, e := range evs {
		if e.Kind != MountAdded || !strings.HasPrefix(e.Detail, "w") {
			t.Fatalf("interleaved or corrupt event %+v", e)
		}
	}
	all, err := All()
	if err != nil || len(all) != len(evs)+1 {
		t.Errorf("AllEvents: %d, %v", len(all), err)
	}
	if _, err := Read("../x"); err == nil {
		t.Error("a bad key must be refused")
	}
	// Same namespace inode, later start: a different container, no history.
	if evs, err := Read("pidns:4026532999@778"); err != nil || len(evs) != 0 {
		t.Errorf("no history: %v %v", evs, err)
	}
}

func TestDecodeEventsSkipsTornLines(t *testing.T) {
	in := `{"time":"2026-01-01T00:00:00Z","container":"a","kind":"started"}
{"time":"2026-01-01T00:00:01Z","container":"a","ki
{"time":"2026-01-01T00:00:02Z","container":"a","kind":"exited","detail":"status 0"}
`
	evs, err := Decode(strings.NewReader(in))
	if err != nil || len(evs) != 2 || evs[1].Detail != "status 0" {
		t.Fatalf("got %+v, %v", evs, err)
	}
}

func FuzzDecodeEvents(f *testing.F) {
	f.Add([]byte(`{"time":"2026-01-01T00:00:00Z","container":"a","kind":"started"}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, _ := Decode(strings.NewReader(string(data)))
		for _, e := range evs {
			if e.Kind == "" {
				t.Fatal("accepted an event without a kind")
			}
		}
	})
}

// A boxtui container's history lives in its state directory, which only a
// claim makes: an event recorded after the state was removed (a holder
// recording the exit after `rm`) fails and brings nothing back.
func TestRecordEventNeverRecreatesARemovedState(t *testing.T) {
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	if err := state.Create(state.State{Name: "web", Status: state.StatusRunning}); err != nil {
		t.Fatal(err)
	}
	if err := state.Remove("web"); err != nil {
		t.Fatal(err)
	}
	if err := RecordKey("web", Exited, "exit code 0", ""); err == nil {
		t.Error("recording an event of a removed container succeeded")
	}
	if _, err := state.Load("web"); err == nil || !strings.Contains(err.Error(), state.ErrNoState.Error()) {
		t.Errorf("state after a late event: %v", err)
	}
	if names, _ := state.List(); len(names) != 0 {
		t.Errorf("states after a late event: %v", names)
	}
	if entries, _ := os.ReadDir(state.RunDir()); len(entries) != 0 {
		t.Errorf("run dir after a late event: %v", entries)
	}
}

// Names the state directory keeps for itself are refused with the reason.
func TestReservedNamesAreInvalid(t *testing.T) {
	for _, name := range []string{"events", "mounts"} {
		err := state.ValidateName(name)
		if err == nil || !strings.Contains(err.Error(), "reserved") {
			t.Errorf("ValidateName(%q) = %v, want a refusal saying it is reserved", name, err)
		}
		if err := state.Create(state.State{Name: name, Status: state.StatusCreating}); err == nil {
			t.Errorf("CreateState(%q) succeeded", name)
		}
	}
}

// Execs are paired by their host PID in order; only an exec left open by
// a client that is gone is closed, once, and old events naming no client
// are left as they are.
func TestOrphanedExecs(t *testing.T) {
	me := os.Getpid()
	myStart := procfs.LiveStartTime(me)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ev := func(sec int, kind, detail string, pid int, start uint64) Event {
		return Event{Time: t0.Add(time.Duration(sec) * time.Second), Container: "web", Kind: kind, Detail: detail, ClientPID: pid, ClientStart: start}
	}
	evs := []Event{
		ev(1, ExecOpened, "host pid 10: sh", 1<<22+1, 1), // client gone, closed later
		ev(2, ExecClosed, "host pid 10: exited with status 0", 0, 0),
		ev(3, ExecOpened, "host pid 10: sh", 1<<22+1, 2),    // PID 10 again: client gone, never closed
		ev(4, ExecOpened, "host pid 11: top", me, myStart),  // client alive
		ev(5, ExecOpened, "host pid 12: old", 0, 0),         // an old event naming no client
		ev(6, ExecOpened, "host pid 13: ls", me, myStart+1), // that PID is someone else now
		ev(7, MountAdded, "/a on /b", 0, 0),
	}
	got := orphanedExecs(evs)
	if len(got) != 2 || got[0].Detail != "host pid 10: "+ExecClientGone || got[1].Detail != "host pid 13: "+ExecClientGone {
		t.Fatalf("orphanedExecs = %+v", got)
	}
	for _, e := range got {
		if e.Kind != ExecClosed || !e.Time.Equal(evs[len(evs)-1].Time) || e.Container != "web" {
			t.Errorf("synthesized close %+v", e)
		}
	}
	if again := orphanedExecs(append(evs, got...)); len(again) != 0 {
		t.Errorf("closes once written are computed again: %+v", again)
	}
}
