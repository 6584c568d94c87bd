package pty

import (
	"strings"
	"testing"
)

// feed returns a cols x rows terminal after writing in, with its replies.
func feed(t *testing.T, cols, rows int, in string) (*vt, *strings.Builder) {
	t.Helper()
	var replies strings.Builder
	v := newVT(cols, rows, 100, func(s string) { replies.WriteString(s) })
	v.write([]byte(in))
	return v, &replies
}

// TestConformance feeds vttest-style sequences and compares the screen
// text and the cursor with what xterm shows.
func TestConformance(t *testing.T) {
	for _, tt := range conformanceCases {
		t.Run(tt.name, func(t *testing.T) {
			v, _ := feed(t, tt.cols, tt.rows, tt.in)
			if got := v.text(); got != tt.want {
				t.Errorf("screen:\n%s\nwant:\n%s", quoteLines(got), quoteLines(tt.want))
			}
			if v.x != tt.x || v.y != tt.y {
				t.Errorf("cursor at %d,%d, want %d,%d", v.x, v.y, tt.x, tt.y)
			}
		})
	}
}

// conformanceCases are the screens xterm shows for vttest-style input. All
// of them were also checked against tmux 3.3a; it differs, by design, in:
// BS from a pending wrap (tmux stays put), LNM and DECSEL (unsupported),
// IL/DL (tmux keeps the column), overwriting half a wide character (tmux
// keeps the other half), mode 47 (tmux clears the alternate screen) and
// capture-pane shows DEC graphics as their ASCII letters.
var conformanceCases = []struct {
	name       string
	cols, rows int
	in         string
	want       string
	x, y       int
}{
	{"autowrap", 10, 3, "abcdefghijKL", "abcdefghij\nKL", 2, 1},
	{"pending wrap then CR stays on the line", 10, 3, "abcdefghij\rX", "Xbcdefghij", 1, 0},
	{"pending wrap then BS", 10, 3, "abcdefghij\bX", "abcdefghXj", 9, 0},
	{"no autowrap overwrites the last column", 10, 3, "\x1b[?7labcdefghijKL", "abcdefghiL", 9, 0},
	{"CRLF and scrolling", 5, 3, "1\r\n2\r\n3\r\n4", "2\n3\n4", 1, 2},
	{"LF keeps the column", 10, 3, "ab\ncd", "ab\n  cd", 4, 1},
	{"LNM makes LF a newline", 10, 3, "\x1b[20hab\ncd", "ab\ncd", 2, 1},
	{"CUP and erase below", 5, 3, "aaaaabbbbbccccc\x1b[2;3H\x1b[J", "aaaaa\nbb", 2, 1},
	{"erase above", 5, 3, "aaaaabbbbbccccc\x1b[2;3H\x1b[1J", "\n   bb\nccccc", 2, 1},
	{"erase all keeps cursor", 5, 3, "aaaaabbbbb\x1b[2J", "", 4, 1},
	{"erase line right", 6, 2, "abcdef\x1b[1;3H\x1b[K", "ab", 2, 0},
	{"erase line left", 6, 2, "abcdef\x1b[1;3H\x1b[1K", "   def", 2, 0},
	{"selective erase line", 6, 2, "abcdef\x1b[1;3H\x1b[?K", "ab", 2, 0},
	{"erase line all", 6, 2, "abcdef\x1b[1;3H\x1b[2K", "", 2, 0},
	{"cursor moves clamp", 5, 3, "\x1b[10;10Hx\x1b[2Ay\x1b[9Dz", "z   y\n\n    x", 1, 0},
	{"CNL CPL CHA", 6, 3, "\x1b[2Ea\x1b[Fb\x1b[4Gc", "\nb  c\na", 4, 1},
	{"VPA HPA", 6, 3, "\x1b[3dx\x1b[2`y", "\n\nxy", 2, 2},
	{"insert chars", 6, 2, "abcdef\x1b[1;2H\x1b[2@", "a  bcd", 1, 0},
	{"delete chars", 6, 2, "abcdef\x1b[1;2H\x1b[2P", "adef", 1, 0},
	{"erase chars", 6, 2, "abcdef\x1b[1;2H\x1b[2X", "a  def", 1, 0},
	{"insert mode", 6, 2, "abcd\x1b[1;2H\x1b[4hXY\x1b[4l", "aXYbcd", 3, 0},
	{"tabs", 20, 2, "a\tb\tc", "a       b       c", 17, 0},
	{"tab stops set and cleared", 20, 2, "\x1b[3g\x1b[1;4H\x1bH\r\tx\t", "   x", 19, 0},
	{"back tab", 20, 2, "\x1b[1;12H\x1b[Zx", "        x", 9, 0},
	{"scroll region index", 5, 5, "1\r\n2\r\n3\r\n4\r\n5\x1b[2;4r\x1b[4;1H\nX", "1\n3\n4\nX\n5", 1, 3},
	{"scroll region reverse index", 5, 5, "1\r\n2\r\n3\r\n4\r\n5\x1b[2;4r\x1b[2;1H\x1bMX", "1\nX\n2\n3\n5", 1, 1},
	{"insert lines in region", 5, 5, "1\r\n2\r\n3\r\n4\r\n5\x1b[2;4r\x1b[3;3H\x1b[L", "1\n2\n\n3\n5", 0, 2},
	{"delete lines in region", 5, 5, "1\r\n2\r\n3\r\n4\r\n5\x1b[2;4r\x1b[2;1H\x1b[2M", "1\n4\n\n\n5", 0, 1},
	{"scroll up and down", 5, 4, "1\r\n2\r\n3\r\n4\x1b[S", "2\n3\n4", 1, 3},
	{"scroll down", 5, 4, "1\r\n2\r\n3\r\n4\x1b[2T", "\n\n1\n2", 1, 3},
	{"origin mode", 5, 5, "\x1b[2;4r\x1b[?6h\x1b[1;1Hx\x1b[9;1Hy", "\nx\n\ny", 1, 3},
	{"save and restore cursor", 6, 3, "ab\x1b7\x1b[3;5Hx\x1b8y", "aby\n\n    x", 3, 0},
	{"SCOSC/SCORC", 6, 3, "ab\x1b[s\x1b[3;5Hx\x1b[uy", "aby\n\n    x", 3, 0},
	{"NEL and IND", 6, 3, "ab\x1bEc\x1bDd", "ab\nc\n d", 2, 2},
	{"wide characters", 6, 2, "中文x", "中文x", 5, 0},
	{"wide character wraps at the edge", 5, 2, "abcd中", "abcd\n中", 2, 1},
	{"overwriting half a wide character", 6, 2, "中文\x1b[1;2Hx", " x文", 2, 0},
	{"combining mark", 6, 2, "e\u0301x", "e\u0301x", 2, 0},
	{"DEC special graphics", 6, 2, "\x1b(0lqk\x1b(Bq", "┌─┐q", 4, 0},
	{"shift out to G1 graphics", 6, 2, "\x1b)0a\x0eq\x0fq", "a─q", 3, 0},
	{"DECALN", 3, 2, "\x1b#8", "EEE\nEEE", 0, 0},
	{"REP", 8, 2, "ab\x1b[3b", "abbbb", 5, 0},
	{"full reset", 5, 2, "abc\x1bc", "", 0, 0},
	{"alternate screen 1049 restores screen and cursor", 6, 3, "main\x1b[?1049h\x1b[2;2Halt\x1b[?1049l", "main", 4, 0},
	{"alternate screen 1049 starts clear", 6, 3, "main\x1b[?1049h", "", 4, 0},
	{"alternate screen 47 keeps its content", 6, 3, "\x1b[?47hA\x1b[?47l\x1b[?47h", "A", 1, 0},
	{"alternate screen 1047 clears on leave", 6, 3, "\x1b[?1047hA\x1b[?1047l\x1b[?1047h", "", 1, 0},
	{"utf-8 split", 6, 2, "\xe4\xb8", "", 0, 0},
	{"unknown sequences are swallowed", 10, 2, "a\x1b[?1234hb\x1b]8;;http://x\x1b\\c\x1bP+q544e\x1b\\d\x1b[>4;1me", "abcde", 5, 0},
	{"SGR does not move", 10, 2, "a\x1b[1;31;48;5;20;38;2;1;2;3mb", "ab", 2, 0},
}

