package ui

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"boxtui/pty"
	"boxtui/ui/keymap"
	"boxtui/ui/styles"

	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
)

// seqHistory is the history of a cols x rows terminal after `seq 1 n`
// and a prompt.
func seqHistory(cols, rows, n int) *pty.History {
	t := pty.New(cols, rows)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(t, "%d\r\n", i)
	}
	fmt.Fprint(t, "$ ")
	return t.History()
}

func press(s string) tea.KeyPressMsg {
	switch s {
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "shift+pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp, Mod: tea.ModShift}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	}
	return keyPress(s)
}

func (c *copyMode) keys(t *testing.T, keys ...string) copyResult {
	t.Helper()
	var r copyResult
	for _, k := range keys {
		r = c.key(keymap.DefaultKeyMap().CopyMode, press(k))
	}
	return r
}

func (c *copyMode) typeText(t *testing.T, s string) {
	for _, r := range s {
		c.key(keymap.DefaultKeyMap().CopyMode, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func (c *copyMode) plainView(cols int) []string {
	lines := c.view(new(styles.New(true)), cols, c.rows)
	for i := range lines {
		lines[i] = strings.TrimRight(ansi.Strip(lines[i]), " ")
	}
	return lines
}

func TestCopyModeMoves(t *testing.T) {
	h := seqHistory(20, 5, 100) // 1..100 and the prompt: 101 lines, 96 scrolled off
	c := newCopyMode(h, 5, 2, 4)
	if c.cy != 100 || c.cx != 2 || c.offset() != 0 || c.maxTop() != 96 {
		t.Fatalf("start: cursor %d,%d offset %d max %d", c.cy, c.cx, c.offset(), c.maxTop())
	}
	if v := c.plainView(20); v[0] != "97            [0/96]" || v[4] != "$" {
		t.Fatalf("view at the bottom %q", v)
	}
	c.keys(t, "pgup")
	if c.offset() != 5 || c.cy != 95 {
		t.Fatalf("pgup: offset %d cursor line %d", c.offset(), c.cy)
	}
	c.keys(t, "g")
	if c.top != 0 || c.cy != 0 || c.cx != 0 {
		t.Fatalf("g: top %d cursor %d,%d", c.top, c.cy, c.cx)
	}
	c.keys(t, "up", "k", "left")
	if c.cy != 0 || c.cx != 0 {
		t.Fatal("moved past the top")
	}
	if v := c.plainView(20); v[0] != "1            [96/96]" {
		t.Fatalf("view at the top %q", v[0])
	}
	for range 7 {
		c.keys(t, "j")
	}
	if c.cy != 7 || c.top != 3 {
		t.Fatalf("down past the view: cursor %d top %d", c.cy, c.top)
	}
	c.keys(t, "$")
	if c.cx != 0 {
		t.Fatalf("$ on %q: column %d", strings.TrimSpace(h.Text(c.cy)), c.cx)
	}
	c.keys(t, "G")
	if c.offset() != 0 || c.cy != 100 {
		t.Fatalf("G: offset %d cursor %d", c.offset(), c.cy)
	}
	c.keys(t, "pgdown", "down")
	if c.cy != 100 {
		t.Fatal("moved past the bottom")
	}
	c.scroll(-3)
	if c.offset() != 3 || c.cy != 97 {
		t.Fatalf("wheel: offset %d, cursor dragged to %d", c.offset(), c.cy)
	}
	if r := c.keys(t, "q"); !r.leave || r.copy {
		t.Fatalf("q: %+v", r)
	}
}

func TestCopyModeSearch(t *testing.T) {
	h := seqHistory(20, 5, 300)
	c := newCopyMode(h, 5, 2, 4)
	c.keys(t, "?")
	c.typeText(t, "42")
	if v := c.plainView(20); v[4] != "search up: 42▏" {
		t.Fatalf("prompt %q", v[4])
	}
	c.keys(t, "enter")
	if got := strings.TrimSpace(h.Text(c.cy)); got != "242" || c.cx != 1 {
		t.Fatalf("? 42 landed on %q column %d", got, c.cx)
	}
	// The view centres the match, and marks it as the current one.
	styled := c.view(new(styles.New(false)), 20, 5)
	if !strings.Contains(styled[2], "2") || !strings.Contains(styled[2], "48;5;213") {
		t.Fatalf("the current match is not highlighted: %q", styled[2])
	}
	c.keys(t, "n")
	if got := strings.TrimSpace(h.Text(c.cy)); got != "142" {
		t.Fatalf("n went to %q", got)
	}
	c.keys(t, "n", "n")
	if got := strings.TrimSpace(h.Text(c.cy)); got != "242" {
		t.Fatalf("n n (past 42, wrapping) went to %q", got)
	}
	c.keys(t, "N")
	if got := strings.TrimSpace(h.Text(c.cy)); got != "42" {
		t.Fatalf("N went to %q", got)
	}
	// Other matches on screen are highlighted too.
	c.keys(t, "/")
	c.typeText(t, "4")
	c.keys(t, "enter")
	view := c.view(new(styles.New(false)), 20, 5)
	matches := 0
	for _, l := range view {
		matches += strings.Count(l, "48;5;44m")
	}
	if matches == 0 {
		t.Fatalf("no other match highlighted: %q", view)
	}
	c.keys(t, "/")
	c.typeText(t, "nothere")
	c.keys(t, "enter")
	if v := c.plainView(20); !strings.HasPrefix(v[4], `no match for "nother`) {
		t.Fatalf("no match note %q", v[4])
	}
	// Smart case: a capital asks for exactly that case.
	h2 := pty.New(20, 3)
	fmt.Fprint(h2, "Error one\r\nerror two\r\n")
	c2 := newCopyMode(h2.History(), 3, 0, 2)
	c2.keys(t, "?")
	c2.typeText(t, "Error")
	c2.keys(t, "enter")
	if c2.cy != 0 {
		t.Fatalf("?Error went to line %d", c2.cy)
	}
	c2.keys(t, "G", "?")
	c2.typeText(t, "error")
	c2.keys(t, "enter")
	if c2.cy != 1 {
		t.Fatalf("?error (either case) went to line %d", c2.cy)
	}
	// esc gives a prompt up; backspace edits it.
	c2.keys(t, "/")
	c2.typeText(t, "ab")
	c2.keys(t, "backspace")
	if c2.input != "a" {
		t.Fatalf("backspace left %q", c2.input)
	}
	c2.keys(t, "esc")
	if c2.prompt || c2.query != "error" {
		t.Fatalf("esc: prompt %v query %q", c2.prompt, c2.query)
	}
}

func TestCopyModeSelection(t *testing.T) {
	term := pty.New(10, 4, pty.WithScrollback(10))
	// A line that wraps, then short lines with trailing blanks.
	fmt.Fprint(term, "abcdefghijKLM\r\nxy   \r\n  z\r\n")
	c := newCopyMode(term.History(), 4, 0, 0)
	c.keys(t, "g")
	if r := c.keys(t, "enter"); r.leave || r.copy || c.note == "" {
		t.Fatalf("enter without a selection: %+v note %q", r, c.note)
	}
	c.keys(t, "l", "l", "v", "j", "j", "$")
	r := c.keys(t, "y")
	if !r.leave || !r.copy || r.clip != "cdefghijKLM\nxy" {
		t.Fatalf("copy: %+v", r)
	}
	// Backwards, and within a line.
	c = newCopyMode(term.History(), 4, 0, 0)
	c.keys(t, "g", "j", "j", "l", "l", "space", "k", "h")
	if got := c.keys(t, "enter").clip; got != "LM\nxy" {
		t.Fatalf("backwards selection %q", got)
	}
	// esc drops the selection first, then leaves.
	c = newCopyMode(term.History(), 4, 0, 0)
	c.keys(t, "v")
	if r := c.keys(t, "esc"); r.leave || c.selecting {
		t.Fatalf("esc with a selection: %+v selecting %v", r, c.selecting)
	}
	if r := c.keys(t, "esc"); !r.leave {
		t.Fatal("esc did not leave")
	}
}

// mouseTerm is a real emulator behind a pane, recording what the pane
// sends to its program.
type mouseTerm struct {
	*pty.Terminal
	mu   sync.Mutex
	sent []string
	upd  chan struct{}
	done chan struct{}
}

func newMouseTerm(cols, rows int, output string) *mouseTerm {
	t := &mouseTerm{Terminal: pty.New(cols, rows), upd: make(chan struct{}), done: make(chan struct{})}
	fmt.Fprint(t.Terminal, output)
	return t
}

func (t *mouseTerm) Resize(cols, rows int) error { t.Terminal.Resize(cols, rows); return nil }
func (t *mouseTerm) Updates() <-chan struct{}    { return t.upd }
func (t *mouseTerm) Done() <-chan struct{}       { return t.done }
func (t *mouseTerm) SendMouse(ev pty.MouseEvent) bool {
	s := pty.EncodeMouse(ev, t.MouseMode())
	t.record(s)
	return s != ""
}
func (t *mouseTerm) SendKey(k uv.KeyPressEvent) { t.record("key:" + k.String()) }
func (t *mouseTerm) record(s string) {
	t.mu.Lock()
	t.sent = append(t.sent, s)
	t.mu.Unlock()
}

// waitSent waits for the pane's op queue to deliver want.
func (t *mouseTerm) waitSent(tb testing.TB, want ...string) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		t.mu.Lock()
		got := strings.Join(t.sent, " ")
		t.mu.Unlock()
		if got == strings.Join(want, " ") {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("sent %q, want %q", got, strings.Join(want, " "))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// mouseDriver is the UI with one pane over term, focused.
func mouseDriver(t *testing.T, output string) (*driver, *mouseTerm, *pane) {
	d := newDriver(t, 100, 30, Options{})
	cols, rows := d.m.newPaneSize()
	term := newMouseTerm(cols, rows, output)
	d.send(opened(term, paneExec, "mouse", 1, cols, rows))
	p := d.m.panes.all[0]
	t.Cleanup(func() { close(term.done) })
	return d, term, p
}

func at(p *pane, x, y int) (int, int) { return p.rect.x + 1 + x, p.rect.y + 1 + y }

func TestMouseGoesToAProgramThatAsksForIt(t *testing.T) {
	d, term, p := mouseDriver(t, "\x1b[?1002h\x1b[?1006h")
	d.keys("ctrl+]")
	x, y := at(p, 0, 0)
	d.send(tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft})
	if d.m.focus != focusPane {
		t.Fatal("a click on the pane did not focus it")
	}
	x, y = at(p, 5, 2)
	d.send(tea.MouseMotionMsg{X: x, Y: y, Button: tea.MouseLeft})
	// Released past the pane's right and bottom edges: held at them.
	d.send(tea.MouseReleaseMsg{X: p.rect.x + p.rect.w + 5, Y: p.rect.y + p.rect.h + 5, Button: tea.MouseLeft})
	x, y = at(p, 1, 1)
	d.send(tea.MouseWheelMsg{X: x, Y: y, Button: tea.MouseWheelUp, Mod: tea.ModCtrl})
	// Plain motion is not asked for (1002): nothing.
	d.send(tea.MouseMotionMsg{X: x, Y: y})
	last := fmt.Sprintf("\x1b[<0;%d;%dm", p.cols, p.rows)
	term.waitSent(t, "\x1b[<0;1;1M", "\x1b[<32;6;3M", last, "\x1b[<80;2;2M")
	if p.copy != nil {
		t.Fatal("the wheel went to copy mode, not the program")
	}
	if d.m.View().MouseMode != tea.MouseModeCellMotion {
		t.Fatal("the UI asks for every motion without 1003")
	}
	fmt.Fprint(term.Terminal, "\x1b[?1003h")
	if d.m.View().MouseMode != tea.MouseModeAllMotion {
		t.Fatal("the UI does not ask for every motion for a 1003 program")
	}
	// The border is the UI's.
	d.send(tea.MouseClickMsg{X: p.rect.x, Y: p.rect.y + 2, Button: tea.MouseLeft})
	term.waitSent(t, "\x1b[<0;1;1M", "\x1b[<32;6;3M", last, "\x1b[<80;2;2M")
}

func TestWheelScrollsBackWhenTheProgramDoesNotTakeTheMouse(t *testing.T) {
	var out strings.Builder
	for i := 1; i <= 100; i++ {
		fmt.Fprintf(&out, "%d\r\n", i)
	}
	d, term, p := mouseDriver(t, out.String())
	x, y := at(p, 1, 1)
	d.send(tea.MouseWheelMsg{X: x, Y: y, Button: tea.MouseWheelUp})
	if p.copy == nil || p.copy.offset() != wheelLines {
		t.Fatalf("wheel up: copy mode %v", p.copy)
	}
	if !strings.Contains(d.screen(), fmt.Sprintf("[%d/", wheelLines)) {
		t.Fatalf("no position shown:\n%s", d.screen())
	}
	d.send(tea.MouseWheelMsg{X: x, Y: y, Button: tea.MouseWheelDown})
	if p.copy != nil {
		t.Fatal("scrolling back to the bottom did not leave copy mode")
	}
	// On the alternate screen the wheel is arrow keys.
	fmt.Fprint(term.Terminal, "\x1b[?1049h")
	d.send(tea.MouseWheelMsg{X: x, Y: y, Button: tea.MouseWheelDown})
	term.waitSent(t, "key:down", "key:down", "key:down")
	if p.copy != nil {
		t.Fatal("copy mode on the alternate screen")
	}
}

func TestDragSelectsAndCopies(t *testing.T) {
	d, _, p := mouseDriver(t, "hello world\r\nsecond line\r\n")
	x, y := at(p, 6, 0)
	d.send(tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft})
	if p.copy != nil {
		t.Fatal("a click alone started copy mode")
	}
	x, y = at(p, 5, 1)
	d.send(tea.MouseMotionMsg{X: x, Y: y, Button: tea.MouseLeft})
	if p.copy == nil || !p.copy.selecting {
		t.Fatal("a drag did not select")
	}
	mod, cmd := d.m.Update(tea.MouseReleaseMsg{X: x, Y: y, Button: tea.MouseLeft})
	d.m = mod.(Model)
	if cmd == nil || p.copy != nil {
		t.Fatal("release did not copy and leave copy mode")
	}
	if got := fmt.Sprint(cmd()); got != "world\nsecond" {
		t.Fatalf("copied %q", got)
	}
	if !strings.Contains(d.m.status.text, "copied 12 character(s) on 2 line(s)") {
		t.Fatalf("status %q", d.m.status.text)
	}
}

func TestCopyModeKeysInThePane(t *testing.T) {
	var out strings.Builder
	for i := 1; i <= 100; i++ {
		fmt.Fprintf(&out, "%d\r\n", i)
	}
	d, term, p := mouseDriver(t, out.String())
	d.send(press("shift+pgup"))
	if p.copy == nil || p.copy.offset() != p.rows {
		t.Fatalf("shift+pgup: %+v", p.copy)
	}
	if !strings.Contains(d.screen(), "/ search down") {
		t.Fatalf("help bar is not copy mode's:\n%s", d.screen())
	}
	d.keys("?")
	d.typeText("42")
	d.keys("enter", "v", "j", "$")
	mod, cmd := d.m.Update(press("enter"))
	d.m = mod.(Model)
	if cmd == nil || p.copy != nil {
		t.Fatal("enter did not copy and leave")
	}
	if got := fmt.Sprint(cmd()); got != "42\n43" {
		t.Fatalf("copied %q", got)
	}
	// Keys go to the program again; ctrl+] then [ is copy mode again.
	d.keys("x")
	term.waitSent(t, "key:x")
	d.keys("ctrl+]", "[")
	if p.copy == nil || d.m.focus != focusPane || p.copy.offset() != 0 {
		t.Fatalf("ctrl+] [: copy %v focus %v", p.copy, d.m.focus)
	}
	d.keys("q")
	if p.copy != nil {
		t.Fatal("q did not leave")
	}
}

// A press whose release the UI never saw (let go outside the window) does
// not leave the pane selecting once another click came.
func TestLostReleaseDoesNotKeepTheMouse(t *testing.T) {
	d, _, p := mouseDriver(t, "hello\r\n")
	x, y := at(p, 0, 0)
	d.send(tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft})
	l := d.m.layout()
	d.send(tea.MouseClickMsg{X: 5, Y: l.list.y + 2, Button: tea.MouseLeft})
	d.send(tea.MouseMotionMsg{X: x + 3, Y: y, Button: tea.MouseLeft})
	if p.copy != nil {
		t.Fatal("a stale press turned later motion into a selection")
	}
}

// BenchmarkCopyModeView is a frame of a 120x40 pane in copy mode with a
// search whose matches are on screen: redrawn after a cursor move, and
// unchanged (what every other message's View costs).
func BenchmarkCopyModeView(b *testing.B) {
	st := new(styles.New(false))
	b.Run("moved", func(b *testing.B) {
		c := newCopyMode(seqHistory(120, 40, 2000), 40, 0, 39)
		c.query = "1"
		b.ReportAllocs()
		for b.Loop() {
			c.cx ^= 1
			_ = c.view(st, 120, 40)
		}
	})
	b.Run("unchanged", func(b *testing.B) {
		c := newCopyMode(seqHistory(120, 40, 2000), 40, 0, 39)
		c.query = "1"
		b.ReportAllocs()
		for b.Loop() {
			_ = c.view(st, 120, 40)
		}
	})
}

// BenchmarkCopyModeSearch is a search through a full scrollback that
// matches only at its far end.
func BenchmarkCopyModeSearch(b *testing.B) {
	c := newCopyMode(seqHistory(120, 40, 2000), 40, 0, 39)
	c.query = "1001"
	for b.Loop() {
		c.cy, c.cx = c.h.Len()-1, 0
		c.findNext(true)
	}
}
