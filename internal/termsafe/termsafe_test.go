package termsafe

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"/bin/sleep 1000", "/bin/sleep 1000"},
		// The title-setting, screen-clearing sequence of the bug report.
		{"\x1b]0;PWNED\a\x1b[2J", `\x1b]0;PWNED\x07\x1b[2J`},
		{"a\tb\nc\rd\be\x00f", `a\x09b\x0ac\x0dd\x08e\x00f`},
		{"del\x7f", `del\x7f`},
		{"\x9b31m", `\x9b31m`},                                // a lone C1 byte: invalid UTF-8
		{"\u009b31m", `\xc2\x9b31m`},                          // C1 CSI as UTF-8: both bytes
		{"\u0080\u009f\u00a0", `\xc2\x80\xc2\x9f` + "\u00a0"}, // NBSP is printable
		{"bad \xff\xfe end", `bad \xff\xfe end`},
		{"cut \xe6\x97", `cut \xe6\x97`}, // a truncated CJK character
		{"\xed\xa0\x80", `\xed\xa0\x80`}, // a UTF-16 surrogate is not UTF-8
		{"evil\u202egnp.exe", `evil\xe2\x80\xaegnp.exe`},
		{"a\u2028b\u2029c\u2066d\u2069\u200e\u200f\u061c", `a\xe2\x80\xa8b\xe2\x80\xa9c\xe2\x81\xa6d\xe2\x81\xa9\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c`},
		// A backslash is kept unless an x follows it: then it is \x5c,
		// so that every \x of the output starts an escape.
		{`C:\dir\file`, `C:\dir\file`},
		{`\x1b`, `\x5cx1b`},
		{`\\x`, `\\x5cx`},
		{`end\`, `end\`},
		// Printable Unicode stays as it is.
		{"日本語 héllo 🙂 👨‍👩‍👧 ü", "日本語 héllo 🙂 👨‍👩‍👧 ü"},
	} {
		if got := String(c.in); got != c.want {
			t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
		}
		if back := Unescape(String(c.in)); back != c.in {
			t.Errorf("Unescape(String(%q)) = %q", c.in, back)
		}
	}
}

func TestStringReturnsSafeInputItself(t *testing.T) {
	s := "/usr/bin/sleep 1000 日本"
	if got := String(s); got != s {
		t.Fatalf("String(%q) = %q", s, got)
	}
	if n := testing.AllocsPerRun(100, func() { String(s) }); n != 0 {
		t.Errorf("String of text with nothing to escape allocates %v times", n)
	}
}

func TestMessageKeepsBackslashes(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`unknown container "\x1b]0;x\a"`, `unknown container "\x1b]0;x\a"`}, // as %q wrote it
		{"mount /mnt/\x1b]0;x\a: busy", `mount /mnt/\x1b]0;x\x07: busy`},
		{"two\nlines\r", `two\x0alines\x0d`},
		{"\u009b\xff", `\xc2\x9b\xff`},
	} {
		if got := Message(c.in); got != c.want {
			t.Errorf("Message(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestWidth(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{`\x1b`, 4},
		{"日本語", 6},
		{"한국어", 6},
		{"ｆｕｌｌ", 8},
		{"🙂", 2},
		{"e\u0301", 1}, // e and a combining acute accent
		{"é", 1},
		{"…", 1},
		{"ü", 1},
		{"\u200b", 0},
		{"\U00020000", 2},
	} {
		if got := Width(c.in); got != c.want {
			t.Errorf("Width(%q) = %d, want %d", c.in, got, c.want)
		}
	}
	for i := 1; i < len(wide); i++ {
		if wide[i-1][1] >= wide[i][0] || wide[i][0] > wide[i][1] {
			t.Fatalf("wide ranges out of order at %d: %x %x", i, wide[i-1], wide[i])
		}
	}
}

func TestClip(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"a bit too long", 10, "a bit too…"},
		{"日本語のコマンド", 7, "日本語…"},
		// An escape is never cut in half: \x1b is four columns.
		{"ab\x1bcdef", 6, "ab…"},
		{"ab\x1bcdef", 7, "ab\x1b…"},
		{"\xff\xff\xff", 9, "\xff\xff…"},
	} {
		got := Clip(c.in, c.n)
		if got != c.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
		if w := Width(String(got)); w > c.n {
			t.Errorf("Clip(%q, %d) is %d columns wide once escaped", c.in, c.n, w)
		}
	}
}

// For plain ASCII cells, AppendTable prints what text/tabwriter printed
// before it replaced it, byte for byte.
func TestAppendTableMatchesTabwriter(t *testing.T) {
	for _, rows := range [][][]string{
		{{"TARGET", "SOURCE", "FSTYPE", "MODE", "MANAGED"}, {"/", "/dev/sda1", "ext4", "rw", "-"}, {"/var/data", "tmpfs", "tmpfs", "ro", "yes"}},
		{{"TYPE", "INODE", "HOST", ""}, {"cgroup", "4026531835", "4026531835", "shared with host"}, {"mnt", "?", "4026531841", "unknown"}},
		{{"NAME", "PID", "CPU%"}},
		{{"only"}},
		{},
	} {
		var want bytes.Buffer
		tw := tabwriter.NewWriter(&want, 0, 0, 2, ' ', 0)
		for _, row := range rows {
			tw.Write([]byte(strings.Join(row, "\t") + "\n"))
		}
		tw.Flush()
		if got := string(AppendTable(nil, rows)); got != want.String() {
			t.Errorf("AppendTable(%q):\n%s\ntabwriter:\n%s", rows, got, want.String())
		}
	}
}

// Escaped and wide cells keep the next column aligned on the terminal:
// every line's second column starts at the same display column.
func TestAppendTableAlignsEscapedAndWideCells(t *testing.T) {
	rows := [][]string{
		{"COMMAND", "PID", "X"},
		{"\x1b]0;PWNED\a\x1b[2J", "1", "a"},
		{"日本語", "22", "b"},
		{"bad\xff\u009b", "333", "c"},
		{"🙂🙂", "4", "d"},
		{"a\\xb", "5", "e"},
	}
	out := string(AppendTable(nil, rows))
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(rows) {
		t.Fatalf("%d lines for %d rows:\n%s", len(lines), len(rows), out)
	}
	col := -1
	for i, line := range lines {
		if !utf8.ValidString(line) || strings.ContainsFunc(line, func(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) }) {
			t.Errorf("line %d holds a control character or invalid UTF-8: %q", i, line)
		}
		// The second column starts after the first cell and its padding.
		cell := String(rows[i][0])
		if !strings.HasPrefix(line, cell+"  ") {
			t.Fatalf("line %d = %q, want it to start with %q", i, line, cell)
		}
		rest := strings.TrimLeft(line[len(cell):], " ")
		at := Width(line[:len(line)-len(rest)])
		if col >= 0 && at != col {
			t.Errorf("line %d: second column at display column %d, want %d:\n%s", i, at, col, out)
		}
		col = at
		if !strings.HasPrefix(rest, rows[i][1]+" ") {
			t.Errorf("line %d: second column %q, want %q", i, rest, rows[i][1])
		}
	}
	if want := `\x1b]0;PWNED\x07\x1b[2J  1    a`; lines[1] != want {
		t.Errorf("line 1 = %q, want %q", lines[1], want)
	}
}

// checkSafe fails unless s could go to a terminal: valid UTF-8, no C0
// control but the newline a caller allows, no DEL, no C1, no mark that
// reorders the line.
func checkSafe(t *testing.T, what, s string, allowNewline bool) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("%s is not valid UTF-8: %q", what, s)
	}
	for _, r := range s {
		if (r == '\n' && allowNewline) || !Unsafe(r) {
			continue
		}
		t.Fatalf("%s holds %U: %q", what, r, s)
	}
}

// Any bytes at all: the escaped text is valid UTF-8 without a control
// character, the original comes back from it (so two different inputs
// never print the same), Message is safe too, a clipped cell fits its
// width, and a table of such cells stays safe.
func FuzzString(f *testing.F) {
	for _, s := range []string{
		"", "/bin/sleep 1000", "\x1b]0;PWNED\a\x1b[2J", "\x9b31m\x7f\xff", "\u009b\u0085",
		`\x1b`, `\\x5c`, "\\", "日本語🙂", "\xed\xa0\x80\xf4\x90\x80\x80", "a\u202eb\u2028",
		"/mnt/\x1b]0;x\a\n36 35 98:0 / /etc rw - ext4 /dev/sda rw",
	} {
		f.Add(s, 20)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		e := String(s)
		checkSafe(t, "String", e, false)
		if back := Unescape(e); back != s {
			t.Fatalf("Unescape(String(%q)) = %q via %q", s, back, e)
		}
		checkSafe(t, "Message", Message(s), false)
		// What %q writes in an error message is safe by itself (and
		// Message keeps it as it is).
		checkSafe(t, "strconv.Quote", strconv.Quote(s), false)
		if q := strconv.Quote(s); Message(q) != q {
			t.Fatalf("Message changed %s to %s", q, Message(q))
		}
		n = n%100 + 1
		if n < 1 {
			n = -n + 2
		}
		if c := Clip(s, n); Width(String(c)) > max(n, 1) {
			t.Fatalf("Clip(%q, %d) = %q: %d columns", s, n, c, Width(String(c)))
		}
		// JSON: the same value, nothing a terminal acts on.
		raw, err := json.Marshal(map[string]string{"command": s})
		if err != nil {
			t.Fatal(err)
		}
		safe := JSON(raw)
		checkSafe(t, "JSON", string(safe), false)
		var a, b map[string]string
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(safe, &b); err != nil {
			t.Fatalf("JSON(%s) = %s: %v", raw, safe, err)
		}
		if a["command"] != b["command"] {
			t.Fatalf("JSON(%s) = %s decodes to %q, not %q", raw, safe, b["command"], a["command"])
		}
		table := string(AppendTable(nil, [][]string{{"TARGET", "X"}, {s, s}, {"b", s}}))
		checkSafe(t, "table", table, true)
		if strings.Count(table, "\n") != 3 {
			t.Fatalf("table of %q has other than 3 lines: %q", s, table)
		}
	})
}

func TestJSON(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"a": "plain"}` + "\n", `{"a": "plain"}` + "\n"},
		// What encoding/json leaves raw: DEL, C1, bidi overrides, and
		// (already escaped by it) U+2028.
		{"[\"\u009b2J\x7f\u202e\\u2028 日本🙂\"]\n", `["\u009b2J\u007f\u202e\u2028 日本🙂"]` + "\n"},
		{"\"\u0085\u0080\u009f\u00a0\"", `"\u0085\u0080\u009f` + "\u00a0\""},
	} {
		if got := string(JSON([]byte(c.in))); got != c.want {
			t.Errorf("JSON(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// A table of `ls`'s size with ordinary cells: what escaping costs a run.
func BenchmarkAppendTable(b *testing.B) {
	rows := [][]string{{"NAME", "PID", "ORIGIN", "PROCS", "STATUS", "CGROUP", "IPC", "MNT", "COMMAND"}}
	for range 50 {
		rows = append(rows, []string{"web", "12345", "boxtui", "3", "running", "4026531835*", "4026532183", "4026532181", "/usr/bin/python3 -m http.server 8080 --directory /srv/www"})
	}
	var buf []byte
	for b.Loop() {
		buf = AppendTable(buf[:0], rows)
	}
}
