// Cursor motion, scrolling, tabs, erasing and the main/alternate screens:
// the operations the control and escape sequences are built from.

package pty

// index moves the cursor down, scrolling the region at its bottom.
func (v *vt) index() {
	switch {
	case v.y == v.bot:
		v.scrollUp(1)
	case v.y < v.rows-1:
		v.y++
	}
}

func (v *vt) reverseIndex() {
	switch {
	case v.y == v.top:
		v.buf.scrollDown(v.top, v.bot, 1, v.blank())
	case v.y > 0:
		v.y--
	}
}

// scrollUp scrolls the region up n lines. On the main screen with the
// region covering the whole screen, lines go into the scrollback.
func (v *vt) scrollUp(n int) {
	if v.top == 0 && v.bot == v.rows-1 && !v.altActive {
		blank := v.blank()
		for range min(n, v.rows) {
			v.buf.pushLine(blank)
		}
		return
	}
	v.buf.scrollUp(v.top, v.bot, n, v.blank())
}

func (v *vt) tabForward(n int) {
	for ; n > 0 && v.x < v.cols-1; n-- {
		v.x++
		for v.x < v.cols-1 && !v.tabs[v.x] {
			v.x++
		}
	}
	v.pendingWrap = false
}

func (v *vt) tabBack(n int) {
	for ; n > 0 && v.x > 0; n-- {
		v.x--
		for v.x > 0 && !v.tabs[v.x] {
			v.x--
		}
	}
	v.pendingWrap = false
}

// moveTo puts the cursor at x, y (screen coordinates), clamped.
func (v *vt) moveTo(x, y int) {
	v.x = max(0, min(x, v.cols-1))
	v.y = max(0, min(y, v.rows-1))
	v.pendingWrap = false
}

// cursorUp/Down stop at the scroll margins when they start inside them.
func (v *vt) cursorUp(n int) {
	limit := 0
	if v.y >= v.top {
		limit = v.top
	}
	v.moveTo(v.x, max(v.y-n, limit))
}

func (v *vt) cursorDown(n int) {
	limit := v.rows - 1
	if v.y <= v.bot {
		limit = v.bot
	}
	v.moveTo(v.x, min(v.y+n, limit))
}

// eraseCells blanks cells [from, to) of screen line y.
func (v *vt) eraseCells(y, from, to int) {
	l := v.buf.line(y)
	from, to = max(0, from), min(to, v.cols)
	if from >= to {
		return
	}
	v.fixWide(l, from)
	v.fixWide(l, to-1)
	fillCells(l.cells[from:to], v.blank())
	if to == v.cols {
		l.wrapped = false
	}
}

func (v *vt) insertBlanks(l *line, n int) {
	n = min(n, v.cols-v.x)
	v.fixWide(l, v.x)
	v.fixWide(l, v.cols-1-n)
	copy(l.cells[v.x+n:], l.cells[v.x:v.cols-n])
	fillCells(l.cells[v.x:v.x+n], v.blank())
}

func (v *vt) deleteChars(n int) {
	l := v.buf.line(v.y)
	n = min(n, v.cols-v.x)
	v.fixWide(l, v.x)
	v.fixWide(l, v.x+n-1)
	copy(l.cells[v.x:], l.cells[v.x+n:])
	fillCells(l.cells[v.cols-n:], v.blank())
	v.pendingWrap = false
}

func (v *vt) saveCursor() {
	v.saved[v.screenIndex()] = savedCursor{x: v.x, y: v.y, pen: v.pen, pendingWrap: v.pendingWrap, origin: v.origin, charsets: v.charsets, gl: v.gl}
}

func (v *vt) restoreCursor() {
	s := v.saved[v.screenIndex()]
	v.moveTo(s.x, s.y)
	v.pendingWrap = s.pendingWrap && s.x == v.cols-1
	v.setPen(s.pen)
	v.origin = s.origin
	v.charsets = s.charsets
	v.gl = s.gl
}

func (v *vt) screenIndex() int {
	if v.altActive {
		return 1
	}
	return 0
}

// setColumns132 is DECCOLM. A pane's width is the UI's to choose, so the
// width does not change, but the rest of what a VT100 does on the switch
// does, as tmux does too: the scroll margins are reset, the screen is
// cleared (unless DECNCSM is set) and the cursor goes home. Programs that
// switch (vttest, old installers) count on the cleared screen.
func (v *vt) setColumns132(on bool) {
	v.col132 = on
	v.top, v.bot = 0, v.rows-1
	if !v.colNoClear {
		v.eraseDisplay(2)
	}
	v.cup(0, 0)
}

// setAlt switches between the main and the alternate screen.
func (v *vt) setAlt(on, clear bool) {
	if on == v.altActive {
		if on && clear {
			v.clearAlt()
		}
		return
	}
	v.altActive = on
	if on {
		v.buf = v.alt
		if clear {
			v.clearAlt()
		}
	} else {
		v.buf = v.main
	}
}

func (v *vt) clearAlt() {
	for y := range v.rows {
		l := v.alt.line(y)
		fillCells(l.cells, v.blank())
		l.wrapped = false
	}
}
