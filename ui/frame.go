package ui

import (
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	tea "charm.land/bubbletea/v2"
)

// Drawing a frame as soon as the view changes.
//
// bubbletea (v2.1) calls View after every Update but writes a frame only on
// its renderer's ticker, at rendererFPS: a keystroke's echo in a pane waited
// up to a whole frame for it (half a frame on average), and bubbletea has no
// way to ask for a frame now. The frame clock takes that ticker over: when
// View returns something new, it moves the next tick to now (soonDelay), or
// to one burstInterval after the last frame written when frames come faster
// than that, so a burst of output is still drawn at a bounded rate; once a
// frame has been written the ticker goes back to its period. The ticker is
// the renderer's own unexported field: rendererTicker finds it by name and
// type, and when a bubbletea release renames or retypes it the clock does
// nothing and frames come at rendererFPS as before
// (TestFrameClockFindsRendererTicker says so first).

const (
	// soonDelay is the ticker's period while a frame is asked for: the
	// shortest there is. A timer of less than a millisecond still waits for
	// the next millisecond when the runtime sleeps in epoll (50 us came
	// after 1.1 ms), while one that is due already fires at the next
	// scheduling point, in microseconds. Should the tick come before
	// bubbletea has stored the view View returned (it does so right after),
	// it finds nothing new, writes nothing and ticks again.
	soonDelay = time.Nanosecond
	// giveUpAfter puts the ticker's period back when a frame asked for was
	// not written (the view went back to what is on screen, or the
	// renderer did not get a CPU): the frame then comes at the next tick.
	giveUpAfter = 5 * time.Millisecond
	// burstInterval bounds frames drawn at once: at most one per interval
	// (60 fps); changes closer together wait for the end of the interval.
	burstInterval = 16 * time.Millisecond
)

// frameClock schedules the renderer's ticks. Its methods are safe on a nil
// clock (tests, and a bubbletea without the ticker), which does nothing.
type frameClock struct {
	mu       sync.Mutex
	ticker   *time.Ticker   // the renderer's; nil until found
	renderer *rendererState // the renderer's state (fastdraw.go); nil until found
	// panes draws a pane's echo from its reader (panedraw.go).
	panes paneDrawer
	// memo keeps what View draws alike every time (viewmemo.go).
	memo viewMemo
	// tap is the program's input (keytap.go); nil in tests.
	tap *keyTap
	// paneDraws counts the echoes panes' readers drew (panedraw.go).
	paneDraws atomic.Int64
	// fastFrames counts the views fastDraw drew.
	fastFrames atomic.Int64
	period     time.Duration // the ticker's own period
	soon       bool          // a tick was moved and no frame written since
	again      bool          // a new view came while soon: ask once more
	lastWrite  time.Time     // when the renderer last wrote output
	giveUp     *time.Timer   // puts the period back if the tick drew nothing
	// giveUpAfter is giveUpAfter; tests lengthen it, so that a loaded
	// machine's slow scheduling is not taken for a frame not drawn.
	giveUpAfter time.Duration
	// urgent says the message being handled is one a person waits on the
	// answer to (input, a pane's output): only its view is drawn at once.
	// The rest (the list's refresh) keeps the ticker's pace, which costs
	// the idle UI nothing more.
	urgent bool

	// What View returned last: a frame is only asked for when it changes.
	lastContent  string
	lastCursor   *tea.Cursor
	lastAltMouse [2]int
}

func newFrameClock(fps int) *frameClock {
	fc := &frameClock{period: time.Second / time.Duration(fps), giveUpAfter: giveUpAfter}
	fc.giveUp = time.AfterFunc(time.Hour, fc.restore)
	fc.giveUp.Stop()
	return fc
}

