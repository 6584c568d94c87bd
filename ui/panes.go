package ui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"boxtui/internal/termsafe"
	"boxtui/pty"
	"boxtui/runtime/discovery"
	"boxtui/ui/components/table"
	"boxtui/ui/keymap"
	"boxtui/ui/styles"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
)

type paneKind string

const (
	paneConsole paneKind = "console"
	paneExec    paneKind = "exec"
)

// frameInterval bounds how often a pane is redrawn (60 fps): PTY output
// marks a pane dirty, and at most one redraw message per pane is in flight.
const frameInterval = 16 * time.Millisecond

// pane is one terminal pane. Keys, pastes and resizes go to its terminal
// through io, a queue served by one goroutine, so they reach the shell in
// order and Update never blocks on a PTY.
type pane struct {
	id    int
	kind  paneKind
	label string // container name or init PID
	pid   int
	term  Terminal
	io    *paneIO

	cols, rows int
	rect       rect

	// What View shows, refreshed at most once per frame in Update.
	screen   string
	cx, cy   int
	cvis     bool
	title    string
	pending  bool
	lastDraw time.Time
	stopped  bool

	copy  *copyMode // copy mode (copymode.go), nil when off
	mouse paneMouse // mouse.go
	// lines is screen cut into lines fitted to linesW cells, each drawn
	// only when its text changed: a keystroke's echo fits one line.
	lines  []string
	raw    []string
	linesW int
}

// paneIO is the queue of a pane's terminal operations and the goroutine
// that runs them. The size is not queued like the rest: the UI sets the
// size it wants and the goroutine gives it to the terminal after each
// operation, so a resize is never lost to a full queue (a full queue has
// operations left to run, and the size follows the next one).
type paneIO struct {
	ops  chan func()
	want atomic.Uint64 // the size the UI wants, packed by packSize
	have uint64        // the size the terminal has; the goroutine's own
	// queued counts operations queued and not yet done (their size
	// included): at 0 the goroutine is idle and nothing can overtake.
	queued atomic.Int64
}

func packSize(cols, rows int) uint64 { return uint64(uint32(cols))<<32 | uint64(uint32(rows)) }

func newPaneIO(t Terminal, cols, rows int) *paneIO {
	io := &paneIO{ops: make(chan func(), 1024), have: packSize(cols, rows)}
	io.want.Store(io.have)
	go func() {
		for f := range io.ops {
			f()
			if want := io.want.Load(); want != io.have {
				io.have = want
				_ = t.Resize(int(want>>32), int(uint32(want)))
			}
			io.queued.Add(-1)
		}
	}()
	return io
}

// do queues an operation on the pane's terminal. A full queue (a shell
// that stopped reading) drops the operation rather than freezing the UI.
func (p *pane) do(f func()) bool {
	if p.stopped {
		return false
	}
	p.io.queued.Add(1)
	select {
	case p.io.ops <- f:
		return true
	default:
		p.io.queued.Add(-1)
		return false
	}
}

// sendKey sends a key press to the pane's program. With nothing queued it
// goes straight to the terminal, which only encodes it and queues the bytes
// for its own writer (it never waits for the program): a keystroke's echo
// then waits for one goroutine less.
func (p *pane) sendKey(ev uv.KeyPressEvent) bool {
	if !p.stopped && p.io.queued.Load() == 0 {
		p.term.SendKey(ev)
		return true
	}
	return p.do(func() { p.term.SendKey(ev) })
}

// resize asks for a new size of the pane's terminal (see paneIO).
func (p *pane) resize(cols, rows int) {
	p.io.want.Store(packSize(cols, rows))
	p.do(func() {})
}

func (p *pane) stop() {
	if !p.stopped {
		p.stopped = true
		close(p.io.ops)
	}
}

// snapshot copies the terminal's screen for View.
func (p *pane) snapshot() {
	p.screen = p.term.Render()
	p.cx, p.cy, p.cvis = p.term.Cursor()
	p.title = p.term.Title()
}

