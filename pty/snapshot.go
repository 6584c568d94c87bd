package pty

import (
	"bytes"
	"strconv"
	"sync"
)

// Screen is an emulator with no program behind it: the console holder
// feeds it everything the container writes, so that it can show a client
// the console's current screen (Snapshot) instead of replaying bytes that
// were drawn for another size or that a slow client could not keep up with.
// It answers no queries (the attached clients do). It is safe for
// concurrent use.
type Screen struct {
	mu sync.Mutex
	vt *vt
}

// NewScreen returns a blank screen of cols x rows keeping scrollback lines.
func NewScreen(cols, rows, scrollback int) *Screen {
	return &Screen{vt: newVT(max(cols, 1), max(rows, 1), max(scrollback, 0), func(string) {})}
}

// Write feeds program output to the screen.
func (s *Screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vt.write(p)
	return len(p), nil
}

// Resize changes the screen's size the way a pane's emulator does, so the
// two stay alike.
func (s *Screen) Resize(cols, rows int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vt.resize(max(cols, 1), max(rows, 1))
}

// Size returns the screen's size in cells.
func (s *Screen) Size() (cols, rows int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vt.cols, s.vt.rows
}

// String returns the screen as plain text, as Terminal.String does.
func (s *Screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vt.text()
}

// AppendSnapshot appends to dst the output that makes a terminal of the
// same size, whatever it showed before, show this screen: the last history
// lines of the scrollback (which scroll into the terminal's own
// scrollback), the screen itself, the alternate screen if it is up, the
// cursor, the pen, the scroll region, the modes a program set (cursor keys,
// keypad, mouse, bracketed paste, autowrap, insert, origin, newline), the
// charsets and the title.
func (s *Screen) AppendSnapshot(dst []byte, history int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := bytes.NewBuffer(dst)
	s.vt.snapshot(b, history)
	return b.Bytes()
}

// AppendLines appends the last history lines of the scrollback and the
// main screen as lines of text with their colours, joined by CRLF, blank
// lines at the end left out: the console's recent output for a reader that
// is not a terminal.
func (s *Screen) AppendLines(dst []byte, history int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.vt
	m := v.main
	history = max(0, min(history, m.sbLen()))
	first := m.sbLen() - history
	total := history + v.rows
	for total > 0 && v.lineEnd(m.sbLine(first+total-1).cellsIn(&m.unpackBuf)) == 0 {
		total--
	}
	b := bytes.NewBuffer(dst)
	for i := range total {
		if i > 0 {
			b.WriteString("\r\n")
		}
		cs := m.sbLine(first + i).cellsIn(&m.unpackBuf)
		if n := v.lineEnd(cs); n > 0 {
			v.writeCells(b, cs[:n], false)
		}
	}
	return b.Bytes()
}

