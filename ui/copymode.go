package ui

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"boxtui/pty"
	"boxtui/ui/keymap"
	"boxtui/ui/styles"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// copyMode is a pane's copy mode: a copy of its scrollback and screen taken
// when it began (pty.History), with a cursor to move, searches, and a
// selection to copy to the system clipboard. As tmux's, the view does not
// move while the program writes on; leaving shows the live screen again.
type copyMode struct {
	h    *pty.History
	rows int // view height, the pane's

	top    int // first line shown
	cy, cx int // the cursor: line and column

	selecting bool
	ay, ax    int // the selection's other end

	query    string // the last search
	back     bool   // it searched toward older lines
	prompt   bool   // a search is being typed
	input    string // what has been typed
	promptUp bool

	byWheel bool   // began with the wheel: scrolling back to the bottom leaves
	note    string // one-line message ("no match", ...)

	frame    []string // the last view, and what it was drawn for
	frameKey viewKey
}

type viewKey struct {
	top, cy, cx, ay, ax int
	selecting           bool
	query               string
	prompt, promptUp    bool
	input, note         string
	cols, rows          int
	noColor             bool
}

// newCopyMode starts copy mode on h, viewed rows high, the cursor where
// the program's cursor was (screen coordinates).
func newCopyMode(h *pty.History, rows, curX, curY int) *copyMode {
	c := &copyMode{h: h, rows: max(rows, 1)}
	c.top = c.maxTop()
	c.cy = max(0, min(h.Len()-h.Rows()+curY, h.Len()-1))
	c.cx = max(0, min(curX, h.Cols()-1))
	c.clamp()
	return c
}

func (c *copyMode) maxTop() int { return max(0, c.h.Len()-c.rows) }

// offset is how many lines the view is scrolled back from the bottom.
func (c *copyMode) offset() int { return c.maxTop() - c.top }

// clamp keeps the cursor in the history and the view on the cursor.
func (c *copyMode) clamp() {
	c.cy = max(0, min(c.cy, c.h.Len()-1))
	c.cx = max(0, min(c.cx, c.h.Cols()-1))
	c.top = max(0, min(c.top, c.maxTop()))
	if c.cy < c.top {
		c.top = c.cy
	}
	if c.cy >= c.top+c.rows {
		c.top = c.cy - c.rows + 1
	}
}

// scroll moves the view n lines (negative: back), dragging the cursor along
// only as far as it must to stay in view.
func (c *copyMode) scroll(n int) {
	c.top = max(0, min(c.top+n, c.maxTop()))
	c.cy = max(c.top, min(c.cy, c.top+c.rows-1))
	c.clamp()
}

// page moves view and cursor together, as tmux's page keys do.
func (c *copyMode) page(n int) {
	c.top = max(0, min(c.top+n, c.maxTop()))
	c.cy += n
	c.clamp()
}

// pointAt puts the cursor on cell x, y of the view (a mouse press or drag).
func (c *copyMode) pointAt(x, y int) {
	c.cy, c.cx = c.top+y, x
	c.clamp()
}

// startSelection starts a selection at the cursor.
func (c *copyMode) startSelection() {
	c.selecting, c.ay, c.ax = true, c.cy, c.cx
}

// resize follows the pane's height.
func (c *copyMode) resize(rows int) {
	if rows = max(rows, 1); rows != c.rows {
		c.rows = rows
		c.clamp()
	}
}

// copyResult is what a key did to copy mode.
type copyResult struct {
	leave bool
	clip  string // text to put on the clipboard, when copied
	copy  bool
}

