package table

import (
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

func TestFitPadsAndTruncatesStyledText(t *testing.T) {
	red := lipgloss.NewStyle().Foreground(lipgloss.Red).Render("abcdef")
	if got := ansi.StringWidth(Fit(red, 4, false)); got != 4 {
		t.Fatalf("width %d", got)
	}
	if got := ansi.Strip(Fit(red, 4, false)); got != "abc…" {
		t.Fatalf("truncated %q", got)
	}
	if got := Fit("7", 3, true); got != "  7" {
		t.Fatalf("right-aligned %q", got)
	}
}

func TestOffsetKeepsCursorVisible(t *testing.T) {
	for _, c := range []struct{ cursor, rows, n, want int }{
		{0, 10, 3, 0}, {2, 10, 3, 0}, {3, 10, 3, 1}, {9, 10, 3, 7}, {5, 4, 10, 0},
	} {
		if got := Offset(c.cursor, c.rows, c.n); got != c.want {
			t.Errorf("Offset(%d, %d, %d) = %d, want %d", c.cursor, c.rows, c.n, got, c.want)
		}
	}
}

func TestRenderIsExactlyTheAskedSize(t *testing.T) {
	tb := Table{
		Columns: []Column{{Title: "A", Width: 3}, {Title: "B", Width: 4, Flex: true}},
		Rows:    [][]Cell{{{Text: "1"}, {Text: "one"}}, {{Text: "2"}, {Text: "two"}}, {{Text: "3"}, {Text: "three"}}},
		Width:   20, Height: 3, Cursor: 2,
	}
	lines := strings.Split(tb.Render(), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines", len(lines))
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w != 20 {
			t.Errorf("line %d is %d cells: %q", i, w, l)
		}
	}
	// The cursor row (the third) is scrolled into the two-row window.
	if !strings.Contains(ansi.Strip(lines[2]), "three") {
		t.Fatalf("cursor row not visible: %q", lines)
	}
}

// TestPositionWhenRowsAreHidden: with rows off screen the header says
// which are shown; with every row on screen, or without ShowPosition, it
// is the plain header.
func TestPositionWhenRowsAreHidden(t *testing.T) {
	rows := make([][]Cell, 42)
	for i := range rows {
		rows[i] = []Cell{{Text: "row"}}
	}
	tb := Table{Columns: []Column{{Title: "NAME", Width: 10, Flex: true}}, Rows: rows, Width: 40, Height: 11, Cursor: 15, ShowPosition: true}
	lines := strings.Split(ansi.Strip(tb.Render()), "\n")
	if len(lines) != 11 || !strings.HasSuffix(lines[0], " 7-16/42") || ansi.StringWidth(lines[0]) != 40 {
		t.Fatalf("header %q (%d lines)", lines[0], len(lines))
	}
	tb.Rows = rows[:5]
	if h := strings.Split(ansi.Strip(tb.Render()), "\n")[0]; strings.Contains(h, "/") {
		t.Errorf("every row shown, yet header %q", h)
	}
	tb.Rows, tb.ShowPosition = rows, false
	if h := strings.Split(ansi.Strip(tb.Render()), "\n")[0]; strings.Contains(h, "/") {
		t.Errorf("ShowPosition off, yet header %q", h)
	}
}