// snapshot writes the redraw of v to b; see Screen.AppendSnapshot.
func (v *vt) snapshot(b *bytes.Buffer, history int) {
	// Back to a known state: the main screen, power-on modes and pen, no
	// scroll region, nothing on the screen.
	b.WriteString("\x1b[?1049l\x1b[!p\x1b[m\x1b[r\x1b[?6l\x1b[?7h\x1b[4l\x1b[20l\x1b[H\x1b[2J")
	v.snapshotLines(b, history)
	if v.altActive {
		// 1049 saves the main screen's cursor, as the program's own switch
		// did; the alternate screen is then drawn row by row.
		v.writeSaved(b, v.saved[0], v.main, "\x1b[?1049h")
		b.WriteString("\x1b[2J") // the switch cleared it in the saved pen's colour
		for y := range v.rows {
			cs := v.alt.line(y).cells
			if n := v.lineEnd(cs); n > 0 {
				b.WriteString("\x1b[" + strconv.Itoa(y+1) + "H")
				v.writeCells(b, cs[:n], true)
			}
		}
		v.writeSaved(b, v.saved[1], v.alt, "\x1b7")
	} else {
		v.writeSaved(b, v.saved[0], v.main, "\x1b7")
	}
	// Tab stops, when a program changed them.
	if !v.defaultTabs() {
		b.WriteString("\x1b[3g")
		for x, set := range v.tabs {
			if set {
				b.WriteString("\x1b[1;" + strconv.Itoa(x+1) + "H\x1bH")
			}
		}
	}
	// The scroll region and origin mode both home the cursor, so they
	// come before it.
	if v.top != 0 || v.bot != v.rows-1 {
		b.WriteString("\x1b[" + strconv.Itoa(v.top+1) + ";" + strconv.Itoa(v.bot+1) + "r")
	}
	top := 0
	if v.origin {
		b.WriteString("\x1b[?6h")
		top = v.top
	}
	// The cursor. A pending wrap (the last column was just written) is
	// recreated by writing that last cell again.
	if v.pendingWrap && v.autowrap {
		v.rewriteLast(b, v.buf.line(v.y).cells, v.y, top)
	} else {
		b.WriteString("\x1b[" + strconv.Itoa(v.y-top+1) + ";" + strconv.Itoa(v.x+1) + "H")
	}
	// Modes that change how later output draws come last, so that the
	// drawing above is not affected by them.
	if !v.autowrap {
		b.WriteString("\x1b[?7l")
	}
	if v.insert {
		b.WriteString("\x1b[4h")
	}
	if v.newlineMode {
		b.WriteString("\x1b[20h")
	}
	if v.keys.appCursor {
		b.WriteString("\x1b[?1h")
	} else {
		b.WriteString("\x1b[?1l") // for a terminal that ignores DECSTR
	}
	if v.keys.appKeypad {
		b.WriteString("\x1b=")
	} else {
		b.WriteString("\x1b>")
	}
	b.WriteString("\x1b[?9l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1005l\x1b[?1006l\x1b[?1015l\x1b[?2004l")
	if v.mouse.Tracking != MouseOff {
		b.WriteString("\x1b[?" + strconv.Itoa(v.mouse.Tracking) + "h")
	}
	for _, enc := range []struct {
		on   bool
		mode int
	}{{v.mouse.UTF8, MouseEncUTF8}, {v.mouse.SGR, MouseEncSGR}, {v.mouse.URXVT, MouseEncURXVT}} {
		if enc.on {
			b.WriteString("\x1b[?" + strconv.Itoa(enc.mode) + "h")
		}
	}
	if v.paste {
		b.WriteString("\x1b[?2004h")
	}
	v.writeCharsets(b, v.charsets, v.gl)
	if v.cursorHidden {
		b.WriteString("\x1b[?25l")
	} else {
		b.WriteString("\x1b[?25h")
	}
	if v.title != "" {
		b.WriteString("\x1b]2;" + safeTitle(v.title) + "\x1b\\")
	}
	b.WriteString(v.styles.sgrReset[v.penID])
}

// snapshotLines writes the last history lines of the main screen's
// scrollback and then the main screen, from the top of a cleared screen:
// the history scrolls into the terminal's scrollback (re-wrapped at its
// width if it is narrower), and the screen ends up where it is.
func (v *vt) snapshotLines(b *bytes.Buffer, history int) {
	m := v.main
	history = max(0, min(history, m.sbLen()))
	first := m.sbLen() - history
	total := history + v.rows
	wrappedPrev := false
	for i := range total {
		l := m.sbLine(first + i)
		cs := l.cellsIn(&m.unpackBuf)
		onScreen := i >= history
		n := v.lineEnd(cs)
		if onScreen && n > v.cols {
			n = v.cols
		}
		if i > 0 {
			// A line that wrapped into this one and is whole continues
			// without a newline, so the terminal keeps it one logical
			// line (and re-wraps it if narrower).
			if !(wrappedPrev && n > 0) {
				b.WriteString("\r\n")
			}
		}
		if n > 0 {
			v.writeCells(b, cs[:n], onScreen)
		}
		// A wrapped line is written to its end, so the next character
		// wraps as it did; into the screen only from a line exactly as
		// wide, or the screen's lines would start mid-row.
		wrappedPrev = l.wrapped && n == len(cs) && (i+1 < history || n == v.cols)
	}
}

// lineEnd returns how many cells of cs to write: trailing blank cells of
// the default style are left out.
func (v *vt) lineEnd(cs []cell) int {
	n := len(cs)
	for n > 0 && cs[n-1] == (cell{}) {
		n--
	}
	return n
}

