package pty

import "strings"

// render writes the screen as rows lines of exactly cols cells, joined by
// "\n". A line switches styles with SGR sequences cached per style and
// ends with a reset only when it changed the style.
func (v *vt) render(b *strings.Builder) {
	v.renderScrolled(b, 0)
}

// renderScrolled renders the view offset lines back into the scrollback
// (0 is the live screen), clamped to what the scrollback holds.
func (v *vt) renderScrolled(b *strings.Builder, offset int) {
	offset = max(0, min(offset, v.buf.sbLen()))
	b.Grow(v.rows * (v.cols + 8))
	first := v.buf.sbLen() - offset
	for y := range v.rows {
		if y > 0 {
			b.WriteByte('\n')
		}
		v.renderLine(b, v.buf.sbLine(first+y).cellsIn(&v.buf.unpackBuf))
	}
}

func (v *vt) renderLine(b *strings.Builder, cs []cell) {
	var cur uint16
	for x := range v.cols {
		c := cell{}
		if x < len(cs) {
			c = cs[x]
		}
		if c.flags&wideTail != 0 {
			continue
		}
		if c.st != cur {
			if cur == 0 {
				b.WriteString(v.styles.sgr[c.st])
			} else {
				b.WriteString(v.styles.sgrReset[c.st])
			}
			cur = c.st
		}
		switch {
		case c.r == 0:
			b.WriteByte(' ')
		case c.flags&wideHead != 0 && (x+1 >= v.cols || x+1 >= len(cs)):
			b.WriteByte(' ') // the right half is cut off
		case c.r < 0x80:
			b.WriteByte(byte(c.r))
		case c.r >= clusterBase:
			b.WriteString(v.clusters[c.r-clusterBase])
		default:
			b.WriteRune(c.r)
		}
	}
	if cur != 0 {
		b.WriteString("\x1b[m")
	}
}

// text returns the screen as plain text, trailing blanks trimmed per line
// and trailing empty lines dropped: what tests compare.
func (v *vt) text() string {
	lines := make([]string, v.rows)
	for y := range v.rows {
		var b strings.Builder
		for _, c := range v.buf.line(y).cells {
			if c.flags&wideTail != 0 {
				continue
			}
			b.WriteString(v.cellText(c))
		}
		lines[y] = strings.TrimRight(b.String(), " ")
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}