// key handles one key press.
func (c *copyMode) key(k keymap.CopyMode, msg tea.KeyPressMsg) copyResult {
	c.note = ""
	if c.prompt {
		c.promptKey(msg)
		return copyResult{}
	}
	switch {
	case key.Matches(msg, k.Up):
		c.cy--
	case key.Matches(msg, k.Down):
		c.cy++
	case key.Matches(msg, k.Left):
		c.cx--
	case key.Matches(msg, k.Right):
		c.cx++
	case key.Matches(msg, k.PageUp):
		c.page(-c.rows)
	case key.Matches(msg, k.PageDown):
		c.page(c.rows)
	case key.Matches(msg, k.HalfUp):
		c.page(-max(c.rows/2, 1))
	case key.Matches(msg, k.HalfDown):
		c.page(max(c.rows/2, 1))
	case key.Matches(msg, k.Top):
		c.top, c.cy, c.cx = 0, 0, 0
	case key.Matches(msg, k.Bottom):
		c.top, c.cy = c.maxTop(), c.h.Len()-1
	case key.Matches(msg, k.LineStart):
		c.cx = 0
	case key.Matches(msg, k.LineEnd):
		c.cx = lastNonBlank(c.h.Line(c.cy))
	case key.Matches(msg, k.Search):
		c.prompt, c.promptUp, c.input = true, false, ""
	case key.Matches(msg, k.SearchBack):
		c.prompt, c.promptUp, c.input = true, true, ""
	case key.Matches(msg, k.Next):
		c.findNext(c.back)
	case key.Matches(msg, k.Prev):
		c.findNext(!c.back)
	case key.Matches(msg, k.Select):
		if c.selecting {
			c.selecting = false
		} else {
			c.selecting, c.ay, c.ax = true, c.cy, c.cx
		}
	case key.Matches(msg, k.Copy):
		if !c.selecting {
			c.note = "no selection: " + k.Select.Help().Key + " starts one"
			return copyResult{}
		}
		return copyResult{leave: true, clip: c.selection(), copy: true}
	case key.Matches(msg, k.Quit):
		if msg.String() == "esc" && c.selecting {
			c.selecting = false
			return copyResult{}
		}
		return copyResult{leave: true}
	}
	c.clamp()
	return copyResult{}
}

// promptKey edits the search being typed: enter searches, esc gives up.
func (c *copyMode) promptKey(msg tea.KeyPressMsg) {
	switch msg.String() {
	case "enter":
		c.prompt = false
		if c.input != "" {
			c.query, c.back = c.input, c.promptUp
		}
		if c.query != "" {
			c.findNext(c.back)
		}
	case "esc", "ctrl+c":
		c.prompt = false
	case "backspace", "ctrl+h":
		if c.input != "" {
			_, n := utf8.DecodeLastRuneInString(c.input)
			c.input = c.input[:len(c.input)-n]
		}
	case "ctrl+u":
		c.input = ""
	default:
		if msg.Text != "" && len(c.input) < 256 {
			c.input += msg.Text
		}
	}
}

// matcher returns a function that finds q in a line: smart case, as in
// vim and tmux: a query without capitals matches either case.
func matcher(q string) func(s string) []int {
	fold := strings.ToLower(q) == q
	return func(s string) []int {
		if fold {
			s = strings.ToLower(s)
		}
		var out []int
		for i := 0; ; {
			j := strings.Index(s[i:], q)
			if j < 0 || q == "" {
				return out
			}
			out = append(out, i+j)
			i += j + max(len(q), 1)
		}
	}
}

// findNext moves the cursor to the next match of the query, toward older
// lines when up, wrapping around the history once.
func (c *copyMode) findNext(up bool) {
	if c.query == "" {
		c.note = "no search yet: / searches"
		return
	}
	find := matcher(c.query)
	n := c.h.Len()
	for step := 0; step <= n; step++ {
		y := c.cy + step
		if up {
			y = c.cy - step
		}
		y = ((y % n) + n) % n
		hits := find(c.h.Text(y))
		if len(hits) == 0 {
			continue
		}
		cols := cellStarts(c.h.Line(y))
		if up {
			for i := len(hits) - 1; i >= 0; i-- {
				x := colAt(cols, hits[i])
				if step > 0 || x < c.cx {
					c.goTo(y, x)
					return
				}
			}
			continue
		}
		for _, b := range hits {
			x := colAt(cols, b)
			if step > 0 || x > c.cx {
				c.goTo(y, x)
				return
			}
		}
	}
	c.note = fmt.Sprintf("no match for %q", c.query)
}

