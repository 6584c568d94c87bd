package pty

import (
	"fmt"
	"strings"
	"testing"
)

// TestHistoryCopiesScrollbackAndScreen: the copy holds the scrollback,
// oldest first, then the screen; later output does not change it.
func TestHistoryCopiesScrollbackAndScreen(t *testing.T) {
	term := New(10, 3, WithScrollback(5))
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(term, "%d\r\n", i)
	}
	h := term.History()
	if h.Len() != 8 || h.Rows() != 3 || h.Cols() != 10 {
		t.Fatalf("len %d rows %d cols %d, want 8 3 10", h.Len(), h.Rows(), h.Cols())
	}
	var got []string
	for i := range h.Len() {
		got = append(got, strings.TrimRight(h.Text(i), " "))
	}
	if want := "14 15 16 17 18 19 20 "; strings.Join(got, " ") != want {
		t.Fatalf("lines %q, want %q", strings.Join(got, " "), want)
	}
	fmt.Fprintf(term, "later\r\n")
	if s := strings.TrimRight(h.Text(0), " "); s != "14" {
		t.Fatalf("the copy changed under later output: line 0 is %q", s)
	}
}

// TestHistoryCells: wide characters, clusters, styles and wrap flags come
// through cell by cell, with byte offsets of Text matching Line's cells.
func TestHistoryCells(t *testing.T) {
	term := New(6, 2, WithScrollback(10))
	fmt.Fprint(term, "\x1b[31ma\x1b[m世e\u0301xyzw")
	h := term.History()
	cells := h.Line(0)
	if len(cells) != 6 {
		t.Fatalf("%d cells", len(cells))
	}
	texts := make([]string, len(cells))
	for i, c := range cells {
		texts[i] = c.Text
	}
	if want := []string{"a", "世", "", "e\u0301", "x", "y"}; strings.Join(texts, "|") != strings.Join(want, "|") {
		t.Fatalf("cells %q, want %q", texts, want)
	}
	if cells[0].SGR != "\x1b[31m" || cells[1].SGR != "" {
		t.Fatalf("styles %q %q", cells[0].SGR, cells[1].SGR)
	}
	if h.Text(0) != strings.Join(texts, "") {
		t.Fatalf("Text %q is not the cells joined", h.Text(0))
	}
	if !h.Wrapped(0) || h.Wrapped(1) {
		t.Fatalf("wrapped flags %v %v, want true false", h.Wrapped(0), h.Wrapped(1))
	}
	if got := strings.TrimRight(h.Text(1), " "); got != "zw" {
		t.Fatalf("line 1 %q", got)
	}
	if h.Text(99) != "      " || len(h.Line(-1)) != 6 {
		t.Fatal("out of range lines are not blank")
	}
}

// TestHistoryOfTheAlternateScreen is the alternate screen alone: it has no
// scrollback.
func TestHistoryOfTheAlternateScreen(t *testing.T) {
	term := New(10, 3, WithScrollback(10))
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(term, "%d\r\n", i)
	}
	fmt.Fprint(term, "\x1b[?1049h\x1b[HALT")
	h := term.History()
	if h.Len() != 3 || !strings.HasPrefix(h.Text(0), "ALT") {
		t.Fatalf("len %d, first %q", h.Len(), h.Text(0))
	}
}

// TestHistoryHoldsNoControls: whatever a program writes, what copy mode
// reads, searches and copies to the clipboard is cell text, without a
// control character or escape sequence (OSC 52 from the program itself is
// not passed on: only a person's copy reaches the clipboard).
func TestHistoryHoldsNoControls(t *testing.T) {
	term := New(20, 4, WithScrollback(10))
	fmt.Fprint(term, "a\x1b]52;c;SGVsbG8=\x07b\x1b]0;\x1b[2Jt\x07c\x9b31md\x1bPq#0\x1b\\e\x00\x7f\x07f\r\n")
	h := term.History()
	for i := range h.Len() {
		for _, r := range h.Text(i) {
			if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
				t.Fatalf("line %d holds control %U: %q", i, r, h.Text(i))
			}
		}
	}
}

// BenchmarkHistory is what entering copy mode costs with a full 1,000-line
// scrollback at 120x40.
func BenchmarkHistory(b *testing.B) {
	term := New(120, 40)
	for i := range 2000 {
		fmt.Fprintf(term, "\x1b[3%dmline %d %s\x1b[m\r\n", i%8, i, strings.Repeat("x", i%100))
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = term.History()
	}
}
