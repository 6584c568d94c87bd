// The emulator's state, its reset and resize, and the byte loop that feeds
// the parser. What it does per sequence is in vt_print (text), vt_esc (C0
// and ESC), vt_csi, vt_sgr, vt_osc; vt_cursor holds the cursor and screen
// operations they share.

package pty

import (
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/ansi/parser"
)

// savedCursor is what DECSC saves and DECRC restores.
type savedCursor struct {
	x, y        int
	pen         style
	pendingWrap bool
	origin      bool
	charsets    [4]byte
	gl          int
}

// vt is the terminal state machine: it turns a program's output into a
// screen. It is not safe for concurrent use; Terminal locks around it.
type vt struct {
	cols, rows int
	main, alt  *buffer
	buf        *buffer // the active one
	altActive  bool

	x, y        int
	pendingWrap bool // the last column was written: the next print wraps
	pen         style
	penID       uint16
	saved       [2]savedCursor // main, alt
	top, bot    int            // scroll region, inclusive
	tabs        []bool

	autowrap     bool
	origin       bool
	insert       bool
	newlineMode  bool // LNM: LF also returns the carriage
	cursorHidden bool
	keys         keyModes
	paste        bool      // bracketed paste, mode 2004
	mouse        MouseMode // mouse reporting the program asked for (mouse.go)
	col132       bool      // DECCOLM (mode 3): set, though the pane keeps its width
	colNoClear   bool      // DECNCSM (mode 95): DECCOLM keeps the screen

	charsets [4]byte // 0 ASCII, '0' DEC special graphics
	gl       int     // which of charsets is in GL (SI/SO)

	title    string
	lastRune rune // for REP
	oscBEL   bool // the OSC sequence being read ends with BEL, not ST

	styles     *styleTable
	clusters   []string
	clusterIDs map[string]rune
	widths     map[rune]int8

	parser *ansi.Parser
	reply  func(string) // answers to queries (DA, DSR) go to the application
}

func newVT(cols, rows, scrollback int, reply func(string)) *vt {
	v := &vt{
		cols: cols, rows: rows,
		main:       newBuffer(cols, rows, scrollback),
		alt:        newBuffer(cols, rows, 0),
		styles:     newStyleTable(),
		clusterIDs: map[string]rune{},
		widths:     map[rune]int8{},
		reply:      reply,
	}
	v.buf = v.main
	v.parser = ansi.NewParser()
	v.parser.SetParamsSize(32)
	v.parser.SetDataSize(4096)
	v.parser.SetHandler(ansi.Handler{
		Print:     v.print,
		Execute:   v.execute,
		HandleCsi: v.csi,
		HandleEsc: v.esc,
		HandleOsc: v.osc,
	})
	v.softReset()
	v.resetTabs()
	return v
}

// softReset is DECSTR: modes and pen back to power-on, screen kept.
func (v *vt) softReset() {
	v.autowrap = true
	v.origin = false
	v.insert = false
	v.cursorHidden = false
	v.keys = keyModes{}
	v.top, v.bot = 0, v.rows-1
	v.setPen(style{})
	v.charsets = [4]byte{}
	v.gl = 0
	v.saved = [2]savedCursor{}
}

func (v *vt) resetTabs() {
	v.tabs = make([]bool, v.cols)
	for i := 8; i < v.cols; i += 8 {
		v.tabs[i] = true
	}
}

func (v *vt) setPen(s style) {
	v.pen = s
	v.penID = v.styles.id(s)
}

// blank is the cell erases fill with: the current background colour (BCE,
// as xterm does), no character.
func (v *vt) blank() cell {
	if v.pen.bg == 0 {
		return cell{}
	}
	return cell{st: v.styles.id(style{bg: v.pen.bg})}
}

// write feeds program output. Runs of printable ASCII in the ground state,
// and CR/LF, skip the parser: they are nearly all of a flood.
func (v *vt) write(p []byte) {
	for i := 0; i < len(p); {
		st := v.parser.State()
		if st != parser.GroundState {
			if inSequence(st) && isC0InSequence(p[i]) {
				// A C0 control inside an escape or control sequence is
				// executed in place and the sequence goes on (DEC STD 070,
				// vttest 1's "cursor-control characters inside ESC
				// sequences"). x/ansi's parser executes it too, but it
				// overwrites the command it is collecting with the control
				// byte, so CSI 2 BS C became EL: keep such bytes from it.
				v.execute(p[i])
				i++
				continue
			}
			if st == parser.OscStringState {
				switch p[i] {
				case 0x07:
					v.oscBEL = true
				case 0x1b, 0x9c:
					v.oscBEL = false
				}
			}
		} else {
			b := p[i]
			if b >= 0x20 && b < 0x7f && v.charsets[v.gl] == 0 && !v.insert {
				j := i + 1
				for j < len(p) && p[j] >= 0x20 && p[j] < 0x7f {
					j++
				}
				v.printASCII(p[i:j])
				i = j
				continue
			}
			if b == '\n' || b == '\r' {
				v.execute(b)
				i++
				continue
			}
		}
		v.parser.Advance(p[i])
		i++
	}
}

// inSequence reports the parser states that collect an ESC or CSI
// sequence, where C0 controls are executed without ending it.
func inSequence(st parser.State) bool {
	switch st {
	case parser.EscapeState, parser.EscapeIntermediateState,
		parser.CsiEntryState, parser.CsiParamState, parser.CsiIntermediateState:
		return true
	}
	return false
}

// isC0InSequence reports the C0 controls that do not end a sequence: all
// but CAN and SUB (which cancel it) and ESC (which starts another).
func isC0InSequence(b byte) bool {
	return b < 0x20 && b != 0x18 && b != 0x1a && b != 0x1b
}

func (v *vt) fullReset() {
	v.main = newBuffer(v.cols, v.rows, v.main.maxSB)
	v.alt = newBuffer(v.cols, v.rows, 0)
	v.buf, v.altActive = v.main, false
	v.softReset()
	v.resetTabs()
	v.x, v.y, v.pendingWrap = 0, 0, false
	v.paste, v.mouse, v.newlineMode = false, MouseMode{}, false
	v.col132, v.colNoClear = false, false
	v.title = ""
}

// resize changes the screen size. Lines are not re-wrapped.
func (v *vt) resize(cols, rows int) {
	if cols == v.cols && rows == v.rows {
		return
	}
	mainY, altY := v.saved[0].y, v.rows-1
	if v.altActive {
		altY = v.y
	} else {
		mainY = v.y
	}
	mainShift := v.main.resize(cols, rows, mainY)
	altShift := v.alt.resize(cols, rows, altY)
	if v.altActive {
		v.y += altShift
		v.saved[0].y += mainShift
	} else {
		v.y += mainShift
	}
	v.cols, v.rows = cols, rows
	oldTabs := v.tabs
	v.resetTabs()
	copy(v.tabs, oldTabs)
	v.top, v.bot = 0, rows-1
	v.moveTo(v.x, v.y)
	for i := range v.saved {
		v.saved[i].x = max(0, min(v.saved[i].x, cols-1))
		v.saved[i].y = max(0, min(v.saved[i].y, rows-1))
	}
}
