// C0 controls (BS, HT, LF, CR, SO/SI) and ESC sequences.

package pty

import "github.com/charmbracelet/x/ansi"

func (v *vt) execute(b byte) {
	switch b {
	case ansi.BS:
		// As xterm: from a pending wrap, BS moves left of the last column.
		if v.x > 0 {
			v.x--
		}
		v.pendingWrap = false
	case ansi.HT:
		v.tabForward(1)
	case ansi.LF, ansi.VT, ansi.FF:
		if v.newlineMode {
			v.x = 0
		}
		v.pendingWrap = false
		v.index()
	case ansi.CR:
		v.x = 0
		v.pendingWrap = false
	case ansi.SO:
		v.gl = 1
	case ansi.SI:
		v.gl = 0
	}
}

func (v *vt) esc(cmd ansi.Cmd) {
	switch inter, final := cmd.Intermediate(), cmd.Final(); inter {
	case 0:
		switch final {
		case '7':
			v.saveCursor()
		case '8':
			v.restoreCursor()
		case 'D':
			v.pendingWrap = false
			v.index()
		case 'E':
			v.x = 0
			v.pendingWrap = false
			v.index()
		case 'H':
			v.tabs[v.x] = true
		case 'M':
			v.pendingWrap = false
			v.reverseIndex()
		case 'c':
			v.fullReset()
		case '=':
			v.keys.appKeypad = true
		case '>':
			v.keys.appKeypad = false
		}
	case '(', ')', '*', '+':
		g := int(inter - '(')
		if final == '0' {
			v.charsets[g] = '0'
		} else {
			v.charsets[g] = 0
		}
	case '#':
		if final == '8' { // DECALN: fill the screen with E (vttest uses it)
			v.top, v.bot = 0, v.rows-1
			for y := range v.rows {
				l := v.buf.line(y)
				fillCells(l.cells, cell{r: 'E'})
				l.wrapped = false
			}
			v.moveTo(0, 0)
		}
	}
}
