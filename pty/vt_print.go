// Printing: characters onto the screen (wide, combining, DEC graphics, wrap).

package pty

import (
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// fixWide blanks the other half of a wide character at x on l, which is
// about to be overwritten, so no half character is left behind.
func (v *vt) fixWide(l *line, x int) {
	if x < 0 || x >= len(l.cells) {
		return
	}
	c := l.cells[x]
	if c.flags&wideTail != 0 && x > 0 {
		l.cells[x-1] = cell{st: l.cells[x-1].st}
	}
	if c.flags&wideHead != 0 && x+1 < len(l.cells) {
		l.cells[x+1] = cell{st: l.cells[x+1].st}
	}
}

func (v *vt) printASCII(s []byte) {
	for len(s) > 0 {
		if v.pendingWrap {
			v.wrap()
		}
		l := v.buf.line(v.y)
		n := min(len(s), v.cols-v.x)
		if !v.autowrap && n < len(s) {
			// Without autowrap the rest overwrites the last column.
			n = v.cols - v.x
			if n == 0 {
				n = 1
			}
		}
		v.fixWide(l, v.x)
		v.fixWide(l, v.x+n-1)
		cs := l.cells[v.x : v.x+n]
		for i := range cs {
			cs[i] = cell{r: rune(s[i]), st: v.penID}
		}
		v.lastRune = rune(s[n-1])
		if !v.autowrap && n < len(s) {
			cs[n-1].r = rune(s[len(s)-1])
			v.lastRune = cs[n-1].r
			s = s[len(s):]
		} else {
			s = s[n:]
		}
		v.x += n
		if v.x >= v.cols {
			v.x = v.cols - 1
			v.pendingWrap = v.autowrap
		}
	}
}

// wrap moves to the start of the next line, marking the line wrapped.
func (v *vt) wrap() {
	v.buf.line(v.y).wrapped = true
	v.pendingWrap = false
	v.x = 0
	v.index()
}

// decGraphics maps DEC special graphics (ESC ( 0) to Unicode line drawing.
var decGraphics = map[rune]rune{
	'`': '◆', 'a': '▒', 'b': '␉', 'c': '␌', 'd': '␍', 'e': '␊', 'f': '°', 'g': '±',
	'h': '␤', 'i': '␋', 'j': '┘', 'k': '┐', 'l': '┌', 'm': '└', 'n': '┼', 'o': '⎺',
	'p': '⎻', 'q': '─', 'r': '⎼', 's': '⎽', 't': '├', 'u': '┤', 'v': '┴', 'w': '┬',
	'x': '│', 'y': '≤', 'z': '≥', '{': 'π', '|': '≠', '}': '£', '~': '·',
}

func (v *vt) runeWidth(r rune) int {
	if r < 0x7f {
		return 1
	}
	if w, ok := v.widths[r]; ok {
		return int(w)
	}
	var b [utf8.UTFMax]byte
	n := utf8.EncodeRune(b[:], r)
	w := ansi.StringWidthWc(string(b[:n]))
	if len(v.widths) < 4096 {
		v.widths[r] = int8(w)
	}
	return w
}

func (v *vt) print(r rune) {
	if v.charsets[v.gl] == '0' {
		if g, ok := decGraphics[r]; ok {
			r = g
		}
	}
	w := v.runeWidth(r)
	if w == 0 {
		v.combine(r)
		return
	}
	if v.pendingWrap {
		v.wrap()
	}
	l := v.buf.line(v.y)
	if w == 2 && v.x == v.cols-1 {
		if !v.autowrap || v.cols < 2 {
			return // no room, as xterm drops it
		}
		v.fixWide(l, v.x)
		l.cells[v.x] = v.blank()
		v.wrap()
		l = v.buf.line(v.y)
	}
	if v.insert {
		v.insertBlanks(l, w)
	}
	v.fixWide(l, v.x)
	if w == 2 {
		v.fixWide(l, v.x+1)
		l.cells[v.x] = cell{r: r, st: v.penID, flags: wideHead}
		l.cells[v.x+1] = cell{st: v.penID, flags: wideTail}
	} else {
		l.cells[v.x] = cell{r: r, st: v.penID}
	}
	v.lastRune = r
	v.x += w
	if v.x >= v.cols {
		v.x = v.cols - 1
		v.pendingWrap = v.autowrap
	}
}

// combine attaches a zero-width rune (a combining mark, ZWJ, a variation
// selector) to the character before the cursor.
func (v *vt) combine(r rune) {
	x := v.x - 1
	if v.pendingWrap {
		x = v.x
	}
	l := v.buf.line(v.y)
	if x < 0 || x >= len(l.cells) {
		return
	}
	if l.cells[x].flags&wideTail != 0 && x > 0 {
		x--
	}
	c := &l.cells[x]
	if c.r == 0 {
		return
	}
	s := v.cellText(*c) + string(r)
	id, ok := v.clusterIDs[s]
	if !ok {
		if len(v.clusters) >= 4096 {
			return // bounded: past this, marks are dropped
		}
		id = clusterBase + rune(len(v.clusters))
		v.clusters = append(v.clusters, s)
		v.clusterIDs[s] = id
	}
	c.r = id
}

// cellText returns what a cell draws.
func (v *vt) cellText(c cell) string {
	switch {
	case c.r == 0:
		return " "
	case c.r >= clusterBase:
		return v.clusters[c.r-clusterBase]
	default:
		return string(c.r)
	}
}
