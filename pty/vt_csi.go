// CSI sequences, the DEC private modes (CSI ? ... h/l) among them.

package pty

import (
	"strconv"

	"github.com/charmbracelet/x/ansi"
)

// param returns parameter i, or def when it is missing or 0 (for counts,
// where 0 means 1).
func param(ps ansi.Params, i, def int) int {
	n, _, _ := ps.Param(i, def)
	if n == 0 {
		return def
	}
	return n
}

func (v *vt) csi(cmd ansi.Cmd, ps ansi.Params) {
	prefix, inter, final := cmd.Prefix(), cmd.Intermediate(), cmd.Final()
	if prefix == '?' {
		v.csiPrivate(inter, final, ps)
		return
	}
	if prefix != 0 {
		if prefix == '>' && final == 'c' && inter == 0 { // secondary DA
			v.reply("\x1b[>1;10;0c")
		}
		return // XTMODKEYS (CSI > m) and the like are not SGR
	}
	n := param(ps, 0, 1)
	switch inter {
	case 0:
	case '!':
		if final == 'p' {
			v.softReset()
		}
		return
	default:
		return // DECSCUSR (CSI SP q), DECRQM without '?', ...
	}
	switch final {
	case '@':
		v.insertBlanks(v.buf.line(v.y), n)
		v.pendingWrap = false
	case 'A':
		v.cursorUp(n)
	case 'B', 'e':
		v.cursorDown(n)
	case 'C', 'a':
		v.moveTo(v.x+n, v.y)
	case 'D':
		v.moveTo(v.x-n, v.y)
	case 'E':
		v.cursorDown(n)
		v.x = 0
	case 'F':
		v.cursorUp(n)
		v.x = 0
	case 'G', '`':
		v.moveTo(n-1, v.y)
	case 'H', 'f':
		row, col := param(ps, 0, 1), param(ps, 1, 1)
		v.cup(col-1, row-1)
	case 'I':
		v.tabForward(n)
	case 'J':
		v.eraseDisplay(paramOr0(ps, 0))
	case 'K':
		switch paramOr0(ps, 0) {
		case 0:
			v.eraseCells(v.y, v.x, v.cols)
		case 1:
			v.eraseCells(v.y, 0, v.x+1)
		case 2:
			v.eraseCells(v.y, 0, v.cols)
		}
		v.pendingWrap = false
	case 'L':
		if v.y >= v.top && v.y <= v.bot {
			v.buf.scrollDown(v.y, v.bot, n, v.blank())
			v.x, v.pendingWrap = 0, false
		}
	case 'M':
		if v.y >= v.top && v.y <= v.bot {
			v.buf.scrollUp(v.y, v.bot, n, v.blank())
			v.x, v.pendingWrap = 0, false
		}
	case 'P':
		v.deleteChars(n)
	case 'S':
		v.scrollUp(n)
	case 'T':
		v.buf.scrollDown(v.top, v.bot, n, v.blank())
	case 'X':
		v.eraseCells(v.y, v.x, v.x+n)
		v.pendingWrap = false
	case 'Z':
		v.tabBack(n)
	case 'b':
		if v.lastRune != 0 {
			// More than a screenful changes nothing visible; the cap keeps
			// a few bytes from turning into minutes of work under the lock.
			for range min(n, v.cols*v.rows) {
				v.print(v.lastRune)
			}
		}
	case 'c':
		if paramOr0(ps, 0) == 0 {
			v.reply("\x1b[?62;22c") // VT220 with ANSI colour
		}
	case 'd':
		v.cup(v.x, n-1)
	case 'g':
		switch paramOr0(ps, 0) {
		case 0:
			v.tabs[v.x] = false
		case 3:
			clear(v.tabs)
		}
	case 'h', 'l':
		on := final == 'h'
		for i := range ps {
			switch ps[i].Param(0) {
			case 4:
				v.insert = on
			case 20:
				v.newlineMode = on
			}
		}
	case 'm':
		v.sgr(ps)
	case 'n':
		switch paramOr0(ps, 0) {
		case 5:
			v.reply("\x1b[0n")
		case 6:
			y := v.y
			if v.origin {
				y -= v.top
			}
			v.reply("\x1b[" + strconv.Itoa(y+1) + ";" + strconv.Itoa(v.x+1) + "R")
		}
	case 'r':
		top, bot := param(ps, 0, 1), param(ps, 1, v.rows)
		if bot > v.rows {
			bot = v.rows
		}
		if top < bot {
			v.top, v.bot = top-1, bot-1
			v.cup(0, 0)
		}
	case 's':
		v.saveCursor()
	case 'u':
		v.restoreCursor()
	case 't':
		if paramOr0(ps, 0) == 18 {
			v.reply("\x1b[8;" + strconv.Itoa(v.rows) + ";" + strconv.Itoa(v.cols) + "t")
		}
	}
}

