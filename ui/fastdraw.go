package ui

import (
	"bytes"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unsafe"

	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
)

// Drawing a small change of the view at once, on the event loop.
//
// bubbletea (v2.1) draws a frame by parsing the whole view string into a
// cell buffer and diffing that buffer with what the terminal shows: for a
// 120x40 UI with a pane that is 0.5-2 ms for every frame, though a
// keystroke's echo changes one line, and the frame waits for the renderer's
// goroutine to be scheduled. When a view a person waits on (frameClock's
// urgent) differs from the last frame drawn in a few lines only, fastDraw
// draws it itself, through the renderer's own state and under its lock:
// it parses the changed lines alone into the renderer's cell buffer (the
// same buffer and parser a frame uses, so the cells are the ones a whole
// frame would have), lets the renderer's terminal diff them against what
// the terminal shows, moves the cursor, and writes the bytes to the
// renderer's output. It then records the view as the last one drawn, so
// the renderer's next tick finds nothing to do. The renderer's model of
// the terminal (its cell buffer, cursor and pen) is the one it keeps
// itself, so frames before and after stay exact; bytes never interleave,
// as both write under the same lock.
//
// The renderer's fields are unexported: rendererState finds them by name
// and type, and when a bubbletea release changes them, fastDraw draws
// nothing and every frame goes the renderer's way
// (TestFastDrawFindsRenderer says so first).

// fastDrawMaxLines is the most lines a view may differ in for fastDraw to
// draw it: an echo, a prompt, a line of output. A pane scrolling changes
// all its lines, which the renderer draws at its frame rate instead.
const fastDrawMaxLines = 8

// rendererState points into the fields of bubbletea's renderer.
type rendererState struct {
	mu           *sync.Mutex
	scr          **uv.TerminalRenderer
	cellbuf      *uv.ScreenBuffer
	buf          *bytes.Buffer
	w            *io.Writer
	lastView     **tea.View
	view         *tea.View
	width        *int
	height       *int
	syncdUpdates *bool
	starting     *bool
	pendingErase *bool
}

// fieldPtr returns a pointer to struct field name of v (addressable) when
// it has type T, else nil.
func fieldPtr[T any](v reflect.Value, name string) *T {
	f := v.FieldByName(name)
	if !f.IsValid() || f.Type() != reflect.TypeFor[T]() {
		return nil
	}
	return (*T)(unsafe.Pointer(f.UnsafeAddr()))
}

// findRenderer returns the state of p's renderer, or nil when p has no
// renderer of the kind bubbletea v2.1 has, with these fields.
func findRenderer(p *tea.Program) *rendererState {
	if p == nil {
		return nil
	}
	f := reflect.ValueOf(p).Elem().FieldByName("renderer")
	if !f.IsValid() || f.Kind() != reflect.Interface || f.IsNil() {
		return nil
	}
	r := f.Elem()
	if r.Kind() != reflect.Pointer || r.IsNil() || r.Type().Elem().Kind() != reflect.Struct ||
		r.Type().Elem().Name() != "cursedRenderer" {
		return nil
	}
	s := reflect.NewAt(r.Type().Elem(), r.UnsafePointer()).Elem()
	rs := &rendererState{
		mu:           fieldPtr[sync.Mutex](s, "mu"),
		scr:          fieldPtr[*uv.TerminalRenderer](s, "scr"),
		cellbuf:      fieldPtr[uv.ScreenBuffer](s, "cellbuf"),
		buf:          fieldPtr[bytes.Buffer](s, "buf"),
		w:            fieldPtr[io.Writer](s, "w"),
		lastView:     fieldPtr[*tea.View](s, "lastView"),
		view:         fieldPtr[tea.View](s, "view"),
		width:        fieldPtr[int](s, "width"),
		height:       fieldPtr[int](s, "height"),
		syncdUpdates: fieldPtr[bool](s, "syncdUpdates"),
		starting:     fieldPtr[bool](s, "starting"),
		pendingErase: fieldPtr[bool](s, "pendingErase"),
	}
	if rs.mu == nil || rs.scr == nil || rs.cellbuf == nil || rs.buf == nil || rs.w == nil ||
		rs.lastView == nil || rs.view == nil || rs.width == nil || rs.height == nil ||
		rs.syncdUpdates == nil || rs.starting == nil || rs.pendingErase == nil {
		return nil
	}
	return rs
}

