// Package table renders a fixed-size table of styled cells with an optional
// highlighted row. Unlike the bubbles table it styles each cell on its own
// (the namespace view colours every inode) and keeps no state: the caller
// owns the cursor, so selection can follow a container across refreshes.
package table

import (
	"fmt"
	"strings"

	"boxtui/internal/termsafe"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Column is one column: a fixed width, or Flex to take what is left.
type Column struct {
	Title string
	Width int
	Flex  bool
	Right bool // right-align (numbers)
}

// Cell is one cell; Style nil means the table's plain cell style.
type Cell struct {
	Text  string
	Style *lipgloss.Style
}

// Styles are the styles a table renders with.
type Styles struct {
	Header   lipgloss.Style
	Cell     lipgloss.Style
	Selected lipgloss.Style
}

// Table is what to draw. Cursor < 0 highlights nothing.
type Table struct {
	Columns []Column
	Rows    [][]Cell
	Width   int
	Height  int // lines including the header
	Cursor  int
	Styles  Styles
	// ShowPosition ends the header line with which rows are on screen
	// ("11-20/42") whenever some are not.
	ShowPosition bool
}

// Widths resolves flex columns for the given total width (one space
// between columns).
func Widths(cols []Column, width int) []int {
	out := make([]int, len(cols))
	used, flex := 0, 0
	for i, c := range cols {
		out[i] = c.Width
		used += c.Width
		if c.Flex {
			flex++
		}
	}
	used += len(cols) - 1
	if flex > 0 {
		left := max(width-used, 0)
		for i, c := range cols {
			if c.Flex {
				out[i] += left / flex
			}
		}
	}
	return out
}

// Offset returns the first visible row so that cursor stays visible in a
// window of n rows.
func Offset(cursor, rows, n int) int {
	if n <= 0 || cursor < n {
		return 0
	}
	off := cursor - n + 1
	return min(off, max(rows-n, 0))
}

// Render draws the table as exactly Height lines of Width cells.
func (t Table) Render() string {
	widths := Widths(t.Columns, t.Width)
	lines := make([]string, 0, t.Height)
	if t.Height <= 0 {
		return ""
	}
	hdr := make([]Cell, len(t.Columns))
	for i, c := range t.Columns {
		hdr[i] = Cell{Text: c.Title}
	}
	n := t.Height - 1
	off := Offset(t.Cursor, len(t.Rows), n)
	header := t.row(hdr, widths, t.Styles.Header, false)
	if pos := t.position(off, n); pos != "" {
		header = Fit(header, t.Width-ansi.StringWidth(pos), false) + t.Styles.Header.Render(pos)
	}
	lines = append(lines, header)
	for i := off; i < len(t.Rows) && len(lines) < t.Height; i++ {
		lines = append(lines, t.row(t.Rows[i], widths, t.Styles.Cell, i == t.Cursor))
	}
	for len(lines) < t.Height {
		lines = append(lines, strings.Repeat(" ", t.Width))
	}
	return strings.Join(lines, "\n")
}

// position is the header's " FIRST-LAST/ALL" when rows are hidden and
// ShowPosition asks for it, "" otherwise (or when it would not fit).
func (t Table) position(off, n int) string {
	if !t.ShowPosition || n <= 0 || len(t.Rows) <= n {
		return ""
	}
	pos := fmt.Sprintf(" %d-%d/%d", off+1, min(off+n, len(t.Rows)), len(t.Rows))
	if len(pos) >= t.Width/2 {
		return ""
	}
	return pos
}

func (t Table) row(cells []Cell, widths []int, base lipgloss.Style, selected bool) string {
	var b strings.Builder
	for i, w := range widths {
		if i > 0 {
			b.WriteByte(' ')
		}
		var c Cell
		if i < len(cells) {
			c = cells[i]
		}
		// Cell text is plain and often the container's (names, command
		// lines, paths): control characters are written as \xHH, as the
		// CLI writes them, so a newline in a process name cannot forge a
		// row and no escape sequence reaches the terminal.
		text := Fit(termsafe.String(c.Text), w, t.Columns[i].Right)
		if selected {
			b.WriteString(text)
			continue
		}
		st := base
		if c.Style != nil {
			st = *c.Style
		}
		b.WriteString(st.Render(text))
	}
	line := Fit(b.String(), t.Width, false)
	if selected {
		return t.Styles.Selected.Render(ansi.Strip(line))
	}
	return line
}

// Fit pads or truncates s (which may hold SGR sequences) to exactly w cells.
func Fit(s string, w int, right bool) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	pad := strings.Repeat(" ", w-sw)
	if right {
		return pad + s
	}
	return s + pad
}
