package ui

import (
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
)

// tapRig is a key tap reading a pipe, its keys routed to a fake pane.
type tapRig struct {
	t      *testing.T
	tap    *keyTap
	w      *os.File
	term   *fakeTerminal
	queued atomic.Int64
	passed strings.Builder // what bubbletea got
}

func newTapRig(t *testing.T) *tapRig {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	rig := &tapRig{t: t, tap: newKeyTap(r), w: w, term: newFakeBackend().newTerm(80, 24, "")}
	rig.tap.kept['!'] = true
	rig.tap.route.Store(&keyRoute{term: rig.term, queued: &rig.queued, kept: &rig.tap.kept})
	return rig
}

// read writes in to the terminal's side and returns what one Read of the
// tap hands bubbletea.
func (rig *tapRig) read(in string) string {
	rig.t.Helper()
	if in != "" {
		if _, err := rig.w.WriteString(in); err != nil {
			rig.t.Fatal(err)
		}
	}
	buf := make([]byte, 4096)
	n, err := rig.tap.Read(buf)
	if err != nil {
		rig.t.Fatal(err)
	}
	rig.passed.Write(buf[:n])
	return string(buf[:n])
}

// drain is the filter seeing every marker handed to bubbletea.
func (rig *tapRig) drain() {
	for rig.tap.drained.Load() < rig.tap.inserted {
		if rig.tap.filter(tea.ModeReportMsg{Mode: ansi.DECMode(tapMarkerMode)}) != nil {
			rig.t.Fatal("the filter kept a marker")
		}
	}
}

func (rig *tapRig) typed() string {
	rig.term.mu.Lock()
	defer rig.term.mu.Unlock()
	return rig.term.typed.String()
}

// The tap sends printable keys to the focused pane and hands bubbletea
// everything else, with markers; it never sends a key before bubbletea has
// been through every key handed to it earlier.
func TestKeyTapKeepsKeysInOrder(t *testing.T) {
	rig := newTapRig(t)
	if got := rig.read("ab"); got != "" || rig.typed() != "ab" {
		t.Fatalf("printable keys: bubbletea got %q, the pane %q", got, rig.typed())
	}
	// A key the UI keeps: to bubbletea, with a marker after it.
	if got := rig.read("x!"); got != "x!"+tapMarker || rig.typed() != "ab" {
		t.Fatalf("a kept key: bubbletea got %q, the pane %q", got, rig.typed())
	}
	// Until bubbletea has been through it, keys follow it there.
	if got := rig.read("c"); got != "c"+tapMarker || rig.typed() != "ab" {
		t.Fatalf("a key after one not yet handled: bubbletea got %q, the pane %q", got, rig.typed())
	}
	rig.drain()
	if got := rig.read("d"); got != "" || rig.typed() != "abd" {
		t.Fatalf("after the markers: bubbletea got %q, the pane %q", got, rig.typed())
	}
	// An escape sequence may be cut short by the read: no marker after it,
	// nor after what follows it soon.
	if got := rig.read("\x1b["); got != "\x1b[" {
		t.Fatalf("a sequence cut short: bubbletea got %q", got)
	}
	if got := rig.read("A"); got != "A" || rig.typed() != "abd" {
		t.Fatalf("the rest of the sequence: bubbletea got %q, the pane %q", got, rig.typed())
	}
	rig.drain()
	if got := rig.read("e"); got != "e" || rig.typed() != "abd" {
		t.Fatalf("a key soon after a sequence: bubbletea got %q, the pane %q", got, rig.typed())
	}
	// Once bubbletea's parser has let go, the marker goes alone, before the
	// next read; the key after it waits for it.
	rig.tap.owedAt = time.Now().Add(-markerQuiet)
	if _, err := rig.w.WriteString("f"); err != nil {
		t.Fatal(err)
	}
	if got := rig.read(""); got != tapMarker {
		t.Fatalf("the owed marker: bubbletea got %q", got)
	}
	if got := rig.read(""); got != "f"+tapMarker || rig.typed() != "abd" {
		t.Fatalf("a key after the owed marker: bubbletea got %q, the pane %q", got, rig.typed())
	}
	rig.drain()
	if got := rig.read("g"); got != "" || rig.typed() != "abdg" {
		t.Fatalf("after the owed marker: bubbletea got %q, the pane %q", got, rig.typed())
	}
	// Control keys, and keys for a pane with operations queued, go to
	// bubbletea.
	if got := rig.read("\r"); got != "\r"+tapMarker {
		t.Fatalf("enter: bubbletea got %q", got)
	}
	rig.drain()
	rig.queued.Store(1)
	if got := rig.read("h"); got != "h"+tapMarker || rig.typed() != "abdg" {
		t.Fatalf("a pane with operations queued: bubbletea got %q, the pane %q", got, rig.typed())
	}
	rig.queued.Store(0)
	rig.drain()
	// No pane to type into: everything to bubbletea.
	rig.tap.route.Store(nil)
	if got := rig.read("i"); got != "i"+tapMarker {
		t.Fatalf("no pane: bubbletea got %q", got)
	}
}