func quoteLines(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		b.WriteString("|" + l + "|\n")
	}
	return b.String()
}

// TestStyles checks the style of a few cells and how Render writes them.
func TestStyles(t *testing.T) {
	v, _ := feed(t, 20, 2, "\x1b[31mr\x1b[1;4;7mb\x1b[0;38;5;208mo\x1b[48;2;1;2;3mt\x1b[m \x1b[92mg\x1b[38:2::10:20:30mc\x1b[4:3mu\x1b[0m.")
	cells := v.buf.line(0).cells
	want := []style{
		{fg: colourIndexed | 1},
		{fg: colourIndexed | 1, attrs: attrBold | attrReverse | 1<<attrULShift},
		{fg: colourIndexed | 208},
		{fg: colourIndexed | 208, bg: rgbColour(1, 2, 3)},
		{},
		{fg: colourIndexed | 10},
		{fg: rgbColour(10, 20, 30)},
		{fg: rgbColour(10, 20, 30), attrs: 3 << attrULShift},
		{},
	}
	for i, w := range want {
		if got := v.styles.list[cells[i].st]; got != w {
			t.Errorf("cell %d (%q): style %+v, want %+v", i, cells[i].r, got, w)
		}
	}
	var b strings.Builder
	v.render(&b)
	line := strings.Split(b.String(), "\n")[0]
	wantLine := "\x1b[31mr\x1b[0;1;7;4;31mb\x1b[0;38;5;208mo\x1b[0;38;5;208;48;2;1;2;3mt\x1b[m \x1b[92mg" +
		"\x1b[0;38;2;10;20;30mc\x1b[0;4:3;38;2;10;20;30mu\x1b[m." + strings.Repeat(" ", 11)
	if line != wantLine {
		t.Errorf("render:\n%q\nwant:\n%q", line, wantLine)
	}
	if l2 := strings.Split(b.String(), "\n")[1]; l2 != strings.Repeat(" ", 20) {
		t.Errorf("plain line rendered as %q", l2)
	}
}

