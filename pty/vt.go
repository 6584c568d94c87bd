package pty

import (
	"strconv"
	"strings"
	"unicode/utf8"

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

// sgr applies Select Graphic Rendition parameters to the pen.
func (v *vt) sgr(ps ansi.Params) {
	s := v.pen
	if len(ps) == 0 {
		s = style{}
	}
	for i := 0; i < len(ps); i++ {
		p := ps[i].Param(0)
		switch {
		case p == 0:
			s = style{}
		case p == 1:
			s.attrs |= attrBold
		case p == 2:
			s.attrs |= attrFaint
		case p == 3:
			s.attrs |= attrItalic
		case p == 4:
			kind := uint16(1)
			if ps[i].HasMore() && i+1 < len(ps) {
				i++
				kind = uint16(min(ps[i].Param(1), 5))
			}
			s.attrs &^= attrULMask
			s.attrs |= kind << attrULShift
		case p == 5 || p == 6:
			s.attrs |= attrBlink
		case p == 7:
			s.attrs |= attrReverse
		case p == 8:
			s.attrs |= attrConceal
		case p == 9:
			s.attrs |= attrStrike
		case p == 21:
			s.attrs = s.attrs&^attrULMask | 2<<attrULShift
		case p == 22:
			s.attrs &^= attrBold | attrFaint
		case p == 23:
			s.attrs &^= attrItalic
		case p == 24:
			s.attrs &^= attrULMask
		case p == 25:
			s.attrs &^= attrBlink
		case p == 27:
			s.attrs &^= attrReverse
		case p == 28:
			s.attrs &^= attrConceal
		case p == 29:
			s.attrs &^= attrStrike
		case p == 53:
			s.attrs |= attrOverline
		case p == 55:
			s.attrs &^= attrOverline
		case p >= 30 && p <= 37:
			s.fg = colourIndexed | colour(p-30)
		case p == 38, p == 48, p == 58:
			var c colour
			c, i = extColour(ps, i)
			switch p {
			case 38:
				s.fg = c
			case 48:
				s.bg = c
			default:
				s.ul = c
			}
		case p == 39:
			s.fg = 0
		case p >= 40 && p <= 47:
			s.bg = colourIndexed | colour(p-40)
		case p == 49:
			s.bg = 0
		case p == 59:
			s.ul = 0
		case p >= 90 && p <= 97:
			s.fg = colourIndexed | colour(p-90+8)
		case p >= 100 && p <= 107:
			s.bg = colourIndexed | colour(p-100+8)
		}
	}
	if s != v.pen {
		v.setPen(s)
	}
}

// extColour parses 38;5;n / 38;2;r;g;b and their colon forms (38:5:n,
// 38:2::r:g:b) starting at ps[i]; it returns the colour and the index of
// the last parameter it used.
func extColour(ps ansi.Params, i int) (colour, int) {
	if ps[i].HasMore() {
		// Colon form: the sub-parameters belong to this one parameter.
		sub := []int{}
		j := i + 1
		for ; j < len(ps); j++ {
			sub = append(sub, ps[j].Param(-1))
			if !ps[j].HasMore() {
				break
			}
		}
		if len(sub) >= 2 && sub[0] == 5 {
			return colourIndexed | colour(max(sub[1], 0)&0xff), j
		}
		if len(sub) >= 4 && sub[0] == 2 {
			rgb := sub[len(sub)-3:]
			return rgbColour(rgb[0], rgb[1], rgb[2]), j
		}
		return 0, j
	}
	if i+1 >= len(ps) {
		return 0, i
	}
	switch ps[i+1].Param(0) {
	case 5:
		if i+2 < len(ps) {
			return colourIndexed | colour(ps[i+2].Param(0)&0xff), i + 2
		}
	case 2:
		if i+4 < len(ps) {
			return rgbColour(ps[i+2].Param(0), ps[i+3].Param(0), ps[i+4].Param(0)), i + 4
		}
	}
	return 0, len(ps)
}

func rgbColour(r, g, b int) colour {
	return colourRGB | colour(max(r, 0)&0xff)<<16 | colour(max(g, 0)&0xff)<<8 | colour(max(b, 0)&0xff)
}

func (v *vt) osc(cmd int, data []byte) {
	// data is "cmd;payload".
	payload := data
	for i, b := range data {
		if b == ';' {
			payload = data[i+1:]
			break
		}
	}
	switch cmd {
	case 0, 2:
		v.title = string(payload)
	case 10, 11, 12:
		// OSC 10;?;? asks for 10 and 11: each part is the next colour.
		for i, part := range strings.Split(string(payload), ";") {
			c := cmd + i
			if c > 12 {
				break
			}
			if part == "?" {
				v.reply("\x1b]" + strconv.Itoa(c) + ";" + xtermRGB(queryColour(c)) + v.oscEnd())
			}
		}
	}
}

// oscEnd returns the terminator of the OSC sequence being handled: xterm
// answers with the one the query used.
func (v *vt) oscEnd() string {
	if v.oscBEL {
		return "\a"
	}
	return "\x1b\\"
}

// xtermRGB writes a 24-bit colour as xterm's colour replies do, 16 bits
// a channel: rgb:RRRR/GGGG/BBBB.
func xtermRGB(c uint32) string {
	const hex = "0123456789abcdef"
	b := []byte("rgb:0000/0000/0000")
	for i, shift := range []uint{16, 8, 0} {
		x := byte(c >> shift)
		at := 4 + i*5
		b[at], b[at+1], b[at+2], b[at+3] = hex[x>>4], hex[x&15], hex[x>>4], hex[x&15]
	}
	return string(b)
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