// fastDraw draws v at once when it differs from the last frame in at most
// fastDrawMaxLines lines and in nothing but its text and cursor position.
// It reports whether v is on the terminal; when not, nothing was written
// and the renderer draws v as it would have.
func (rs *rendererState) fastDraw(v *tea.View, stale map[int]bool) bool {
	if rs == nil {
		return false
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	last := *rs.lastView
	scr := *rs.scr
	if last == nil || scr == nil || *rs.starting || *rs.pendingErase || !v.AltScreen || !last.AltScreen {
		return false
	}
	w, h := *rs.width, *rs.height
	cb := rs.cellbuf
	if cb.RenderBuffer == nil || cb.Width() != w || cb.Height() != h || w <= 0 || h <= 0 {
		return false
	}
	if !sameButText(last, v) {
		return false
	}
	changed, ok := changedLines(last.Content, v.Content, h)
	if !ok {
		return false
	}
	// Lines a pane's reader drew over (panedraw.go) are drawn again, as
	// long as the renderer did not draw a whole view since.
	if strings.HasSuffix(last.Content, staleMark) {
		for y := range stale {
			if !slices.Contains(changed, y) {
				changed = append(changed, y)
			}
		}
		if len(changed) > fastDrawMaxLines+paneDrawMaxRows {
			return false
		}
	}
	clear(stale)
	if len(changed) == 0 && sameCursor(last.Cursor, v.Cursor) {
		// Nothing to draw: record v so that the renderer does not parse it.
		vv := *v
		*rs.lastView = &vv
		*rs.view = vv
		return true
	}
	newLines := strings.Split(v.Content, "\n")
	oldLines := strings.Split(strings.TrimSuffix(last.Content, staleMark), "\n")
	for _, y := range changed {
		if !startsPlain(newLines, y) || !endsPlain(newLines[y], true) || !endsPlain(oldLines[y], startsPlain(oldLines, y)) {
			return false
		}
	}
	// From here on the renderer's state changes: the frame is drawn.
	for _, y := range changed {
		uv.NewStyledString(newLines[y]).Draw(cb, uv.Rect(0, y, w, 1))
	}
	cur := [2]int{-1, -1}
	if v.Cursor != nil {
		cur = [2]int{v.Cursor.X, v.Cursor.Y}
	}
	rs.flushCells(scr, cur, v.Cursor != nil && last.Cursor != nil)
	vv := *v
	*rs.lastView = &vv
	*rs.view = vv
	return true
}

// flushCells has the renderer's terminal draw what changed in its cell
// buffer, move the cursor to cur (unless x is -1) and writes it all to the
// renderer's output, as the renderer's flush does: synchronized output
// where the terminal has it, else a shown cursor hidden while it moves
// about. The caller holds rs.mu.
func (rs *rendererState) flushCells(scr *uv.TerminalRenderer, cur [2]int, cursorShown bool) {
	// The renderer's search for scrolled lines hashes every line of the
	// screen (most of the time an echo took): a few changed lines are
	// drawn as they are. The hashes it keeps of the lines are then
	// forgotten, so that its next frame hashes them all again.
	if hashes := rendererHashes(scr); hashes != nil {
		scr.SetScrollOptim(false)
		scr.Render(rs.cellbuf.RenderBuffer)
		scr.SetScrollOptim(true)
		*hashes[0], *hashes[1] = nil, nil
	} else {
		scr.Render(rs.cellbuf.RenderBuffer)
	}
	if cur[0] >= 0 {
		scr.MoveTo(cur[0], cur[1])
	}
	_ = scr.Flush()
	if rs.buf.Len() == 0 {
		return
	}
	var out bytes.Buffer
	switch {
	case *rs.syncdUpdates:
		out.WriteString(ansi.SetModeSynchronizedOutput)
		out.Write(rs.buf.Bytes())
		out.WriteString(ansi.ResetModeSynchronizedOutput)
	case cursorShown:
		out.WriteString(ansi.ResetModeTextCursorEnable)
		out.Write(rs.buf.Bytes())
		out.WriteString(ansi.SetModeTextCursorEnable)
	default:
		out.Write(rs.buf.Bytes())
	}
	rs.buf.Reset()
	_, _ = (*rs.w).Write(out.Bytes())
}

// rendererHashes returns pointers to the line hashes scr keeps for its
// search for scrolled lines, or nil when ultraviolet keeps none there.
func rendererHashes(scr *uv.TerminalRenderer) []*[]uint64 {
	v := reflect.ValueOf(scr).Elem()
	old, cur := fieldPtr[[]uint64](v, "oldhash"), fieldPtr[[]uint64](v, "newhash")
	if old == nil || cur == nil {
		return nil
	}
	return []*[]uint64{old, cur}
}

// sameButText reports whether a and b differ at most in their content and
// cursor position: everything else the renderer writes only in a frame of
// its own.
func sameButText(a, b *tea.View) bool {
	if (a.Cursor == nil) != (b.Cursor == nil) {
		return false
	}
	if a.Cursor != nil && (a.Cursor.Shape != b.Cursor.Shape || a.Cursor.Blink != b.Cursor.Blink || a.Cursor.Color != b.Cursor.Color) {
		return false
	}
	aa, bb := *a, *b
	aa.Content, bb.Content = "", ""
	aa.Cursor, bb.Cursor = nil, nil
	return reflect.DeepEqual(aa, bb)
}

func sameCursor(a, b *tea.Cursor) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Position == b.Position
}

