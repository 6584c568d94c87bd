package ui

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// clockModel shows how long the last paste was, and tells its clock of
// every view as Model.View does.
type clockModel struct {
	n  int
	fc *frameClock
	// viewedAt, when set, is told when View first returns each n.
	viewedAt func(n int)
}

// frameText changes every cell from one n to the next, so the renderer's
// diff writes it whole.
func frameText(n int) string { return strings.Repeat(string(rune('a'+n)), 12) }

func (m clockModel) Init() tea.Cmd { return nil }

func (m clockModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if msg, ok := msg.(tea.PasteMsg); ok {
		m.n = len(msg.Content)
	}
	return m, nil
}

func (m clockModel) View() tea.View {
	v := tea.NewView(frameText(m.n))
	v.AltScreen = true
	if m.viewedAt != nil {
		m.viewedAt(m.n)
	}
	m.fc.viewed(&v)
	return v
}

// TestFrameClockDrawsAChangedViewAtOnce runs a real program whose renderer
// ticks once a second, and checks that each change of the view is written
// within a fraction of that after View returned it: bubbletea alone writes
// it at the next tick, half a second later on average. It fails as well
// when the clock cannot find the renderer's ticker (a bubbletea that moved
// it).
//
// On a busy machine the renderer may not get a CPU within giveUpAfter of
// the tick the clock moved; the clock then gives up, by design, and the
// frame comes at the renderer's own tick. That says nothing of the clock,
// so a change drawn late while the clock gave up is tried again (with the
// next length); one drawn late while it did not give up fails.
func TestFrameClockDrawsAChangedViewAtOnce(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var mu sync.Mutex
	var out bytes.Buffer
	grew := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			select {
			case grew <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	fc := newFrameClock(1)
	// Count the clock's give-ups: the same timer, with a counter in front.
	var gaveUp atomic.Int64
	fc.giveUp = time.AfterFunc(time.Hour, func() { gaveUp.Add(1); fc.restore() })
	fc.giveUp.Stop()
	var viewMu sync.Mutex
	viewed := map[int]time.Time{}
	outAt := map[int]int{} // how much output there was when View returned n
	viewedAt := func(n int) {
		viewMu.Lock()
		defer viewMu.Unlock()
		if _, ok := viewed[n]; !ok {
			viewed[n] = time.Now()
			mu.Lock()
			outAt[n] = out.Len()
			mu.Unlock()
		}
	}
	p := newProgram(clockModel{fc: fc, viewedAt: viewedAt}, fc, w, nil, tea.WithInput(nil), tea.WithWindowSize(40, 5))
	done := make(chan error, 1)
	go func() {
		_, err := p.Run()
		w.Close()
		done <- err
	}()
	wait := func(marker string, limit time.Duration) (time.Duration, bool) {
		start := time.Now()
		deadline := time.After(limit)
		for {
			mu.Lock()
			ok := bytes.Contains(out.Bytes(), []byte(marker))
			mu.Unlock()
			if ok {
				return time.Since(start), true
			}
			select {
			case <-grew:
			case <-deadline:
				return time.Since(start), false
			}
		}
	}
	// The first frame, then the ticker is known.
	p.Send(tea.PasteMsg{})
	if _, ok := wait(frameText(0), 5*time.Second); !ok {
		t.Fatalf("no first frame:\n%q", out.String())
	}
	// n is the paste's length, a new view each time (frameText has 25
	// after the first); judged counts the changes the clock was judged on.
	const changes, maxTries = 5, 20
	judged := 0
	for n := 1; judged < changes; n++ {
		if n > maxTries {
			t.Fatalf("the clock gave up on %d of %d changes (the renderer never got a CPU within %v): cannot judge it", n-1-judged, n-1, giveUpAfter)
		}
		// Let the frame the last change asked for go out, and land the
		// change anywhere in the renderer's second.
		time.Sleep(time.Duration(20+n*130%1000) * time.Millisecond)
		before := gaveUp.Load()
		p.Send(tea.PasteMsg{Content: strings.Repeat("x", n)})
		if _, ok := wait(frameText(n), 5*time.Second); !ok {
			t.Fatalf("change %d never drawn:\n%q", n, out.String())
		}
		drawn := time.Now()
		viewMu.Lock()
		at, ok := viewed[n]
		viewMu.Unlock()
		if !ok {
			t.Fatalf("change %d drawn but never viewed", n)
		}
		d := drawn.Sub(at)
		if d <= 250*time.Millisecond {
			judged++
			continue
		}
		if gaveUp.Load() == before {
			viewMu.Lock()
			mu.Lock()
			since := out.String()[outAt[n]:]
			mu.Unlock()
			viewMu.Unlock()
			t.Fatalf("change %d drawn %v after View returned it, and the clock did not give up: it waited for the renderer's tick (ticker found: %v); written since View: %q", n, d, fc.ticker != nil, since)
		}
		t.Logf("change %d drawn after %v: the renderer did not get a CPU within %v, trying again", n, d, giveUpAfter)
	}
	p.Quit()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	fc.mu.Lock()
	soon := fc.soon
	fc.mu.Unlock()
	if soon {
		t.Fatal("the ticker was left on its short delay")
	}
}

// A nil clock (tests, views without a program) does nothing.
func TestNilFrameClock(t *testing.T) {
	var fc *frameClock
	v := tea.NewView("x")
	fc.viewed(&v)
	fc.attach(nil)
}

// Only a view after input or a pane's output is drawn at once; the list's
// refresh keeps the renderer's pace, so the idle UI wakes no more often.
func TestFrameClockHurriesOnlyWhatAPersonWaitsFor(t *testing.T) {
	fc := newFrameClock(30)
	fc.ticker = time.NewTicker(time.Hour)
	defer fc.ticker.Stop()
	views := 0
	view := func() {
		views++
		v := tea.NewView(frameText(views))
		fc.viewed(&v)
	}
	fc.handling(scanMsg{})
	view()
	if fc.soon {
		t.Fatal("a refresh of the list asked for a frame at once")
	}
	fc.handling(paneDirtyMsg{id: 1})
	view()
	if !fc.soon {
		t.Fatal("a pane's output did not ask for a frame at once")
	}
	fc.wrote()
	if fc.soon {
		t.Fatal("the frame was written but the ticker kept its short period")
	}
	fc.handling(tea.KeyPressMsg{Code: 'j', Text: "j"})
	view()
	if !fc.soon {
		t.Fatal("a key did not ask for a frame at once")
	}
}
