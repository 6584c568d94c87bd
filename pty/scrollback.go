package pty

import "strings"

// History is a copy of a terminal's scrollback and screen, taken at one
// instant by Terminal.History: what copy mode reads and searches while the
// program goes on writing into the live buffer. Like tmux's copy mode, it
// does not move under the reader.
//
// This file is the only reader of the emulator's line storage for
// scrollback (buffer.sbLen, buffer.sbLine, the cell layout): a change of
// how lines are stored only has to change copyHistory.
type History struct {
	lines    []histLine
	sgr      []string // style id -> SGR from the default style
	clusters []string
	cols     int
	rows     int
}

type histLine struct {
	cells   []cell
	wrapped bool
}

// Cell is one cell of a history line.
type Cell struct {
	// Text is what the cell draws: " " for a blank, "" for the right half
	// of a wide character (its left half draws both columns).
	Text string
	// SGR switches from the default style to the cell's; "" is the default.
	SGR string
}

// History copies the scrollback and the screen (of the active buffer: the
// alternate screen has no scrollback).
func (t *Terminal) History() *History {
	t.mu.Lock()
	defer t.mu.Unlock()
	return copyHistory(t.vt)
}

func copyHistory(v *vt) *History {
	b := v.buf
	n := b.sbLen() + v.rows
	h := &History{lines: make([]histLine, n), cols: v.cols, rows: v.rows}
	// One allocation for every cell: a 1,000-line scrollback of 120
	// columns is about 1 MB.
	all := make([]cell, 0, n*v.cols)
	for i := range n {
		l := b.sbLine(i)
		start := len(all)
		cs := l.cellsIn(&b.unpackBuf)
		all = append(all, cs[:min(len(cs), v.cols)]...)
		h.lines[i] = histLine{cells: all[start:len(all):len(all)], wrapped: l.wrapped}
	}
	// The style and cluster tables only grow and never change an entry,
	// so their current headers stay valid after the lock is released.
	h.sgr = v.styles.sgr[:len(v.styles.sgr):len(v.styles.sgr)]
	h.clusters = v.clusters[:len(v.clusters):len(v.clusters)]
	return h
}

// Len is the number of lines: the scrollback, oldest first, then the
// screen's Rows lines.
func (h *History) Len() int { return len(h.lines) }

// Rows is the height of the screen the copy was taken of.
func (h *History) Rows() int { return h.rows }

// Cols is the width of every line.
func (h *History) Cols() int { return h.cols }

// Wrapped says line i continues on line i+1 because it wrapped (no newline
// was written).
func (h *History) Wrapped(i int) bool {
	return i >= 0 && i < len(h.lines) && h.lines[i].wrapped
}

// Line returns exactly Cols cells of line i (blanks past a short line, or
// for an i out of range).
func (h *History) Line(i int) []Cell {
	out := make([]Cell, h.cols)
	var cs []cell
	if i >= 0 && i < len(h.lines) {
		cs = h.lines[i].cells
	}
	for x := range out {
		c := cell{}
		if x < len(cs) {
			c = cs[x]
		}
		out[x] = Cell{Text: h.cellText(c, x, cs), SGR: h.style(c.st)}
	}
	return out
}

// Text returns line i as plain text, one cell after the other as Line
// returns them (trailing blanks kept, so byte offsets map to cells).
func (h *History) Text(i int) string {
	if i < 0 || i >= len(h.lines) {
		return strings.Repeat(" ", h.cols)
	}
	cs := h.lines[i].cells
	var b strings.Builder
	b.Grow(h.cols)
	for x := range h.cols {
		c := cell{}
		if x < len(cs) {
			c = cs[x]
		}
		b.WriteString(h.cellText(c, x, cs))
	}
	return b.String()
}

func (h *History) cellText(c cell, x int, cs []cell) string {
	switch {
	case c.flags&wideTail != 0:
		return ""
	case c.r == 0:
		return " "
	case c.flags&wideHead != 0 && (x+1 >= h.cols || x+1 >= len(cs)):
		return " " // the right half is cut off
	case c.r < 0x80:
		return asciiStrings[c.r]
	case c.r >= clusterBase:
		if i := int(c.r - clusterBase); i < len(h.clusters) {
			return h.clusters[i]
		}
		return " "
	}
	return string(c.r)
}

func (h *History) style(id uint16) string {
	if id == 0 || int(id) >= len(h.sgr) {
		return ""
	}
	return h.sgr[id]
}

// asciiStrings holds a string per ASCII character, so Line and Text do not
// allocate one per cell.
var asciiStrings = func() (t [0x80]string) {
	for i := range t {
		t[i] = string(rune(i))
	}
	return t
}()