// goTo puts the cursor on a match, the view centred on it when it was out
// of view.
func (c *copyMode) goTo(y, x int) {
	c.cy, c.cx = y, x
	if y < c.top || y >= c.top+c.rows {
		c.top = y - c.rows/2
	}
	c.clamp()
}

// cellStarts is the byte offset in the line's text at which each cell
// starts.
func cellStarts(cells []pty.Cell) []int {
	out := make([]int, len(cells)+1)
	for i, cl := range cells {
		out[i+1] = out[i] + len(cl.Text)
	}
	return out
}

// colAt is the cell that holds byte b of the line's text.
func colAt(starts []int, b int) int {
	for x := 0; x+1 < len(starts); x++ {
		if b < starts[x+1] {
			return x
		}
	}
	return max(len(starts)-2, 0)
}

func lastNonBlank(cells []pty.Cell) int {
	for x := len(cells) - 1; x >= 0; x-- {
		if t := cells[x].Text; t != " " && t != "" {
			return x
		}
	}
	return 0
}

// selBounds returns the selection's start and end (inclusive), in order.
func (c *copyMode) selBounds() (sy, sx, ey, ex int) {
	sy, sx, ey, ex = c.ay, c.ax, c.cy, c.cx
	if sy > ey || sy == ey && sx > ex {
		sy, sx, ey, ex = ey, ex, sy, sx
	}
	return
}

func (c *copyMode) selected(y, x int) bool {
	if !c.selecting {
		return false
	}
	sy, sx, ey, ex := c.selBounds()
	if y < sy || y > ey {
		return false
	}
	return (y > sy || x >= sx) && (y < ey || x <= ex)
}

