package ui

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"boxtui/pty"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
)

// screenModel shows lines, edited by pastes of "y<TAB>text" (a paste is
// input, which the frame clock draws at once); "cursor<TAB>x,y" moves the
// cursor and "all<TAB>text" sets every line.
type screenModel struct {
	lines  []string
	cx, cy int
	fc     *frameClock
}

func (m screenModel) Init() tea.Cmd { return nil }

func (m screenModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	p, ok := msg.(tea.PasteMsg)
	if !ok {
		return m, nil
	}
	what, text, _ := strings.Cut(p.Content, "\t")
	m.lines = append([]string(nil), m.lines...)
	switch what {
	case "cursor":
		fmt.Sscanf(text, "%d,%d", &m.cx, &m.cy)
	case "all":
		for i := range m.lines {
			m.lines[i] = text
		}
	default:
		var y int
		fmt.Sscanf(what, "%d", &y)
		m.lines[y] = text
	}
	return m, nil
}

func (m screenModel) View() tea.View {
	v := tea.NewView(strings.Join(m.lines, "\n"))
	v.AltScreen = true
	v.Cursor = tea.NewCursor(m.cx, m.cy)
	m.fc.viewed(&v)
	return v
}

// screenRig runs a screenModel in a real program whose output feeds a
// terminal emulator, and whose renderer's own ticks come once an hour: what
// reaches the emulator was drawn at once, by fastDraw or a moved tick.
type screenRig struct {
	t    *testing.T
	p    *tea.Program
	fc   *frameClock
	term *pty.Terminal
	w, h int
	done chan error

	mu   sync.Mutex
	grew chan struct{}
}

