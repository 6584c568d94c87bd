package pty

import (
	"strconv"
	"strings"
)

// A cell is 8 bytes: a flood of output moves and clears millions of them,
// and x/vt's ~112-byte cells (a string, colour interfaces, a link) made
// both the copying and the memory the bottleneck.
type cell struct {
	r     rune   // 0 is a blank; >= clusterBase indexes the cluster table
	st    uint16 // interned style id; 0 is the default style
	flags uint8  // wideHead or wideTail
	_     uint8
}

const (
	wideHead = 1 << iota // first half of a two-column character
	wideTail             // second half: draws nothing
)

// clusterBase marks runes that are indexes into the cluster table: a base
// character with combining marks that does not fit in one rune.
const clusterBase = 0x40000000

// colour is a packed colour: 0 is the terminal default, colourIndexed|n is
// palette entry n, colourRGB|rrggbb is a truecolour.
type colour uint32

const (
	colourIndexed colour = 1 << 24
	colourRGB     colour = 2 << 24
)

// Attributes of a style.
const (
	attrBold uint16 = 1 << iota
	attrFaint
	attrItalic
	attrBlink
	attrReverse
	attrConceal
	attrStrike
	attrUnderline // underline kind in attrULShift bits
)

// attrOverline (SGR 53) sits above the underline kind's bits.
const attrOverline uint16 = 1 << 11

const (
	attrULShift = 8 // 3 bits: 1 single, 2 double, 3 curly, 4 dotted, 5 dashed
	attrULMask  = 7 << attrULShift
)

// style is what SGR sets. Styles are interned: cells hold a 16-bit id.
type style struct {
	fg, bg, ul colour
	attrs      uint16
}

// styleTable interns styles and caches their SGR sequences.
type styleTable struct {
	list []style
	// sgr[id] switches from the default style to id; sgrReset[id] from any
	// other style (it starts with a reset).
	sgr, sgrReset []string
	ids           map[style]uint16
}

func newStyleTable() *styleTable {
	return &styleTable{
		list:     []style{{}},
		sgr:      []string{"\x1b[m"},
		sgrReset: []string{"\x1b[m"},
		ids:      map[style]uint16{{}: 0},
	}
}

// id returns the id of s, interning it. The table is capped at 65,536
// styles; past that, new styles fall back to the default (no program uses
// that many at once; the cap keeps memory bounded).
func (t *styleTable) id(s style) uint16 {
	if id, ok := t.ids[s]; ok {
		return id
	}
	if len(t.list) > 0xffff {
		return 0
	}
	id := uint16(len(t.list))
	t.list = append(t.list, s)
	p := s.sgrParams()
	t.sgr = append(t.sgr, "\x1b["+p+"m")
	t.sgrReset = append(t.sgrReset, "\x1b[0;"+p+"m")
	t.ids[s] = id
	return id
}

// sgrParams returns the SGR parameters that set s from the default style.
func (s style) sgrParams() string {
	var p []string
	a := s.attrs
	for _, x := range []struct {
		bit uint16
		p   string
	}{{attrBold, "1"}, {attrFaint, "2"}, {attrItalic, "3"}, {attrBlink, "5"}, {attrReverse, "7"}, {attrConceal, "8"}, {attrStrike, "9"}} {
		if a&x.bit != 0 {
			p = append(p, x.p)
		}
	}
	switch (a & attrULMask) >> attrULShift {
	case 0:
	case 1:
		p = append(p, "4")
	default:
		p = append(p, "4:"+strconv.Itoa(int((a&attrULMask)>>attrULShift)))
	}
	if a&attrOverline != 0 {
		p = append(p, "53")
	}
	if c := s.fg.sgr(30, 90, "38"); c != "" {
		p = append(p, c)
	}
	if c := s.bg.sgr(40, 100, "48"); c != "" {
		p = append(p, c)
	}
	if s.ul != 0 {
		if s.ul&colourRGB != 0 {
			p = append(p, "58;2;"+rgbParams(s.ul))
		} else {
			p = append(p, "58;5;"+strconv.Itoa(int(s.ul&0xff)))
		}
	}
	return strings.Join(p, ";")
}

// sgr returns the SGR parameter for the colour: base+n / bright+n-8 for the
// 16 ANSI colours, as programs wrote them, else the extended form.
func (c colour) sgr(base, bright int, ext string) string {
	switch {
	case c == 0:
		return ""
	case c&colourRGB != 0:
		return ext + ";2;" + rgbParams(c)
	case c&0xff < 8:
		return strconv.Itoa(base + int(c&0xff))
	case c&0xff < 16:
		return strconv.Itoa(bright + int(c&0xff) - 8)
	default:
		return ext + ";5;" + strconv.Itoa(int(c&0xff))
	}
}