// The keys the tap sends are the ones bubbletea would have read.
func TestPrintableKeyIsBubbleteasKey(t *testing.T) {
	var d uv.EventDecoder
	for c := byte(0x20); c <= 0x7e; c++ {
		_, ev := d.Decode([]byte{c})
		k, ok := ev.(uv.KeyPressEvent)
		if !ok || printableKey(c) != k {
			t.Fatalf("%q: %#v, bubbletea reads %#v", c, printableKey(c), ev)
		}
	}
}

// bubbletea reads the tap's marker as a mode report the filter drops.
func TestKeyTapMarkerIsAModeReport(t *testing.T) {
	var d uv.EventDecoder
	n, ev := d.Decode([]byte(tapMarker))
	e, ok := ev.(uv.ModeReportEvent)
	if !ok || n != len(tapMarker) {
		t.Fatalf("the marker reads as %#v (%d bytes)", ev, n)
	}
	tap := newKeyTap(nil)
	if tap.filter(tea.ModeReportMsg(e)) != nil || tap.drained.Load() != 1 {
		t.Fatal("the filter did not count and drop the marker")
	}
	if tap.filter(tea.ModeReportMsg{Mode: ansi.ModeSynchronizedOutput}) == nil {
		t.Fatal("the filter dropped another mode report")
	}
}

// Keys that follow keys sent to the pane within tapLinger go the same way,
// in the same read of bubbletea's.
func TestKeyTapTakesTheKeysThatFollow(t *testing.T) {
	rig := newTapRig(t)
	// However slowly a loaded machine runs the test, "b" comes in time.
	rig.tap.linger = 2 * time.Second
	got := make(chan string, 1)
	if _, err := rig.w.WriteString("a"); err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 4096)
		n, _ := rig.tap.Read(buf)
		got <- string(buf[:n])
	}()
	wait := func(want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for rig.typed() != want {
			if time.Now().After(deadline) {
				t.Fatalf("the pane got %q, want %q", rig.typed(), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	wait("a")
	if _, err := rig.w.WriteString("b"); err != nil {
		t.Fatal(err)
	}
	wait("ab")
	select {
	case s := <-got:
		if s != "" {
			t.Fatalf("bubbletea got %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the read never ended")
	}
}

// A bracketed paste that comes in pieces far apart gets no marker inside
// it (bubbletea would paste the marker), and the keys after it wait for
// the marker after its end.
func TestKeyTapLeavesPastesWhole(t *testing.T) {
	rig := newTapRig(t)
	if got := rig.read("\x1b[20"); got != "\x1b[20" {
		t.Fatalf("the paste's start, cut: bubbletea got %q", got)
	}
	if got := rig.read("0~pasted "); got != "0~pasted " {
		t.Fatalf("the paste's first text: bubbletea got %q", got)
	}
	rig.tap.owedAt = time.Now().Add(-markerQuiet)
	if got := rig.read("text"); got != "text" || rig.typed() != "" {
		t.Fatalf("the paste's text long after: bubbletea got %q, the pane %q", got, rig.typed())
	}
	if got := rig.read("\x1b[201~"); got != "\x1b[201~" {
		t.Fatalf("the paste's end: bubbletea got %q", got)
	}
	rig.tap.owedAt = time.Now().Add(-markerQuiet)
	if _, err := rig.w.WriteString("k"); err != nil {
		t.Fatal(err)
	}
	if got := rig.read(""); got != tapMarker {
		t.Fatalf("after the paste: bubbletea got %q, not the marker", got)
	}
	rig.drain()
	if got := rig.read(""); got != "" || rig.typed() != "k" {
		t.Fatalf("a key after the paste: bubbletea got %q, the pane %q", got, rig.typed())
	}
}