type (
	paneOpenedMsg struct {
		term  Terminal
		io    *paneIO
		kind  paneKind
		label string
		pid   int
		cols  int
		rows  int
	}
	paneDirtyMsg  struct{ id int }
	paneRedrawMsg struct{ id int }
	paneDoneMsg   struct{ id int }
)

// opened wraps a freshly started terminal and starts its op queue.
func opened(t Terminal, kind paneKind, label string, pid, cols, rows int) tea.Msg {
	return paneOpenedMsg{term: t, io: newPaneIO(t, cols, rows), kind: kind, label: label, pid: pid, cols: cols, rows: rows}
}

func (m Model) openConsoleCmd(name string, pid, cols, rows int) tea.Cmd {
	b := m.backend
	return func() tea.Msg {
		t, err := b.OpenConsole(name, cols, rows)
		if err != nil {
			return errMsg{fmt.Errorf("attach the console of %s: %w", name, err)}
		}
		return opened(t, paneConsole, name, pid, cols, rows)
	}
}

func (m Model) execCmd(c discovery.Container, cols, rows int) tea.Cmd {
	b := m.backend
	return func() tea.Msg {
		t, err := b.Exec(c, cols, rows)
		if err != nil {
			if c.Named.PID > 0 {
				return errMsg{fmt.Errorf("exec a shell in process %d of %s: %w", c.Named.PID, containerLabel(c), err)}
			}
			return errMsg{fmt.Errorf("exec a shell in %s: %w", containerLabel(c), err)}
		}
		label := shortLabel(c)
		if c.Named.PID > 0 {
			label += "/" + strconv.Itoa(c.Named.PID)
		}
		return opened(t, paneExec, label, c.PID, cols, rows)
	}
}

// debugCmd opens a debug shell (boxtui debug) in a pane. It counts as an
// exec shell: quitting asks, closing hangs it up.
func (m Model) debugCmd(c discovery.Container, cols, rows int) tea.Cmd {
	b := m.backend
	return func() tea.Msg {
		t, err := b.Debug(c, cols, rows)
		if err != nil {
			return errMsg{fmt.Errorf("debug %s: %w", containerLabel(c), err)}
		}
		return opened(t, paneExec, "debug:"+shortLabel(c), c.PID, cols, rows)
	}
}

func waitPane(p *pane) tea.Cmd {
	id, t := p.id, p.term
	return func() tea.Msg {
		select {
		case <-t.Updates():
			return paneDirtyMsg{id}
		case <-t.Done():
			return paneDoneMsg{id}
		}
	}
}

// byID finds a pane by its id; -1 and nil once it is closed.
func (s paneSet) byID(id int) (int, *pane) {
	for i, p := range s.all {
		if p.id == id {
			return i, p
		}
	}
	return -1, nil
}

// focused is the pane that has (or last had) the focus, nil for none.
func (s paneSet) focused() *pane {
	if s.focus >= 0 && s.focus < len(s.all) {
		return s.all[s.focus]
	}
	return nil
}

// add opens a pane on a terminal; it is the last in screen order. The
// slice is copied, so a Model value that held the old set keeps it.
func (s *paneSet) add(msg paneOpenedMsg) *pane {
	s.nextID++
	p := &pane{id: s.nextID, kind: msg.kind, label: msg.label, pid: msg.pid, term: msg.term, io: msg.io, cols: msg.cols, rows: msg.rows}
	p.snapshot()
	p.lastDraw = time.Now()
	s.all = append(append([]*pane(nil), s.all...), p)
	return p
}

// remove stops pane i's worker and takes it out; lostFocus says it was
// the focused one.
func (s *paneSet) remove(i int) (lostFocus bool) {
	s.all[i].stop()
	s.all = append(append([]*pane(nil), s.all[:i]...), s.all[i+1:]...)
	switch {
	case s.focus == i:
		s.focus = -1
		return true
	case s.focus > i:
		s.focus--
	}
	return false
}