func rgbParams(c colour) string {
	return strconv.Itoa(int(c>>16&0xff)) + ";" + strconv.Itoa(int(c>>8&0xff)) + ";" + strconv.Itoa(int(c&0xff))
}

// line is one row of cells. wrapped says the text continues on the next
// line because of autowrap (not a newline).
//
// A scrollback line of plain ASCII text in the default style (most of a
// log or a cat) is kept, once compacted, as that text: one byte a cell
// instead of eight. Its cells are then nil; cellsIn reads either form.
// Only scrollback lines are ever packed, and a line that comes back to the
// screen is unpacked first: the emulator writes only full cells.
type line struct {
	cells   []cell
	text    string // the packed line, when cells is nil
	wrapped bool
}

// cellsIn returns the line's cells: its own, or a packed line's text
// decoded into scratch (reused; valid until the next call with it).
func (l *line) cellsIn(scratch *[]cell) []cell {
	if l.text == "" {
		return l.cells
	}
	cs := (*scratch)[:0]
	for i := range len(l.text) {
		cs = append(cs, cell{r: rune(l.text[i])})
	}
	*scratch = cs
	return cs
}

// unpack gives a packed line its cells back.
func (l *line) unpack() {
	if l.text == "" {
		return
	}
	var cs []cell
	l.cells = append([]cell(nil), l.cellsIn(&cs)...)
	l.text = ""
}

// packable reports whether cs is plain ASCII in the default style, which
// a packed line can hold.
func packable(cs []cell) bool {
	for _, c := range cs {
		if c.r >= 0x80 || c.r < 0 || c.st != 0 || c.flags != 0 {
			return false
		}
	}
	return true
}

// buffer is a screen and its scrollback in one ring of lines: the screen is
// the last rows lines, everything before it is scrollback. Scrolling the
// whole screen up rotates the ring (the oldest line is cleared and becomes
// the new bottom line), so no cell is copied and, once the ring is full,
// nothing is allocated.
type buffer struct {
	lines []line // ring; grows until rows+maxSB, then wraps
	head  int    // index of the oldest line
	rows  int
	cols  int
	maxSB int

	scratch   []line // reused by scrollUp/scrollDown
	unpackBuf []cell // reused by readers of packed lines (cellsIn)
}

func newBuffer(cols, rows, scrollback int) *buffer {
	b := &buffer{rows: rows, cols: cols, maxSB: scrollback}
	b.lines = make([]line, rows, rows+min(scrollback, 64))
	for i := range b.lines {
		b.lines[i].cells = make([]cell, cols)
	}
	return b
}

// line returns screen line y (0 is the top of the screen).
func (b *buffer) line(y int) *line {
	return &b.lines[(b.head+len(b.lines)-b.rows+y)%len(b.lines)]
}

// sbLen returns how many scrollback lines there are.
func (b *buffer) sbLen() int { return len(b.lines) - b.rows }

// sbLine returns line i of the whole ring, 0 being the oldest scrollback
// line; sbLine(sbLen()) is the top of the screen.
func (b *buffer) sbLine(i int) *line {
	return &b.lines[(b.head+i)%len(b.lines)]
}

// pushLine scrolls the whole screen up one line: the top line becomes the
// newest scrollback line and a blank line appears at the bottom.
func (b *buffer) pushLine(blank cell) {
	if len(b.lines) < b.rows+b.maxSB {
		// Still growing: head is 0 and the ring is in order.
		b.lines = append(b.lines, line{cells: make([]cell, b.cols)})
		fillCells(b.lines[len(b.lines)-1].cells, blank)
		return
	}
	l := &b.lines[b.head]
	l.text = ""
	if cap(l.cells) >= b.cols {
		l.cells = l.cells[:b.cols]
	} else {
		l.cells = make([]cell, b.cols) // a compacted scrollback line
	}
	fillCells(l.cells, blank)
	l.wrapped = false
	b.head = (b.head + 1) % len(b.lines)
}

// compact trims every scrollback line to its cells up to the last
// non-blank one (a log line is rarely as wide as the pane), so a
// scrollback line may hold fewer cells than the width: the rest are blank;
// a line of plain text is packed to that text (see line). It runs once
// output has stopped, not as lines scroll: a flood scrolls full-width
// lines without copying them, and what it leaves behind is trimmed
// afterwards.
func (b *buffer) compact() {
	var text []byte
	for i := range b.sbLen() {
		l := b.sbLine(i)
		if l.text != "" {
			continue // packed already
		}
		n := textLen(l.cells)
		if n == 0 {
			l.cells = nil
			continue
		}
		if packable(l.cells[:n]) {
			text = text[:0]
			for _, c := range l.cells[:n] {
				text = append(text, byte(c.r))
			}
			l.text, l.cells = string(text), nil
			continue
		}
		if cap(l.cells)-n < 8 {
			continue // not worth a copy
		}
		l.cells = append([]cell(nil), l.cells[:n]...)
	}
}

