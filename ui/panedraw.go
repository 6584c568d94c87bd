package ui

import (
	"reflect"
	"strings"
	"sync"
	"time"
	"unsafe"

	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"
)

// Drawing a pane's echo from its reader.
//
// A pane's output reached the screen through the pane's reader goroutine,
// a goroutine waiting for its updates, the event loop (a snapshot of the
// pane, View) and fastDraw: three hand-offs and ~0.1 ms of View. When a
// read of output is small and alone (an echo, a prompt), the reader draws
// the pane's changed rows itself (paneDrawer.output): it takes the pane's
// screen, fits each changed row to the pane's width as View does, parses
// it into the renderer's cell buffer at the pane's place, moves the cursor
// and writes, through the renderer's state and under its lock, as fastDraw
// does. The event loop follows with its own view of the same rows.
//
// Only what View last drew can be drawn over: View publishes, for each
// pane, where its rows are on screen and what they hold (publish), and the
// reader draws only when that view is on the terminal (not waiting for the
// renderer). A view must never hold rows older than the reader drew, or
// drawing it would take the echo back: View (frameClock.view) holds the
// drawer's lock from before it builds the view until the view is drawn or
// handed on, and first takes a new snapshot of every pane the reader drew
// past its snapshot (refresh); the reader takes the same lock. Once the
// reader drew, the screen no longer is the last view's text: the rows it
// drew are kept for fastDraw to draw again (stale), and the last view's
// text gets a mark that no view has, so that the renderer compares the
// next view with the screen cell by cell.

// paneDrawMaxRows is the most rows of a pane the reader draws at once.
const paneDrawMaxRows = 4

// paneDrawAlone is how long before a read of output the previous one must
// have come for the reader to draw it: output that comes faster is a
// stream, which the event loop draws at its frame rate.
const paneDrawAlone = 5 * time.Millisecond

// paneDrawMaxRead is the largest read of output the reader draws.
const paneDrawMaxRead = 1024

// staleMark ends the last view's text once the reader drew over it.
const staleMark = "\x00drawn over"

// outputTerminal is what the drawer needs of a pane's terminal beyond
// Terminal: pty.Terminal has it.
type outputTerminal interface {
	SetOutputHook(f func(n int) bool)
	Snapshot() (screen string, x, y int, visible bool, gen uint64)
	Gen() uint64
}

// paneDrawer is the frame clock's pane drawing state.
type paneDrawer struct {
	mu sync.Mutex // View's build and draw, and the readers' draws
	// panes are the panes of the last view, by terminal.
	panes map[outputTerminal]*paneSpot
	// pending is the text of a view handed to the renderer undrawn
	// (fastDraw could not): until the renderer drew it, the screen is not
	// what panes say.
	pending *byte
	// stale are the screen lines the readers drew since the last view.
	stale map[int]bool
	// hooked are the terminals whose hook is set.
	hooked map[outputTerminal]bool
}

// paneSpot is where a pane is in the last view, and what it shows.
type paneSpot struct {
	x, y       int      // the screen cell of its first row's first cell
	cols, rows int      // its inner size
	raw        []string // its terminal's lines the view drew (unfitted)
	cursor     bool     // the view's cursor is this pane's
	cvis       bool     // the pane's cursor was visible
	drawn      uint64   // the screen generation the reader last drew
	refreshed  uint64   // the generation of View's last snapshot after a draw
	lastRead   time.Time
}

// view builds m's view with build and hands it to the frame clock, under
// the drawer's lock (see above).
func (fc *frameClock) view(m Model, build func() tea.View) tea.View {
	if fc == nil {
		return build()
	}
	d := &fc.panes
	d.mu.Lock()
	defer d.mu.Unlock()
	d.refresh(m)
	v := build()
	fc.routeKeys(m)
	drawn := fc.viewed(&v)
	d.publish(fc, m, &v, drawn)
	return v
}

// refresh takes a new snapshot of each pane the reader drew past View's
// snapshot of it.
func (d *paneDrawer) refresh(m Model) {
	for _, p := range m.panes.all {
		ot, ok := p.term.(outputTerminal)
		if !ok || !reflect.TypeOf(ot).Comparable() {
			continue
		}
		if s := d.panes[ot]; s != nil && s.drawn > s.refreshed {
			s.refreshed = ot.Gen()
			p.snapshot()
		}
	}
}