// place gives each pane its rectangle and queues a resize of each PTY
// whose size changed.
func (s paneSet) place(rects []rect) {
	for i, p := range s.all {
		if i >= len(rects) {
			break
		}
		p.rect = rects[i]
		cols, rows := max(p.rect.w-2, 1), max(p.rect.h-2, 1)
		if cols != p.cols || rows != p.rows {
			p.cols, p.rows = cols, rows
			p.resize(cols, rows)
		}
	}
}

func (m Model) addPane(msg paneOpenedMsg) (tea.Model, tea.Cmd) {
	p := m.panes.add(msg)
	m.focusPaneAt(len(m.panes.all) - 1)
	m.layoutPanes()
	return m, waitPane(p)
}

// restingFocus is where the keys go when a pane lets them go: to the
// detail panel on screen (processes, mounts, tree, events), else the
// list. A panel that is shown always has the keys, so ↓ never moves the
// container selection under a panel that then silently shows another
// container.
func (m Model) restingFocus() focusArea {
	if m.detail != detailNamespaces {
		return focusDetail
	}
	return focusList
}

// focusPaneAt gives the keys to pane i and says so on the status line, so
// the line always names the pane that has them.
func (m *Model) focusPaneAt(i int) {
	p := m.panes.all[i]
	m.panes.focus, m.focus = i, focusPane
	m.setStatus(fmt.Sprintf("pane %d: %s %s — %s returns to the list", i+1, p.label, p.kind, m.panes.keys.Release.Help().Key), false)
}

func (m Model) paneDirty(msg paneDirtyMsg) (tea.Model, tea.Cmd) {
	_, p := m.panes.byID(msg.id)
	if p == nil {
		return m, nil
	}
	since := time.Since(p.lastDraw)
	if since >= frameInterval {
		p.snapshot()
		p.lastDraw = time.Now()
		return m, waitPane(p)
	}
	if p.pending {
		return m, nil
	}
	p.pending = true
	id := p.id
	return m, tea.Tick(frameInterval-since, func(time.Time) tea.Msg { return paneRedrawMsg{id} })
}

func (m Model) paneRedraw(msg paneRedrawMsg) (tea.Model, tea.Cmd) {
	_, p := m.panes.byID(msg.id)
	if p == nil {
		return m, nil
	}
	p.pending = false
	p.snapshot()
	p.lastDraw = time.Now()
	return m, waitPane(p)
}

// paneDone closes a pane whose program ended and says how it ended.
func (m Model) paneDone(msg paneDoneMsg) (tea.Model, tea.Cmd) {
	i, p := m.panes.byID(msg.id)
	if p == nil {
		return m, nil
	}
	how, fault := "exited normally", false
	if err := p.term.Err(); err != nil {
		// A program that exited or was killed ended; anything else (a lost
		// console, a broken stream) is a fault and shows as an error.
		var exit *pty.ExitError
		fault = !errors.As(err, &exit)
		how = "ended: " + err.Error()
	}
	m.setStatus(fmt.Sprintf("pane %d (%s %s) %s", i+1, p.label, p.kind, how), fault)
	m.removePane(i)
	t := p.term
	return m, tea.Batch(func() tea.Msg { t.Close(); return nil }, m.rescan())
}

func (m *Model) removePane(i int) {
	if m.panes.remove(i) && m.focus == focusPane {
		m.focus = m.restingFocus()
	}
	m.layoutPanes()
}

// closePane closes the focused (or last focused, or last) pane. Closing
// an exec or debug shell hangs it up, so it asks first, as quitting does; a
// console only disconnects (the container runs on) and closes at once.
func (m Model) closePane() (tea.Model, tea.Cmd) {
	if len(m.panes.all) == 0 {
		m.setStatus("no pane to close", true)
		return m, nil
	}
	i := m.panes.focus
	if i < 0 || i >= len(m.panes.all) {
		i = len(m.panes.all) - 1
	}
	p := m.panes.all[i]
	if p.kind == paneExec {
		m.confirm = &confirmState{
			prompt: fmt.Sprintf("Close pane %d? Its shell (%s) will be hung up; the container keeps running.", i+1, p.label),
			onYes: func(m *Model, _ signalChoice) tea.Cmd {
				// Panes may have come and gone while the question was up.
				for j, q := range m.panes.all {
					if q == p {
						mod, cmd := m.closePaneAt(j)
						*m = mod
						return cmd
					}
				}
				return nil
			},
		}
		return m, nil
	}
	mod, cmd := m.closePaneAt(i)
	return mod, cmd
}