// writeCells writes cells with their styles, from and back to the default
// style. A run of default blanks
// inside a screen line is skipped with a cursor move (the screen was
// cleared); in history lines, which may be re-wrapped, they are spaces.
func (v *vt) writeCells(b *bytes.Buffer, cs []cell, onScreen bool) {
	cur := uint16(0)
	defer func() {
		if cur != 0 {
			b.WriteString("\x1b[m")
		}
	}()
	for x := 0; x < len(cs); x++ {
		c := cs[x]
		if c.flags&wideTail != 0 {
			continue
		}
		if c == (cell{}) && onScreen && x > 0 {
			n := 1
			for x+n < len(cs) && cs[x+n] == (cell{}) {
				n++
			}
			if n > 3 {
				b.WriteString("\x1b[" + strconv.Itoa(n) + "C")
				x += n - 1
				continue
			}
		}
		if c.st != cur {
			b.WriteString(v.styles.sgrReset[c.st])
			cur = c.st
		}
		switch {
		case c.r == 0:
			b.WriteByte(' ')
		case c.flags&wideHead != 0 && (x+1 >= len(cs) || cs[x+1].flags&wideTail == 0):
			b.WriteByte(' ') // its right half was cut off
		case c.r < 0x80:
			b.WriteByte(byte(c.r))
		case c.r >= clusterBase:
			for _, r := range v.clusters[c.r-clusterBase] {
				writeRune(b, r)
			}
		default:
			writeRune(b, c.r)
		}
	}
}

// writeRune writes a character of a cell, never a control character: a
// redraw puts cells next to bytes they never stood beside, where a C1
// control could start a sequence.
func writeRune(b *bytes.Buffer, r rune) {
	if r < 0x20 || (r >= 0x7f && r < 0xa0) {
		r = '?'
	}
	b.WriteRune(r)
}

// rewriteLast writes the last cell of screen line y (of cells cs) again,
// which leaves the cursor in the last column with a wrap pending, as
// writing it did; top is the region's top in origin mode.
func (v *vt) rewriteLast(b *bytes.Buffer, cs []cell, y, top int) {
	x := v.cols - 1
	if x > 0 && x < len(cs) && cs[x].flags&wideTail != 0 {
		x--
	}
	b.WriteString("\x1b[" + strconv.Itoa(y-top+1) + ";" + strconv.Itoa(x+1) + "H")
	if x < len(cs) {
		v.writeCells(b, cs[x:min(x+2, len(cs))], false)
	}
}

// writeSaved recreates a saved cursor (DECSC): position, pen, origin mode
// and charsets, then saves it with save (DECSC, or the switch to the
// alternate screen, which saves too).
func (v *vt) writeSaved(b *bytes.Buffer, s savedCursor, buf *buffer, save string) {
	if s.pendingWrap && s.x == v.cols-1 && !s.origin {
		// Saved right after writing the last column: write it again.
		v.rewriteLast(b, buf.line(s.y).cells, s.y, 0)
	} else {
		b.WriteString("\x1b[" + strconv.Itoa(s.y+1) + ";" + strconv.Itoa(s.x+1) + "H")
	}
	b.WriteString(v.styles.sgrReset[v.styles.id(s.pen)])
	v.writeCharsets(b, s.charsets, s.gl)
	if s.origin {
		// Origin mode is part of what DECSC saves; set it just for the
		// save (it homes the cursor, so move back relative to no region).
		b.WriteString("\x1b[?6h\x1b[" + strconv.Itoa(s.y+1) + ";" + strconv.Itoa(s.x+1) + "H")
	}
	b.WriteString(save)
	if s.origin {
		b.WriteString("\x1b[?6l")
	}
	v.writeCharsets(b, [4]byte{}, 0)
	b.WriteString("\x1b[m")
}

func (v *vt) writeCharsets(b *bytes.Buffer, cs [4]byte, gl int) {
	for g, c := range cs {
		b.WriteString("\x1b" + string("()*+"[g]))
		if c == '0' {
			b.WriteByte('0')
		} else {
			b.WriteByte('B')
		}
	}
	if gl == 1 {
		b.WriteByte(0x0e) // SO
	} else {
		b.WriteByte(0x0f) // SI
	}
}

func (v *vt) defaultTabs() bool {
	for x, set := range v.tabs {
		if set != (x > 0 && x%8 == 0) {
			return false
		}
	}
	return true
}

// safeTitle drops control characters from a title before it is written
// back inside an OSC string, so a title cannot end the string early.
func safeTitle(t string) string {
	var b bytes.Buffer
	for _, r := range t {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