// publish records where m's panes are in v, and hooks the reader of each
// new one.
func (d *paneDrawer) publish(fc *frameClock, m Model, v *tea.View, drawn bool) {
	if drawn {
		d.pending = nil
	} else {
		d.pending = unsafe.StringData(v.Content)
	}
	old := d.panes
	d.panes = make(map[outputTerminal]*paneSpot, len(m.panes.all))
	defer func() {
		// A pane gone: its terminal's hook goes with it.
		for ot := range d.hooked {
			live := false
			for _, p := range m.panes.all {
				if o, ok := p.term.(outputTerminal); ok && reflect.TypeOf(o).Comparable() && o == ot {
					live = true
				}
			}
			if !live {
				ot.SetOutputHook(nil)
				delete(d.hooked, ot)
			}
		}
	}()
	if m.showHelp || m.forms.active != nil || m.width < MinWidth || m.height < MinHeight || m.quitting {
		return
	}
	l := m.layout()
	bodyEnd := l.body.y + l.body.h
	focused := m.panes.focused()
	for i, p := range m.panes.all {
		ot, ok := p.term.(outputTerminal)
		// Only a pane the view drew where the layout puts it.
		if !ok || !reflect.TypeOf(ot).Comparable() || p.copy != nil || p.stopped ||
			i >= len(l.panes) || p.rect != l.panes[i] || p.rect.y+p.rect.h > bodyEnd || p.linesW != p.rect.w-2 {
			continue
		}
		s := &paneSpot{x: p.rect.x + 1, y: p.rect.y + 1, cols: p.rect.w - 2, rows: p.rect.h - 2,
			raw: p.raw, cvis: p.cvis}
		s.cursor = p == focused && v.Cursor != nil
		if o := old[ot]; o != nil {
			s.drawn, s.refreshed, s.lastRead = o.drawn, o.refreshed, o.lastRead
		}
		d.panes[ot] = s
		if !d.hooked[ot] {
			if d.hooked == nil {
				d.hooked = make(map[outputTerminal]bool)
			}
			d.hooked[ot] = true
			ot.SetOutputHook(func(n int) bool { return fc.paneOutput(ot, n) })
		}
	}
}

// paneOutput is a pane terminal's hook: it draws the pane's changed rows
// when the read was small and alone and the screen is the last view, and
// says whether it did.
func (fc *frameClock) paneOutput(ot outputTerminal, n int) bool {
	d := &fc.panes
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.panes[ot]
	if s == nil {
		return false
	}
	now := time.Now()
	alone := now.Sub(s.lastRead) >= paneDrawAlone
	s.lastRead = now
	fc.mu.Lock()
	rs := fc.renderer
	fc.mu.Unlock()
	if !alone || n > paneDrawMaxRead || rs == nil {
		return false
	}
	screen, cx, cy, cvis, gen := ot.Snapshot()
	if cvis != s.cvis || (s.cursor && (cx >= s.cols || cy >= s.rows)) {
		return false // the view's cursor changes: View's
	}
	raw := strings.Split(screen, "\n")
	if len(raw) != len(s.raw) || len(raw) > s.rows {
		return false
	}
	var changed []int
	for i := range raw {
		if raw[i] != s.raw[i] {
			if len(changed) == paneDrawMaxRows {
				return false
			}
			changed = append(changed, i)
		}
	}
	cur := [2]int{-1, -1}
	if s.cursor {
		cur = [2]int{s.x + cx, s.y + cy}
	}
	if !rs.drawRows(d, s, raw, changed, cur) {
		return false
	}
	latNote("panedrawn")
	fc.paneDraws.Add(1)
	s.raw, s.drawn = raw, gen
	return true
}

// drawRows draws rows changed of raw at s, and the cursor at cur (x -1:
// where the last view has it), if the terminal shows the last view.
func (rs *rendererState) drawRows(d *paneDrawer, s *paneSpot, raw []string, changed []int, cur [2]int) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	last := *rs.lastView
	scr := *rs.scr
	if last == nil || scr == nil || *rs.starting || *rs.pendingErase || !last.AltScreen {
		return false
	}
	if d.pending != nil && unsafe.StringData(last.Content) != d.pending {
		// A view the renderer has not drawn yet; unless it has it, and
		// found nothing to draw.
		if unsafe.StringData(rs.view.Content) != d.pending || rs.view.Content != last.Content {
			return false
		}
	}
	d.pending = nil
	cb := rs.cellbuf
	w, h := *rs.width, *rs.height
	if cb.RenderBuffer == nil || cb.Width() != w || cb.Height() != h || s.x+s.cols > w || s.y+s.rows > h {
		return false
	}
	if len(changed) == 0 && (cur[0] < 0 || last.Cursor == nil || (last.Cursor.X == cur[0] && last.Cursor.Y == cur[1])) {
		// The read changed nothing the reader draws: not the pane's rows,
		// not its cursor (a left arrow in a shell moves only that). What
		// it did change, if anything (a title, a mode), is View's.
		return false
	}
	if d.stale == nil {
		d.stale = make(map[int]bool)
	}
	for _, i := range changed {
		uv.NewStyledString(fitCells(raw[i], s.cols)).Draw(cb, uv.Rect(s.x, s.y+i, s.cols, 1))
		d.stale[s.y+i] = true
	}
	if cur[0] < 0 && last.Cursor != nil {
		cur = [2]int{last.Cursor.X, last.Cursor.Y}
	}
	rs.flushCells(scr, cur, last.Cursor != nil)
	// The screen is no longer the last view's text; the view the renderer
	// holds is the same, so that its tick draws nothing.
	vv := *last
	if !strings.HasSuffix(vv.Content, staleMark) {
		vv.Content += staleMark
	}
	if cur[0] >= 0 && vv.Cursor != nil {
		c := *vv.Cursor
		c.X, c.Y = cur[0], cur[1]
		vv.Cursor = &c
	}
	*rs.lastView = &vv
	*rs.view = vv
	return true
}