// changedLines returns the indexes of the lines that differ between old and
// cur, which must both have exactly h lines; ok is false when they do not,
// or when more than fastDrawMaxLines differ.
func changedLines(old, cur string, h int) (changed []int, ok bool) {
	for y := 0; y < h; y++ {
		oi := strings.IndexByte(old, '\n')
		ci := strings.IndexByte(cur, '\n')
		if (oi < 0) != (ci < 0) || (oi < 0) != (y == h-1) {
			return nil, false
		}
		ol, cl := old, cur
		if oi >= 0 {
			ol, old = old[:oi], old[oi+1:]
			cl, cur = cur[:ci], cur[ci+1:]
		}
		if ol != cl {
			if len(changed) == fastDrawMaxLines {
				return nil, false
			}
			changed = append(changed, y)
		}
	}
	return changed, true
}

// A view's text is parsed as one string: the style (SGR) and hyperlink in
// effect at the end of a line carry into the next. A line parsed alone
// starts with neither, so fastDraw draws a line alone only when the lines
// before it leave nothing in effect (startsPlain), and only when it leaves
// nothing in effect itself, before and after the change (endsPlain), so
// that the unchanged lines after it keep the cells the renderer has.

// startsPlain reports whether nothing is in effect at the start of line y.
func startsPlain(lines []string, y int) bool {
	for i := y - 1; i >= 0; i-- {
		if strings.IndexByte(lines[i], ansi.ESC) >= 0 {
			return endsPlain(lines[i], false)
		}
	}
	return true
}

// endsPlain reports whether nothing is in effect at the end of line, given
// whether nothing was at its start. It knows SGR; any other sequence (a
// hyperlink) makes it say no.
func endsPlain(line string, plainStart bool) bool {
	plain := plainStart
	for {
		i := strings.IndexByte(line, ansi.ESC)
		if i < 0 {
			return plain
		}
		line = line[i+1:]
		if len(line) == 0 || line[0] != '[' {
			return false
		}
		j := 1
		for j < len(line) && (line[j] < 0x40 || line[j] > 0x7e) {
			j++
		}
		if j == len(line) || line[j] != 'm' {
			return false
		}
		params := line[1:j]
		plain = params == "" || params == "0"
		line = line[j+1:]
	}
}