// TestEraseUsesBackground checks xterm's background colour erase: an erase
// fills with the current background, which Render keeps.
func TestEraseUsesBackground(t *testing.T) {
	v, _ := feed(t, 4, 2, "\x1b[44m\x1b[2J\x1b[m")
	var b strings.Builder
	v.render(&b)
	if got, want := b.String(), "\x1b[44m    \x1b[m\n\x1b[44m    \x1b[m"; got != want {
		t.Fatalf("render %q, want %q", got, want)
	}
}

func TestReplies(t *testing.T) {
	tests := []struct{ in, want string }{
		{"\x1b[c", "\x1b[?62;22c"},
		{"\x1b[0c", "\x1b[?62;22c"},
		{"\x1b[>c", "\x1b[>1;10;0c"},
		{"\x1b[5n", "\x1b[0n"},
		{"\x1b[3;7H\x1b[6n", "\x1b[3;7R"},
		{"\x1b[2;4r\x1b[?6h\x1b[2;3H\x1b[6n", "\x1b[2;3R"},
		{"\x1b[?2004h\x1b[?2004$p\x1b[?1$p\x1b[?9999$p", "\x1b[?2004;1$y\x1b[?1;2$y\x1b[?9999;0$y"},
		{"\x1b[18t", "\x1b[8;5;10t"},
		{"\x1b]11;?\x07", "\x1b]11;rgb:0000/0000/0000\x07"},
	}
	for _, tt := range tests {
		_, r := feed(t, 10, 5, tt.in)
		if r.String() != tt.want {
			t.Errorf("%q: replied %q, want %q", tt.in, r.String(), tt.want)
		}
	}
}

func TestModes(t *testing.T) {
	v, _ := feed(t, 10, 3, "\x1b[?1h\x1b=\x1b[?2004h\x1b[?25l\x1b]0;one\x07")
	if !v.keys.appCursor || !v.keys.appKeypad || !v.paste || !v.cursorHidden || v.title != "one" {
		t.Fatalf("modes not set: keys=%+v paste=%v hidden=%v title=%q", v.keys, v.paste, v.cursorHidden, v.title)
	}
	v.write([]byte("\x1b[?1l\x1b>\x1b[?2004l\x1b[?25h\x1b]2;two\x1b\\"))
	if v.keys.appCursor || v.keys.appKeypad || v.paste || v.cursorHidden || v.title != "two" {
		t.Fatalf("modes not reset: keys=%+v paste=%v hidden=%v title=%q", v.keys, v.paste, v.cursorHidden, v.title)
	}
}

// TestScrollback checks that lines scrolled off the top are kept, up to
// the limit, oldest first, and that the ring reuses its lines.
func TestScrollback(t *testing.T) {
	v := newVT(10, 3, 5, func(string) {})
	for i := range 20 {
		v.write([]byte("\r\nline" + string(rune('A'+i))))
	}
	if got, want := v.text(), "lineR\nlineS\nlineT"; got != want {
		t.Fatalf("screen %q, want %q", got, want)
	}
	if n := v.main.sbLen(); n != 5 {
		t.Fatalf("scrollback has %d lines, want 5", n)
	}
	var sb []string
	for i := range v.main.sbLen() {
		var b strings.Builder
		for _, c := range v.main.sbLine(i).cells {
			b.WriteString(v.cellText(c))
		}
		sb = append(sb, strings.TrimRight(b.String(), " "))
	}
	if got, want := strings.Join(sb, ","), "lineM,lineN,lineO,lineP,lineQ"; got != want {
		t.Fatalf("scrollback %s, want %s", got, want)
	}
	v.write([]byte("\x1b[3J"))
	if n := v.main.sbLen(); n != 0 {
		t.Fatalf("scrollback has %d lines after ED 3, want 0", n)
	}
	// The alternate screen keeps no scrollback.
	v.write([]byte("\x1b[?1049h1\r\n2\r\n3\r\n4\r\n5"))
	if n := v.alt.sbLen(); n != 0 {
		t.Fatalf("alternate screen kept %d lines", n)
	}
}