// textLen returns the length of cs without its blank tail.
func textLen(cs []cell) int {
	n := len(cs)
	for n > 0 && cs[n-1] == (cell{}) {
		n--
	}
	return n
}

// scrollUp moves lines top+n..bot up by n within the region, blanking the
// n lines at its bottom. Only line headers move, each once.
func (b *buffer) scrollUp(top, bot, n int, blank cell) {
	n = min(n, bot-top+1)
	if n <= 0 {
		return
	}
	out := b.take(top, n)
	for y := top; y <= bot-n; y++ {
		*b.line(y) = *b.line(y + n)
	}
	b.put(out, bot-n+1, blank)
}

// scrollDown moves lines top..bot-n down by n, blanking n lines at top.
func (b *buffer) scrollDown(top, bot, n int, blank cell) {
	n = min(n, bot-top+1)
	if n <= 0 {
		return
	}
	out := b.take(bot-n+1, n)
	for y := bot; y >= top+n; y-- {
		*b.line(y) = *b.line(y - n)
	}
	b.put(out, top, blank)
}

// take copies the headers of n lines from y into the scratch slice.
func (b *buffer) take(y, n int) []line {
	b.scratch = b.scratch[:0]
	for i := range n {
		b.scratch = append(b.scratch, *b.line(y + i))
	}
	return b.scratch
}

// put stores lines, blanked, as the lines from y on.
func (b *buffer) put(ls []line, y int, blank cell) {
	for i, l := range ls {
		fillCells(l.cells, blank)
		l.wrapped = false
		*b.line(y + i) = l
	}
}

// clearScrollback drops all scrollback lines.
func (b *buffer) clearScrollback() {
	screen := make([]line, b.rows, b.rows+min(b.maxSB, 64))
	for y := range b.rows {
		screen[y] = *b.line(y)
	}
	b.lines, b.head = screen, 0
}

// resize changes the buffer to cols x rows. Shrinking drops blank lines
// below keepY first, then moves top lines into the scrollback; growing
// pulls lines back from the scrollback before adding blank ones, as xterm
// does. It returns how far the content moved down (negative: up), so the
// caller can move the cursor with it.
func (b *buffer) resize(cols, rows, keepY int) (shift int) {
	// Put the ring in order.
	lines := make([]line, 0, len(b.lines))
	for i := range b.lines {
		lines = append(lines, b.lines[(b.head+i)%len(b.lines)])
	}
	b.head = 0
	if rows < b.rows {
		// Drop blank lines from the bottom, below keepY.
		drop := b.rows - rows
		for drop > 0 && keepY < b.rows-1 && blankLine(lines[len(lines)-1].cells) {
			lines = lines[:len(lines)-1]
			b.rows--
			drop--
		}
		shift = -drop // the rest scroll off the top
	} else if rows > b.rows {
		pull := min(rows-b.rows, len(lines)-b.rows)
		shift = pull
		for range rows - b.rows - pull {
			lines = append(lines, line{cells: make([]cell, cols)})
		}
	}
	b.rows = rows
	// Cap the scrollback.
	if over := len(lines) - (rows + b.maxSB); over > 0 {
		lines = lines[over:]
	}
	if len(lines) < rows {
		pad := make([]line, rows-len(lines))
		for i := range pad {
			pad[i].cells = make([]cell, cols)
		}
		lines = append(pad, lines...)
	}
	b.lines = lines
	b.cols = cols
	// Screen lines are always full width; lines pulled back from the
	// scrollback may be trimmed or packed.
	for y := range rows {
		b.line(y).unpack()
		if l := b.line(y); len(l.cells) != cols {
			l.cells = resizeCells(l.cells, cols)
		}
	}
	return shift
}

// resizeCells returns cs with exactly n cells, padding with blanks and
// cutting a wide character that would straddle the new edge.
func resizeCells(cs []cell, n int) []cell {
	if n <= cap(cs) {
		old := len(cs)
		cs = cs[:n]
		for i := old; i < n; i++ {
			cs[i] = cell{}
		}
	} else {
		ncs := make([]cell, n)
		copy(ncs, cs)
		cs = ncs
	}
	if n > 0 && cs[n-1].flags&wideHead != 0 {
		cs[n-1] = cell{st: cs[n-1].st}
	}
	return cs
}

func blankLine(cs []cell) bool {
	for _, c := range cs {
		if c.r != 0 || c.st != 0 {
			return false
		}
	}
	return true
}

func fillCells(cs []cell, c cell) {
	if c == (cell{}) {
		clear(cs)
		return
	}
	if len(cs) == 0 {
		return
	}
	cs[0] = c
	for i := 1; i < len(cs); i *= 2 {
		copy(cs[i:], cs[:i])
	}
}
