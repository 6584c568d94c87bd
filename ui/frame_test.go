package ui

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// clockModel shows how long the last paste was, and tells its clock of
// every view as Model.View does.
type clockModel struct {
	n  int
	fc *frameClock
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
	m.fc.viewed(&v)
	return v
}

// TestFrameClockDrawsAChangedViewAtOnce runs a real program whose renderer
// ticks once a second, and checks that each change of the view is written
// within a fraction of that: bubbletea alone writes it at the next tick,
// half a second later on average. It fails as well when the clock cannot
// find the renderer's ticker (a bubbletea that moved it).
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
	// However slowly a loaded machine schedules the renderer, the moved
	// tick stays moved until it draws.
	fc.giveUpAfter = time.Minute
	p := newProgram(clockModel{fc: fc}, fc, w, nil, tea.WithInput(nil), tea.WithWindowSize(40, 5))
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
	// From now on the renderer's own tick comes once an hour: a change
	// drawn within the seconds the test waits was drawn by a moved tick,
	// however slowly a loaded machine runs the renderer.
	fc.mu.Lock()
	if fc.ticker == nil {
		fc.mu.Unlock()
		t.Fatal("the frame clock did not find the renderer's ticker")
	}
	fc.period = time.Hour
	fc.ticker.Reset(fc.period)
	fc.mu.Unlock()
	for i := 1; i <= 5; i++ {
		// Let the frame the last change asked for go out, and land the
		// change anywhere in the renderer's second.
		time.Sleep(time.Duration(20+i*130) * time.Millisecond)
		start := time.Now()
		p.Send(tea.PasteMsg{Content: strings.Repeat("x", i)})
		if _, ok := wait(frameText(i), 5*time.Second); !ok {
			t.Fatalf("change %d never drawn:\n%q", i, out.String())
		}
		// bubbletea alone would draw it at its next tick, an hour away;
		// how long the machine took to run the renderer is not the test
		// (it is logged).
		d := time.Since(start)
		t.Logf("change %d drawn after %v", i, d)
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
	// The give-up timer would put the period back 5 ms after each hurry,
	// from its own goroutine: on a loaded machine, before the checks.
	fc.giveUpAfter = time.Hour
	soon := func() bool {
		fc.mu.Lock()
		defer fc.mu.Unlock()
		return fc.soon
	}
	views := 0
	view := func() {
		views++
		v := tea.NewView(frameText(views))
		fc.viewed(&v)
	}
	fc.handling(scanMsg{})
	view()
	if soon() {
		t.Fatal("a refresh of the list asked for a frame at once")
	}
	fc.handling(paneDirtyMsg{id: 1})
	view()
	if !soon() {
		t.Fatal("a pane's output did not ask for a frame at once")
	}
	fc.wrote()
	if soon() {
		t.Fatal("the frame was written but the ticker kept its short period")
	}
	fc.handling(tea.KeyPressMsg{Code: 'j', Text: "j"})
	view()
	if !soon() {
		t.Fatal("a key did not ask for a frame at once")
	}
}