// selection is the selected text: lines joined by newlines except where a
// line wrapped, trailing blanks of each line dropped.
func (c *copyMode) selection() string {
	sy, sx, ey, ex := c.selBounds()
	var b strings.Builder
	for y := sy; y <= ey; y++ {
		cells := c.h.Line(y)
		from, to := 0, len(cells)-1
		if y == sy {
			from = sx
		}
		if y == ey {
			to = ex
		}
		var line strings.Builder
		for x := from; x <= to && x < len(cells); x++ {
			line.WriteString(cells[x].Text)
		}
		wrapped := c.h.Wrapped(y) && y < ey && to == len(cells)-1
		if wrapped {
			b.WriteString(line.String())
			continue
		}
		b.WriteString(strings.TrimRightFunc(line.String(), unicode.IsSpace))
		if y < ey {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Cell classes, from least to most important: a cell drawn with the
// program's own style, a match, the current match, selected, the cursor.
const (
	clsPlain = iota
	clsMatch
	clsCurrent
	clsSelected
	clsCursor
)

// view renders rows lines of width cols: the history where the view is,
// matches, selection and cursor marked, the position at the top right and
// the search prompt or a note at the bottom.
func (c *copyMode) view(st *styles.Styles, cols, rows int) (out []string) {
	if rows < 1 {
		return nil
	}
	orig := c
	cc := *c // View must not change the model
	c = &cc
	c.resize(rows)
	// Nothing but a key or the mouse changes what copy mode shows, and
	// View runs after every message: the last frame is kept.
	k := viewKey{c.top, c.cy, c.cx, c.ay, c.ax, c.selecting, c.query, c.prompt, c.promptUp, c.input, c.note, cols, rows, st.NoColor}
	if orig.frame != nil && orig.frameKey == k {
		return orig.frame
	}
	defer func() { orig.frame, orig.frameKey = out, k }()
	find := func(string) []int { return nil }
	if c.query != "" {
		find = matcher(c.query)
	}
	qlen := len(c.query)
	marks := newMarkStyles(st)
	out = make([]string, rows)
	for y := range rows {
		i := c.top + y
		cells := c.h.Line(i)
		cls := make([]int, len(cells))
		if i < c.h.Len() {
			starts := cellStarts(cells)
			for _, b := range find(c.h.Text(i)) {
				k := clsMatch
				x0 := colAt(starts, b)
				if i == c.cy && x0 == c.cx {
					k = clsCurrent
				}
				for x := x0; x < len(cells) && starts[x] < b+qlen; x++ {
					cls[x] = max(cls[x], k)
				}
			}
			for x := range cells {
				if c.selected(i, x) {
					cls[x] = max(cls[x], clsSelected)
				}
			}
			// The cursor shows, except at the start of the current match
			// it stands on (the match says where it is).
			if i == c.cy && c.cx < len(cls) && cls[c.cx] != clsCurrent {
				cls[c.cx] = clsCursor
			}
		}
		out[y] = renderCells(&marks, cells, cls)
	}
	info := fmt.Sprintf("[%d/%d]", c.offset(), c.maxTop())
	if len(out) > 0 && cols > len(info) {
		out[0] = overlayRight(out[0], st.CopyInfo.Render(info), cols, len(info))
	}
	switch {
	case c.prompt:
		p := "search down: "
		if c.promptUp {
			p = "search up: "
		}
		out[rows-1] = st.CopyInfo.Render(fitPlain(p+c.input+"▏", cols))
	case c.note != "":
		out[rows-1] = st.CopyInfo.Render(fitPlain(c.note, cols))
	}
	return out
}

// markStyles are the SGR sequences around a marked run of cells, taken
// from the styles once per view (lipgloss per run cost a millisecond a
// frame).
type markStyles [clsCursor + 1]struct{ pre, post string }

func newMarkStyles(st *styles.Styles) markStyles {
	var m markStyles
	for k, s := range map[int]lipgloss.Style{clsMatch: st.CopyMatch, clsCurrent: st.CopyCurrent, clsSelected: st.CopySelection, clsCursor: st.CopyCursor} {
		r := s.Render("X")
		i := strings.LastIndex(r, "X")
		m[k].pre, m[k].post = r[:i], r[i+1:]
	}
	return m
}

// renderCells draws cells with their own styles, or a copy-mode style for
// the marked ones.
func renderCells(marks *markStyles, cells []pty.Cell, cls []int) string {
	var b strings.Builder
	cur := ""
	for x := 0; x < len(cells); {
		if k := cls[x]; k != clsPlain {
			if cur != "" {
				b.WriteString("\x1b[m")
				cur = ""
			}
			b.WriteString(marks[k].pre)
			for ; x < len(cells) && cls[x] == k; x++ {
				b.WriteString(cells[x].Text)
			}
			b.WriteString(marks[k].post)
			continue
		}
		if sgr := cells[x].SGR; sgr != cur {
			b.WriteString("\x1b[m")
			b.WriteString(sgr)
			cur = sgr
		}
		b.WriteString(cells[x].Text)
		x++
	}
	if cur != "" {
		b.WriteString("\x1b[m")
	}
	return b.String()
}

// overlayRight puts tag (w columns wide) over the right end of line, a
// line cols wide.
func overlayRight(line, tag string, cols, w int) string {
	n := cols - w
	if lw := ansi.StringWidth(line); lw < n {
		line += strings.Repeat(" ", n-lw)
	}
	return ansi.Truncate(line, n, "") + "\x1b[m" + tag
}

// fitPlain pads or cuts plain text to exactly n columns.
func fitPlain(s string, n int) string {
	w := ansi.StringWidth(s)
	if w > n {
		return ansi.Truncate(s, n, "")
	}
	return s + strings.Repeat(" ", n-w)
}
