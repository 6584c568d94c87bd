package ui

import (
	"bytes"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
	"golang.org/x/sys/unix"
)

// Typing into a pane without the event loop.
//
// bubbletea hands a key from the terminal to Update through three
// goroutines (the read, the parse, the event loop), each hand-off a wakeup
// of another thread: 0.1-0.3 ms before the key even leaves for the pane's
// program, where tmux takes one process. keyTap reads the terminal's
// input for bubbletea (it is the program's input) and, when a read holds
// only printable ASCII characters that would all go to the focused pane
// unchanged, sends them to the pane's terminal itself, from the reading
// goroutine, and hands bubbletea nothing. Everything else goes to
// bubbletea as it came.
//
// Order: a key sent by the tap must not overtake one handed to bubbletea
// before it. After each read handed to bubbletea the tap adds a marker of
// its own (a mode report, CSI ? 7776 ; 0 $ y), which the program's filter
// counts and drops: when it has counted every marker, every key before the
// last one has been through Update, and the tap may send again. A marker
// goes right after a read only when the read cannot end inside an escape
// sequence (ASCII without ESC); after any other read it waits for the next
// read that comes markerQuiet later, when bubbletea's parser has long let
// go of an unfinished sequence, and goes in front of it alone; never
// inside a bracketed paste, which bubbletea's parser holds however long it
// takes. What the focused pane is, and whether keys would reach it
// unchanged, View publishes after every Update (keyRoute). After sending,
// the tap waits tapLinger for more keys before it lets bubbletea read, so
// that bubbletea's goroutines stay asleep while the pane's program answers.
// BOXTUI_NO_FASTDRAW=1 leaves every key to bubbletea (run.go).

// tapMarkerMode is the private mode of the tap's marker.
const tapMarkerMode = 7776

// tapMarker is the marker: a DECRPM report of tapMarkerMode.
const tapMarker = "\x1b[?7776;0$y"

// tapLinger is how long the tap waits for more input after it sent keys to
// a pane before it lets bubbletea read (bubbletea gives up waiting for its
// reader after 500 ms when it stops).
const tapLinger = 50 * time.Millisecond

// markerQuiet is how long after a read that may end inside a sequence the
// tap waits to put a marker in front of the next read: bubbletea's parser
// gives up on an unfinished sequence after 50 ms (uv.DefaultEscTimeout).
const markerQuiet = 150 * time.Millisecond

// keyRoute is where keys typed now go: the focused pane, and which of the
// printable ASCII characters the UI keeps for itself there.
type keyRoute struct {
	term   Terminal
	queued *atomic.Int64 // the pane's op queue (paneIO.queued)
	kept   *[128]bool
}

// keyTap is the program's input: the terminal, read for bubbletea.
type keyTap struct {
	*os.File
	route atomic.Pointer[keyRoute]
	// drained counts the markers the filter saw; inserted (the reading
	// goroutine's own) the markers handed to bubbletea.
	drained  atomic.Int64
	inserted int64
	owed     bool          // a read that may end inside a sequence went without a marker
	owedAt   time.Time     // when
	pasting  bool          // inside a bracketed paste handed to bubbletea
	tail     []byte        // the last bytes handed to bubbletea (paste)
	sent     atomic.Int64  // keys the tap sent
	linger   time.Duration // tapLinger; tests lengthen it
	keyOnce  sync.Once
	kept     [128]bool
}

func newKeyTap(f *os.File) *keyTap { return &keyTap{File: f, linger: tapLinger} }

// printableKey is the key bubbletea reads for the printable ASCII byte c.
func printableKey(c byte) uv.KeyPressEvent {
	var d uv.EventDecoder
	_, ev := d.Decode([]byte{c})
	if k, ok := ev.(uv.KeyPressEvent); ok {
		return k
	}
	return uv.KeyPressEvent{Code: rune(c), Text: string(rune(c))}
}

// Read reads the terminal's input for bubbletea, sending what it can to
// the focused pane itself.
func (t *keyTap) Read(p []byte) (int, error) {
	if t.owed && !t.pasting && time.Since(t.owedAt) >= markerQuiet && len(p) >= len(tapMarker) {
		// The input that may have ended inside a sequence was long ago:
		// the marker alone, and what the terminal has now at the next read.
		t.owed = false
		t.inserted++
		return copy(p, tapMarker), nil
	}
	room := len(p) - len(tapMarker)
	if room <= 0 {
		return t.File.Read(p)
	}
	for sent := false; ; sent = true {
		if sent && !t.more() {
			// Nothing for bubbletea: it reads again.
			return 0, nil
		}
		n, err := t.File.Read(p[:room])
		latNote("stdin")
		if n <= 0 {
			return n, err
		}
		if t.direct(p[:n]) && err == nil {
			continue
		}
		return n + t.mark(p[:n], p[n:]), err
	}
}