func newScreenRig(t *testing.T, w, h int, fast bool) *screenRig {
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	rig := &screenRig{t: t, term: pty.New(w, h), w: w, h: h, done: make(chan error, 1), grew: make(chan struct{}, 1)}
	go func() {
		defer r.Close()
		buf := make([]byte, 64<<10)
		for {
			n, err := r.Read(buf)
			// Without a terminal for input, the renderer counts on the
			// terminal's line discipline to turn a newline into CR LF.
			rig.term.Write(bytes.ReplaceAll(buf[:n], []byte("\n"), []byte("\r\n")))
			select {
			case rig.grew <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	fc := newFrameClock(1)
	fc.giveUpAfter = time.Minute
	rig.fc = fc
	lines := make([]string, h)
	for i := range lines {
		lines[i] = strings.Repeat(" ", w)
	}
	rig.p = newProgram(screenModel{lines: lines, fc: fc}, fc, wr, nil, tea.WithInput(nil), tea.WithWindowSize(w, h),
		tea.WithColorProfile(colorprofile.ANSI256))
	go func() {
		_, err := rig.p.Run()
		wr.Close()
		rig.done <- err
	}()
	// The first frame; then the clock knows the ticker and the renderer.
	rig.p.Send(tea.PasteMsg{Content: "0\tstart"})
	rig.wait("start")
	fc.mu.Lock()
	if fc.ticker == nil {
		fc.mu.Unlock()
		t.Fatal("the frame clock did not find the renderer's ticker")
	}
	fc.period = time.Hour
	fc.ticker.Reset(fc.period)
	if !fast {
		fc.renderer = nil
	}
	fc.mu.Unlock()
	return rig
}

// wait waits until the emulator's screen satisfies ok.
func (rig *screenRig) waitFor(what string, ok func(string) bool) {
	rig.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if ok(rig.term.Render()) {
			return
		}
		select {
		case <-rig.grew:
		case <-deadline:
			got := strings.Split(rig.term.Render(), "\n")
			for i, l := range got {
				rig.t.Logf("%2d %q", i, l)
			}
			rig.t.Fatalf("the terminal never showed %s; it shows:\n%s", what, rig.term.String())
		}
	}
}

func (rig *screenRig) wait(text string) {
	rig.t.Helper()
	rig.waitFor(fmt.Sprintf("%q", text), func(s string) bool { return strings.Contains(s, text) })
}

func (rig *screenRig) stop() {
	rig.p.Quit()
	if err := <-rig.done; err != nil {
		rig.t.Fatal(err)
	}
}

// expected is what a terminal shows for lines: the view drawn whole.
func expected(w, h int, lines []string) string {
	t := pty.New(w, h)
	t.Write([]byte("\x1b[H\x1b[2J" + strings.Join(lines, "\r\n")))
	return t.Render()
}

// TestFastDrawFindsRenderer fails when a bubbletea release changes the
// renderer fastDraw draws through: every frame then goes the slow way.
func TestFastDrawFindsRenderer(t *testing.T) {
	rig := newScreenRig(t, 40, 6, true)
	defer rig.stop()
	rig.fc.mu.Lock()
	r := rig.fc.renderer
	rig.fc.mu.Unlock()
	if r == nil {
		t.Fatal("fastDraw did not find bubbletea's renderer")
	}
}

// TestFastDrawMatchesWholeFrames edits a styled screen a few lines at a
// time (fastDraw's case), sometimes whole (the renderer's), with styles
// that end on a line and styles that carry into the next, wide
// characters, and a moving cursor; after each edit the terminal must show
// exactly the view drawn whole. The renderer's own ticks are an hour
// apart, so a frame fastDraw drew wrong stays wrong.
func TestFastDrawMatchesWholeFrames(t *testing.T) {
	t.Run("fast", func(t *testing.T) { testFastDrawMatches(t, true) })
	// The same edits drawn by the renderer alone: the rig itself is right.
	t.Run("renderer", func(t *testing.T) { testFastDrawMatches(t, false) })
}

func testFastDrawMatches(t *testing.T, fast bool) {
	const w, h = 60, 12
	rig := newScreenRig(t, w, h, fast)
	defer rig.stop()
	lines := make([]string, h)
	for i := range lines {
		lines[i] = strings.Repeat(" ", w)
	}
	lines[0] = "start" + strings.Repeat(" ", w-5)
	rnd := rand.New(rand.NewPCG(1, 2))
	styled := func(n int) string {
		var b strings.Builder
		cells := 0
		for cells < w {
			switch rnd.IntN(7) {
			case 0:
				b.WriteString("\x1b[1;31m")
			case 1:
				b.WriteString("\x1b[38;5;33;48;5;236m")
			case 2:
				b.WriteString("\x1b[m")
			case 3:
				if cells+2 <= w {
					b.WriteString("界")
					cells += 2
				}
			}
			if cells < w {
				b.WriteByte(byte('a' + (n+cells)%26))
				cells++
			}
		}
		switch rnd.IntN(3) {
		case 0: // the style carries into the next line
		default:
			b.WriteString("\x1b[m")
		}
		return b.String()
	}
	for step := 0; step < 200; step++ {
		switch k := rnd.IntN(10); {
		case k == 0:
			s := styled(step)
			for i := range lines {
				lines[i] = s
			}
			rig.p.Send(tea.PasteMsg{Content: "all\t" + s})
		case k == 1:
			x, y := rnd.IntN(w), rnd.IntN(h)
			rig.p.Send(tea.PasteMsg{Content: fmt.Sprintf("cursor\t%d,%d", x, y)})
			rig.waitFor("the cursor moved", func(string) bool {
				cx, cy, _ := rig.term.Cursor()
				return cx == x && cy == y
			})
			continue
		default:
			y := rnd.IntN(h)
			lines[y] = styled(step)
			rig.p.Send(tea.PasteMsg{Content: fmt.Sprintf("%d\t%s", y, lines[y])})
		}
		want := expected(w, h, lines)
		rig.waitFor(fmt.Sprintf("step %d's view:\n%s", step, want), func(s string) bool { return s == want })
	}
	if fast && rig.fc.fastFrames.Load() < 50 {
		t.Fatalf("fastDraw drew %d of 200 frames", rig.fc.fastFrames.Load())
	}
	t.Logf("fastDraw drew %d frames", rig.fc.fastFrames.Load())
}

// BenchmarkFastDraw measures fastDraw drawing an echo (one line changed)
// on a 120x40 screen of styled lines, written to /dev/null.
func BenchmarkFastDraw(b *testing.B) {
	const w, h = 120, 40
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer null.Close()
	fc := newFrameClock(1)
	lines := make([]string, h)
	for i := range lines {
		lines[i] = "\x1b[38;5;33m│\x1b[m" + strings.Repeat("x", w-2) + "\x1b[m\x1b[38;5;33m│\x1b[m"
	}
	p := newProgram(screenModel{lines: lines, fc: fc}, fc, null, nil, tea.WithInput(nil), tea.WithWindowSize(w, h),
		tea.WithColorProfile(colorprofile.ANSI256))
	done := make(chan struct{})
	go func() { p.Run(); close(done) }()
	p.Send(tea.PasteMsg{Content: "0\tx"})
	deadline := time.Now().Add(10 * time.Second)
	for {
		fc.mu.Lock()
		r := fc.renderer
		fc.mu.Unlock()
		if r != nil {
			r.mu.Lock()
			drawn := *r.lastView != nil
			r.mu.Unlock()
			if drawn {
				break
			}
		}
		if time.Now().After(deadline) {
			b.Fatal("no first frame")
		}
		time.Sleep(time.Millisecond)
	}
	views := make([]tea.View, 2)
	for i := range views {
		ls := append([]string(nil), lines...)
		ls[20] = "\x1b[38;5;33m│\x1b[mkb$ " + string(rune('a'+i)) + strings.Repeat(" ", w-2-5) + "\x1b[m\x1b[38;5;33m│\x1b[m"
		views[i] = tea.NewView(strings.Join(ls, "\n"))
		views[i].AltScreen = true
		views[i].Cursor = tea.NewCursor(6+i, 20)
	}
	// The renderer may still have the first resize to draw.
	for !fc.renderer.fastDraw(&views[1], nil) {
		if time.Now().After(deadline) {
			b.Fatal("fastDraw never drew")
		}
		time.Sleep(time.Millisecond)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for !fc.renderer.fastDraw(&views[i%2], nil) {
			// A resize bubbletea sends itself at start waits for the
			// renderer's tick (a whole frame): not what is measured.
			b.StopTimer()
			time.Sleep(time.Millisecond)
			b.StartTimer()
		}
	}
	b.StopTimer()
	p.Quit()
	<-done
}

// BenchmarkPaneEchoView is what the event loop does for an echo in a pane
// of a 120x40 UI before fastDraw: the pane's output message (a snapshot of
// its screen) and View.
func BenchmarkPaneEchoView(b *testing.B) {
	m := New(newFakeBackend(), Options{Now: func() time.Time { return fakeNow }})
	m.frames = newFrameClock(10) // its memo; it has no program to draw
	mod, _ := m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m = mod.(Model)
	cols, rows := m.newPaneSize()
	term := newMouseTerm(cols, rows, strings.Repeat("some output of a command\r\n", 10)+"kb$ ")
	mod, _ = m.Update(opened(term, paneExec, "bench", 1, cols, rows))
	m = mod.(Model)
	_ = m.View()
	echo := []string{"a", "\b \b"}
	i := 0
	for b.Loop() {
		term.Write([]byte(echo[i%2]))
		i++
		p := m.panes.all[0]
		p.lastDraw = time.Time{}
		mod, _ = m.Update(paneDirtyMsg{p.id})
		m = mod.(Model)
		_ = m.View()
	}
}

// ptyTerm is a pty.Terminal as a pane's Terminal.
type ptyTerm struct{ *pty.Terminal }

func (t ptyTerm) Resize(cols, rows int) error { t.Terminal.Resize(cols, rows); return nil }

// captureMsg asks the test program's filter for the plain text of the
// model's view, in the rows of its first pane.
type captureMsg struct{ view chan []string }

// TestPaneDrawerDrawsWhatViewDraws runs the UI model in a real program
// with an exec pane on a real PTY (cat, which the terminal echoes), types
// into it key by key, slowly enough that each echo is drawn by the pane's
// reader (panedraw.go), and checks after each key that the terminal shows
// exactly the model's view drawn whole.
func TestPaneDrawerDrawsWhatViewDraws(t *testing.T) {
	const w, h = 120, 40
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	screen := pty.New(w, h)
	grew := make(chan struct{}, 1)
	go func() {
		defer r.Close()
		buf := make([]byte, 64<<10)
		for {
			n, err := r.Read(buf)
			screen.Write(bytes.ReplaceAll(buf[:n], []byte("\n"), []byte("\r\n")))
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
	fc.giveUpAfter = time.Minute
	m := New(newFakeBackend(), Options{Now: func() time.Time { return fakeNow }})
	m.frames = fc
	capture := func(mod tea.Model, msg tea.Msg) tea.Msg {
		if h, ok := msg.(holdMsg); ok {
			close(h.held)
			<-h.release
			return nil
		}
		if c, ok := msg.(captureMsg); ok {
			mm := mod.(Model)
			mm.frames = nil
			var rows []string
			if len(mm.panes.all) > 0 {
				r := mm.panes.all[0].rect
				rows = strings.Split(ansi.Strip(mm.View().Content), "\n")[r.y : r.y+r.h]
				for i := range rows {
					rows[i] = strings.TrimRight(rows[i], " ")
				}
			}
			c.view <- rows
			return nil
		}
		return msg
	}
	p := newProgram(m, fc, wr, capture, tea.WithInput(nil), tea.WithWindowSize(w, h),
		tea.WithColorProfile(colorprofile.TrueColor))
	done := make(chan error, 1)
	go func() {
		_, err := p.Run()
		wr.Close()
		done <- err
	}()
	defer func() {
		p.Quit()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}()
	term := pty.New(58, 10)
	// cat with the terminal's echo off and bytes as they come: what it
	// writes back moves the cursor as typed (ESC [ D too).
	if err := term.Start(exec.Command("sh", "-c", "stty -icanon -echo && exec cat")); err != nil {
		t.Fatal(err)
	}
	defer term.Close()
	p.Send(opened(ptyTerm{term}, paneExec, "cat", 1, 58, 10))
	// The pane's rows on the terminal must come to be the model's view of
	// them (the list above refreshes at the renderer's pace, a second).
	settle := func(what string) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			c := captureMsg{view: make(chan []string, 1)}
			p.Send(c)
			want := <-c.view
			got := []string{}
			if len(want) > 0 {
				all := strings.Split(screen.String()+strings.Repeat("\n", h), "\n")
				y := 0
				for y < len(all) && !strings.HasPrefix(all[y], "┏") {
					y++
				}
				if y+len(want) <= len(all) {
					got = all[y : y+len(want)]
				}
			}
			if len(want) > 0 && strings.Join(got, "\n") == strings.Join(want, "\n") {
				return
			}
			select {
			case <-grew:
			case <-time.After(50 * time.Millisecond):
			case <-deadline:
				t.Fatalf("%s: the terminal shows\n%s\nnot the pane's rows\n%s", what, screen.String(), strings.Join(want, "\n"))
			}
		}
	}
	settle("the pane opened")
	for i, c := range "echo, drawn by the reader" {
		// Alone: the reader draws only output that comes paneDrawAlone
		// after the last.
		time.Sleep(paneDrawAlone + time.Millisecond)
		term.SendText(string(c))
		settle(fmt.Sprintf("key %d", i))
	}
	if d := fc.paneDraws.Load(); d == 0 {
		t.Fatal("the pane's reader drew no echo")
	} else {
		t.Logf("the pane's reader drew %d echoes", d)
	}

	// A move of the cursor alone (a left arrow in a shell) is the reader's
	// to draw too: with the event loop held, the terminal's cursor must
	// still follow the pane's.
	hold := holdMsg{held: make(chan struct{}), release: make(chan struct{})}
	p.Send(hold)
	<-hold.held
	released := false
	release := func() {
		if !released {
			released = true
			close(hold.release)
		}
	}
	defer release()
	time.Sleep(paneDrawAlone + time.Millisecond)
	x0, y0, _ := term.Cursor()
	term.SendText("\x1b[D")
	deadline := time.Now().Add(10 * time.Second)
	for {
		x, y, _ := term.Cursor()
		// The pane's first cell is right of the border, under its top.
		top := strings.Index(screen.String(), "┏")
		oy := strings.Count(screen.String()[:max(top, 0)], "\n") + 1
		sx, sy, _ := screen.Cursor()
		if x == x0-1 && y == y0 && sx == 1+x && sy == oy+y {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("with the event loop held, the terminal's cursor is at %d,%d; the pane's is at %d,%d (was %d,%d), its first cell at 1,%d",
				sx, sy, x, y, x0, y0, oy)
		}
		time.Sleep(2 * time.Millisecond)
	}
	release()
	settle("the cursor moved")
}

// holdMsg holds the test program's event loop from held until release.
type holdMsg struct{ held, release chan struct{} }