func TestResize(t *testing.T) {
	v := newVT(10, 4, 100, func(string) {})
	v.write([]byte("1\r\n2\r\n3\r\n4\r\n5\r\n6"))
	// 1 and 2 are in the scrollback; the screen is 3..6, cursor on 6.
	v.resize(10, 6)
	if got, want := v.text(), "1\n2\n3\n4\n5\n6"; got != want {
		t.Fatalf("grown screen %q, want %q (lines pulled back from scrollback)", got, want)
	}
	if v.y != 5 {
		t.Fatalf("cursor row %d after grow, want 5", v.y)
	}
	v.resize(4, 3)
	if got, want := v.text(), "4\n5\n6"; got != want {
		t.Fatalf("shrunk screen %q, want %q", got, want)
	}
	if v.y != 2 {
		t.Fatalf("cursor row %d after shrink, want 2", v.y)
	}
	// Blank lines below the cursor go first when shrinking.
	v = newVT(10, 5, 100, func(string) {})
	v.write([]byte("a\r\nb"))
	v.resize(10, 3)
	if got, want := v.text(), "a\nb"; got != want || v.y != 1 {
		t.Fatalf("screen %q cursor row %d, want %q row 1", got, v.y, want)
	}
	// Narrowing cuts lines and a wide character on the edge.
	v = newVT(6, 2, 100, func(string) {})
	v.write([]byte("ab中文"))
	v.resize(3, 2)
	if got, want := v.text(), "ab"; got != want {
		t.Fatalf("narrowed screen %q, want %q", got, want)
	}
	var b strings.Builder
	v.render(&b)
	if got, want := b.String(), "ab \n   "; got != want {
		t.Fatalf("render %q, want %q", got, want)
	}
}

// TestNoAllocScroll checks that scrolling with a full scrollback reuses
// lines instead of allocating.
func TestNoAllocScroll(t *testing.T) {
	v := newVT(80, 24, 100, func(string) {})
	line := []byte(strings.Repeat("x", 79) + "\r\n")
	for range 200 {
		v.write(line)
	}
	allocs := testing.AllocsPerRun(100, func() { v.write(line) })
	if allocs != 0 {
		t.Fatalf("%v allocations per scrolled line, want 0", allocs)
	}
}

func BenchmarkWrite(b *testing.B) {
	var in strings.Builder
	for i := range 10000 {
		in.WriteString("line ")
		in.WriteString(strings.Repeat("x", i%70))
		if i%10 == 0 {
			in.WriteString("\x1b[1;32mINFO\x1b[0m")
		}
		in.WriteString("\r\n")
	}
	p := []byte(in.String())
	v := newVT(120, 40, 1000, func(string) {})
	b.SetBytes(int64(len(p)))
	b.ResetTimer()
	for range b.N {
		v.write(p)
	}
}

func TestRenderScrolled(t *testing.T) {
	term := New(6, 2, WithScrollback(3))
	_, _ = term.Write([]byte("1\r\n2\r\n3\r\n4\r\n5\r\n6"))
	if n := term.ScrollbackLen(); n != 3 {
		t.Fatalf("ScrollbackLen = %d, want 3", n)
	}
	for _, tt := range []struct {
		offset int
		want   string
	}{{0, "5     \n6     "}, {1, "4     \n5     "}, {3, "2     \n3     "}, {9, "2     \n3     "}, {-1, "5     \n6     "}} {
		if got := term.RenderScrolled(tt.offset); got != tt.want {
			t.Errorf("RenderScrolled(%d) = %q, want %q", tt.offset, got, tt.want)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	term := New(120, 40)
	var in strings.Builder
	for i := range 40 {
		in.WriteString("\x1b[1;32mINFO\x1b[0m some text here \x1b[38;5;208mcolour\x1b[m and more plain text " + strings.Repeat("x", i) + "\r\n")
	}
	_, _ = term.Write([]byte(in.String()))
	b.ResetTimer()
	for range b.N {
		_ = term.Render()
	}
}