// closePaneAt closes pane i now.
func (m Model) closePaneAt(i int) (Model, tea.Cmd) {
	p := m.panes.all[i]
	m.removePane(i)
	m.setStatus(fmt.Sprintf("closed pane %d (%s %s)", i+1, p.label, p.kind), false)
	t := p.term
	return m, func() tea.Msg {
		if err := t.Close(); err != nil {
			return errMsg{fmt.Errorf("close pane %s %s: %w", p.label, p.kind, err)}
		}
		return nil
	}
}

func (m Model) paneKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if key.Matches(msg, m.panes.keys.Release) {
		m.focus = m.restingFocus()
		return m, nil
	}
	p := m.panes.focused()
	if p == nil {
		m.focus = m.restingFocus()
		return m, nil
	}
	if mod, cmd, ok := m.copyModeKey(p, msg); ok {
		return mod, cmd
	}
	ev := uv.KeyPressEvent(msg)
	if !p.sendKey(ev) {
		m.setStatus(fmt.Sprintf("pane %d is not reading input: key dropped", m.panes.focus+1), true)
	}
	return m, nil
}

func (m Model) mouseClick(msg tea.MouseClickMsg) (tea.Model, tea.Cmd) {
	if m.forms.active != nil || m.confirm != nil || m.showHelp {
		return m, nil
	}
	for i, p := range m.panes.all {
		r := p.rect
		if msg.X >= r.x && msg.X < r.x+r.w && msg.Y >= r.y && msg.Y < r.y+r.h {
			m.panes.focus, m.focus = i, focusPane
			return m, nil
		}
	}
	l := m.layout()
	if msg.X >= l.list.x && msg.X < l.list.x+l.list.w && msg.Y > l.list.y && msg.Y < l.list.y+l.list.h {
		row := table.Offset(m.list.cursor, len(m.list.rows), l.list.h-1) + msg.Y - l.list.y - 1
		if row >= 0 && row < len(m.list.rows) {
			m.list.selectPID(m.list.rows[row].PID)
			m.selectionMoved()
			if m.focus == focusPane {
				m.focus = focusList
			}
			return m, m.detailRefresh()
		}
	}
	return m, nil
}

// layoutPanes places the panes and queues a resize of each PTY whose size
// changed.
func (m *Model) layoutPanes() []tea.Cmd {
	m.panes.place(m.layout().panes)
	return nil
}

// newPaneSize is the inner size a pane opened now will get.
func (m Model) newPaneSize() (cols, rows int) {
	l := m.layoutFor(len(m.panes.all) + 1)
	r := l.panes[len(l.panes)-1]
	return max(r.w-2, 1), max(r.h-2, 1)
}

// view draws the pane area line by line from the pane rectangles, from
// line y0 of the screen down h lines, width wide; focused: the panes have
// the keys (the focused one's border is bold). Every pane line is exactly
// its rectangle's width and the rectangles of a row tile the screen's
// width, so the lines are joined as they are.
func (s paneSet) view(rects []rect, focused bool, y0, h, width int, border borderFunc) []string {
	grid := make([][]string, h)
	widths := make([]int, h)
	for i, p := range s.all {
		if i >= len(rects) {
			break
		}
		r := rects[i]
		for j, line := range s.viewPane(i, p, r, focused && i == s.focus, border) {
			if y := r.y - y0 + j; y >= 0 && y < h {
				grid[y] = append(grid[y], line)
				widths[y] += r.w
			}
		}
	}
	out := make([]string, h)
	for y := range grid {
		line := strings.Join(grid[y], "")
		if widths[y] != width {
			line = table.Fit(line, width, false)
		}
		out[y] = line
	}
	return out
}