func paramOr0(ps ansi.Params, i int) int {
	n, _, _ := ps.Param(i, 0)
	return n
}

// cup moves to column x, row y, relative to the scroll region in origin mode.
func (v *vt) cup(x, y int) {
	if v.origin {
		y = max(0, min(y+v.top, v.bot))
	}
	v.moveTo(x, y)
}

func (v *vt) eraseDisplay(mode int) {
	switch mode {
	case 0:
		v.eraseCells(v.y, v.x, v.cols)
		for y := v.y + 1; y < v.rows; y++ {
			v.eraseCells(y, 0, v.cols)
		}
	case 1:
		for y := 0; y < v.y; y++ {
			v.eraseCells(y, 0, v.cols)
		}
		v.eraseCells(v.y, 0, v.x+1)
	case 2:
		for y := range v.rows {
			v.eraseCells(y, 0, v.cols)
		}
	case 3:
		v.buf.clearScrollback()
	}
	v.pendingWrap = false
}

func (v *vt) csiPrivate(inter, final byte, ps ansi.Params) {
	switch {
	case inter == 0 && (final == 'J' || final == 'K'):
		// DECSED/DECSEL: selective erase; no cell is protected here.
		v.csi(ansi.Cmd(final), ps)
	case inter == 0 && (final == 'h' || final == 'l'):
		on := final == 'h'
		for i := range ps {
			v.setPrivateMode(ps[i].Param(0), on)
		}
	case inter == 0 && final == 'n' && paramOr0(ps, 0) == 6:
		v.reply("\x1b[?" + strconv.Itoa(v.y+1) + ";" + strconv.Itoa(v.x+1) + "R")
	case inter == '$' && final == 'p': // DECRQM: is this mode set?
		m := paramOr0(ps, 0)
		state := 0
		if set, known := v.privateMode(m); known {
			state = 2
			if set {
				state = 1
			}
		}
		v.reply("\x1b[?" + strconv.Itoa(m) + ";" + strconv.Itoa(state) + "$y")
	}
}

func (v *vt) privateMode(m int) (set, known bool) {
	switch m {
	case 1:
		return v.keys.appCursor, true
	case 3:
		return v.col132, true
	case 6:
		return v.origin, true
	case 7:
		return v.autowrap, true
	case 25:
		return !v.cursorHidden, true
	case 47, 1047, 1049:
		return v.altActive, true
	case 9, 1000, 1002, 1003, 1005, 1006, 1015:
		return v.mouse.get(m)
	case 95:
		return v.colNoClear, true
	case 2004:
		return v.paste, true
	}
	return false, false
}

func (v *vt) setPrivateMode(m int, on bool) {
	switch m {
	case 1:
		v.keys.appCursor = on
	case 3:
		v.setColumns132(on)
	case 95:
		v.colNoClear = on
	case 6:
		v.origin = on
		v.cup(0, 0)
	case 7:
		v.autowrap = on
		if !on {
			v.pendingWrap = false
		}
	case 25:
		v.cursorHidden = !on
	case 47:
		v.setAlt(on, false)
	case 1047:
		if !on && v.altActive {
			v.clearAlt()
		}
		v.setAlt(on, false)
	case 1048:
		if on {
			v.saveCursor()
		} else {
			v.restoreCursor()
		}
	case 1049:
		if on {
			v.saveCursor() // saved on the main screen's slot
			v.setAlt(true, true)
		} else {
			v.setAlt(false, false)
			v.restoreCursor()
		}
	case 9, 1000, 1002, 1003, 1005, 1006, 1015:
		v.mouse.set(m, on)
	case 2004:
		v.paste = on
	}
}