// more waits a while for more input after keys went to a pane, so that
// bubbletea's goroutines stay asleep while the pane's program answers: a
// typist's next key often comes within it, and goes the same way.
func (t *keyTap) more() bool {
	fds := []unix.PollFd{{Fd: int32(t.Fd()), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, int(t.linger/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		return err == nil && n > 0
	}
}

// direct sends in to the focused pane when it is printable keys only and
// every earlier read handed to bubbletea went through Update.
func (t *keyTap) direct(in []byte) bool {
	for _, c := range in {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return !t.owed && t.drained.Load() == t.inserted && t.send(in)
}

// mark adds the marker after in, handed to bubbletea, in room (see
// above), and returns how many bytes it added.
func (t *keyTap) mark(in, room []byte) int {
	t.paste(in)
	for _, c := range in {
		if c == 0x1b || c >= 0x80 {
			// It may end inside a sequence.
			t.owed, t.owedAt = true, time.Now()
			return 0
		}
	}
	if t.owed {
		return 0
	}
	t.inserted++
	return copy(room, tapMarker)
}

// paste follows bracketed pastes through what is handed to bubbletea:
// inside one, however long it takes to come, bubbletea's parser takes a
// marker for pasted text, so none goes in.
func (t *keyTap) paste(in []byte) {
	buf := append(t.tail[:len(t.tail):len(t.tail)], in...)
	start := bytes.LastIndex(buf, []byte(ansi.BracketedPasteStart))
	end := bytes.LastIndex(buf, []byte(ansi.BracketedPasteEnd))
	switch {
	case start > end:
		t.pasting = true
	case end > start:
		t.pasting = false
	}
	// A start or end cut by the read: its head is kept for the next.
	keep := min(len(buf), len(ansi.BracketedPasteStart)-1)
	t.tail = append(t.tail[:0], buf[len(buf)-keep:]...)
}

// send sends the printable keys in to the focused pane, if they all go
// there unchanged and nothing is queued for it before them.
func (t *keyTap) send(in []byte) bool {
	r := t.route.Load()
	if r == nil || r.queued.Load() != 0 {
		return false
	}
	for _, c := range in {
		if r.kept[c] {
			return false
		}
	}
	for _, c := range in {
		r.term.SendKey(printableKey(c))
	}
	t.sent.Add(int64(len(in)))
	latNote("tapped")
	return true
}

// filter counts and drops the tap's markers (run on every message before
// Update).
func (t *keyTap) filter(msg tea.Msg) tea.Msg {
	if t == nil {
		return msg
	}
	if mr, ok := msg.(tea.ModeReportMsg); ok && int(mr.Mode.Mode()) == tapMarkerMode {
		t.drained.Add(1)
		return nil
	}
	return msg
}

// routeKeys publishes where keys typed now go, for m as View draws it.
func (t *keyTap) routeKeys(m Model) {
	if t == nil {
		return
	}
	t.keyOnce.Do(func() {
		// The key bindings do not change while the UI runs.
		for c := byte(0x20); c <= 0x7e; c++ {
			k := tea.KeyPressMsg(printableKey(c))
			t.kept[c] = key.Matches(k, m.panes.keys.Release) || key.Matches(k, m.panes.keys.CopyMode)
		}
	})
	p := m.panes.focused()
	any := tea.KeyPressMsg(printableKey('a'))
	if p == nil || p.stopped || p.copy != nil || p.io == nil || !m.paneOnly(any) {
		t.route.Store(nil)
		return
	}
	if r := t.route.Load(); r != nil && r.term == p.term {
		return
	}
	t.route.Store(&keyRoute{term: p.term, queued: &p.io.queued, kept: &t.kept})
}

// tapFilter is keyTap.filter of fc's tap; it keeps every message when fc or
// its tap is nil.
func (fc *frameClock) tapFilter(msg tea.Msg) tea.Msg {
	if fc == nil {
		return msg
	}
	return fc.tap.filter(msg)
}

// routeKeys is keyTap.routeKeys of fc's tap, which View calls.
func (fc *frameClock) routeKeys(m Model) {
	if fc == nil {
		return
	}
	fc.tap.routeKeys(m)
}