// borderFunc draws a pane border's text s in render's style (the frame
// clock's memo keeps them: viewmemo.go).
type borderFunc func(focused bool, s string, render func(...string) string) string

// viewPane draws pane i with a border naming its number, container and
// kind: r.h lines of exactly r.w cells. focused: it has the keys.
func (s paneSet) viewPane(i int, p *pane, r rect, focused bool, border borderFunc) []string {
	style := s.st.PaneBorder
	h, v, tl, tr, bl, br := "─", "│", "┌", "┐", "└", "┘"
	if focused {
		style = s.st.PaneBorderFocused
		h, v, tl, tr, bl, br = "━", "┃", "┏", "┓", "┗", "┛"
	}
	name := fmt.Sprintf(" %d %s %s ", i+1, p.label, p.kind)
	if p.title != "" {
		name += "· " + termsafe.String(p.title) + " " // the pane's program sets it
	}
	name = strings.TrimRight(fitCells(name, r.w-4), " ") + " "
	nameW := ansi.StringWidth(name)
	top := tl + h + name + strings.Repeat(h, max(r.w-3-nameW, 0)) + tr
	lines := make([]string, 0, r.h)
	lines = append(lines, border(focused, top, style.Render)) // viewmemo.go
	side := border(focused, v, style.Render)
	content := s.lines(p, r.w-2)
	for y := 0; y < r.h-2; y++ {
		line := strings.Repeat(" ", max(r.w-2, 0))
		if y < len(content) {
			line = content[y]
		}
		lines = append(lines, side+line+"\x1b[m"+side)
	}
	lines = append(lines, border(focused, bl+strings.Repeat(h, max(r.w-2, 0))+br, style.Render))
	return lines
}

// lines are the lines a pane shows: its live screen, or copy mode's
// view of its history.
func (s paneSet) lines(p *pane, w int) []string {
	if p.copy != nil {
		view := p.copy.view(s.st, p.cols, p.rows) // copy mode keeps it: no writes
		lines := make([]string, len(view))
		for i, l := range view {
			lines[i] = fitCells(l, w)
		}
		return lines
	}
	return p.contentLines(w)
}

// fitCells pads or truncates s (which may hold SGR sequences) to exactly w
// cells, also when a wide character is cut.
func fitCells(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		s = ansi.Truncate(s, w, "…")
		sw = ansi.StringWidth(s)
	}
	return s + strings.Repeat(" ", max(w-sw, 0))
}

// contentLines returns the pane's screen as lines of exactly w cells. A
// line is fitted again only when its text changed since the last call.
func (p *pane) contentLines(w int) []string {
	raw := strings.Split(p.screen, "\n")
	if w != p.linesW {
		p.lines, p.raw, p.linesW = nil, nil, w
	}
	lines := make([]string, len(raw))
	for y, l := range raw {
		if y < len(p.raw) && p.raw[y] == l {
			lines[y] = p.lines[y]
			continue
		}
		lines[y] = fitCells(l, w)
	}
	p.raw, p.lines = raw, lines
	return lines
}

// paneSet is the open panes, in screen order, and which one has (or last
// had) the focus: an index into all, -1 for none.
type paneSet struct {
	keys     keymap.Pane
	copyKeys keymap.CopyMode
	st       *styles.Styles
	all      []*pane
	nextID   int
	focus    int
}

func newPaneSet(keys keymap.Pane, copyKeys keymap.CopyMode, st *styles.Styles) paneSet {
	return paneSet{keys: keys, copyKeys: copyKeys, st: st, focus: -1}
}

// help is the focused pane's keys: copy mode's while it is in it.
func (s paneSet) help() help.KeyMap {
	if p := s.focused(); p != nil && p.copy != nil {
		return s.copyKeys
	}
	return s.keys
}