// attach takes over p's renderer ticker. It must run on the goroutine that
// called p.Run (a filter does), after the renderer started: bubbletea sets
// the field there before its event loop.
func (fc *frameClock) attach(p *tea.Program) {
	if fc == nil || p == nil {
		return
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if fc.ticker == nil {
		fc.ticker = rendererTicker(p)
	}
	// BOXTUI_NO_FASTDRAW=1 leaves every frame to the renderer (and the
	// keys to bubbletea: run.go), to compare or to rule the fast paths out.
	if fc.renderer == nil && os.Getenv("BOXTUI_NO_FASTDRAW") == "" {
		fc.renderer = findRenderer(p)
	}
}

// rendererTicker returns the ticker of p's renderer, or nil when this
// bubbletea has none where v2.1 keeps it.
func rendererTicker(p *tea.Program) *time.Ticker {
	f := reflect.ValueOf(p).Elem().FieldByName("ticker")
	if !f.IsValid() || f.Type() != reflect.TypeFor[*time.Ticker]() {
		return nil
	}
	return *(**time.Ticker)(unsafe.Pointer(f.UnsafeAddr()))
}

// handling is told of every message before Update sees it.
func (fc *frameClock) handling(msg tea.Msg) {
	if fc == nil {
		return
	}
	urgent := false
	switch msg.(type) {
	case tea.KeyPressMsg:
		latNote("key")
	case paneDirtyMsg:
		latNote("dirty")
	}
	switch msg.(type) {
	case tea.KeyPressMsg, tea.MouseMsg, tea.PasteMsg, tea.WindowSizeMsg,
		paneDirtyMsg, paneRedrawMsg, paneOpenedMsg, paneDoneMsg:
		urgent = true
	}
	fc.mu.Lock()
	fc.urgent = urgent
	fc.mu.Unlock()
}

// viewed is told every view View returns, and asks for a frame when the
// view differs from the last one.
func (fc *frameClock) viewed(v *tea.View) (drawn bool) {
	if fc == nil {
		return false
	}
	altMouse := [2]int{0, int(v.MouseMode)}
	if v.AltScreen {
		altMouse[0] = 1
	}
	latNote("viewed")
	fc.mu.Lock()
	urgent, r := fc.urgent, fc.renderer
	fc.mu.Unlock()
	// A small change a person waits on is drawn here and now; the lock is
	// not held, as the write reports to wrote.
	drawn = urgent && r.fastDraw(v, fc.panes.stale)
	if drawn {
		latNote("fastdrawn")
		fc.fastFrames.Add(1)
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if drawn {
		fc.lastContent, fc.lastCursor, fc.lastAltMouse = v.Content, v.Cursor, altMouse
		return true
	}
	same := v.Content == fc.lastContent && altMouse == fc.lastAltMouse &&
		(v.Cursor == nil) == (fc.lastCursor == nil) &&
		(v.Cursor == nil || v.Cursor.Position == fc.lastCursor.Position)
	fc.lastContent, fc.lastCursor, fc.lastAltMouse = v.Content, v.Cursor, altMouse
	if same || !fc.urgent || fc.ticker == nil {
		return false
	}
	if fc.soon {
		// The tick asked for may draw the view before this one, if it
		// comes before bubbletea stores this one: wrote asks again.
		fc.again = true
		return false
	}
	delay := soonDelay
	if next := time.Until(fc.lastWrite.Add(burstInterval)); next > delay {
		delay = next
	}
	if delay >= fc.period {
		return false // the ticker comes first anyway
	}
	fc.soon = true
	fc.ticker.Reset(delay)
	fc.giveUp.Reset(delay + fc.giveUpAfter)
	return false
}

// wrote is told of every write of the renderer: the frame asked for is out,
// and the ticker goes back to its period, counted from now.
func (fc *frameClock) wrote() {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.lastWrite = time.Now()
	if fc.soon && fc.again {
		// A view came while the frame was on its way: one more frame, at
		// the burst pace. It draws nothing if the frame was that view.
		fc.again = false
		fc.ticker.Reset(burstInterval)
		fc.giveUp.Reset(burstInterval + fc.giveUpAfter)
		return
	}
	if fc.soon {
		fc.soon = false
		fc.ticker.Reset(fc.period)
		fc.giveUp.Stop()
	}
}

func (fc *frameClock) restore() {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if fc.soon {
		fc.soon, fc.again = false, false
		fc.ticker.Reset(fc.period)
	}
}

// frameWriter is the program's output: the terminal, with every write
// reported to the frame clock. It embeds the file so that bubbletea still
// sees a terminal (raw mode, size, colour profile).
type frameWriter struct {
	*os.File
	clock *frameClock
}

func (w *frameWriter) Write(p []byte) (int, error) {
	n, err := w.File.Write(p)
	latNote("write")
	w.clock.wrote()
	return n, err
}
