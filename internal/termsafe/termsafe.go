// Package termsafe makes text from containers safe to print on a terminal.
//
// Command lines, process names, mount points, mount sources and the like
// are chosen by whoever runs a container, and a terminal acts on the
// control characters in what it is given: ESC starts a sequence that can
// set the window title, clear the screen or move the cursor, a C1 byte
// (0x9b is CSI) does the same on terminals that take 8-bit controls, CR and
// BS overwrite what is already on the line. So everything the CLI prints as
// text goes through String (data: table cells, fields) or Message (error
// and warning lines), the way util-linux (lsns, findmnt) prints such names:
//
//   - every byte of a C0 control (U+0000–U+001F, tab and newline included),
//     DEL (U+007F), a C1 control (U+0080–U+009F), a Unicode character that
//     reorders or breaks the line (the bidirectional marks, embeddings,
//     overrides and isolates U+061C, U+200E, U+200F, U+202A–U+202E,
//     U+2066–U+2069, and the separators U+2028, U+2029), and every byte
//     that is not part of valid UTF-8 becomes \xHH, two lowercase hex
//     digits: ESC is \x1b, CSI as UTF-8 is \xc2\x9b, a lone 0xff is \xff;
//   - in String, a backslash that is followed by 'x' becomes \x5c (as
//     util-linux does), so every \x in the output starts an escape and the
//     original bytes can always be told back (Unescape); a backslash
//     followed by anything else stays as it is, so paths and most text are
//     printed unchanged;
//   - everything else, printable Unicode included (accents, CJK, emoji), is
//     printed as it is.
//
// JSON output keeps the exact strings: encoding/json escapes C0 controls
// and invalid UTF-8 (as U+FFFD) itself, and JSON rewrites what it leaves
// raw (DEL, C1, the marks above) as \uXXXX escapes of the same value.
//
// This package imports only the standard library packages that every Go
// program initialises first, so that internal/lscmd, which runs from a
// package init before the UI libraries initialise, can use it.
package termsafe

import (
	"unicode"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// String returns s with every control character, line-reordering mark and
// invalid UTF-8 byte written as \xHH, and a backslash before 'x' as \x5c:
// text that cannot drive a terminal, and from which Unescape gets s back.
// It returns s itself when there is nothing to escape.
func String(s string) string { return escape(s, true) }

// Message is String for a whole error or warning line: control characters
// are escaped the same way, but backslashes are left alone, so the \x1b
// that %q already wrote stays readable (a message is read, not parsed).
func Message(s string) string { return escape(s, false) }

func escape(s string, backslash bool) string {
	i := 0
	for i < len(s) {
		n := unsafeAt(s, i, backslash)
		if n > 0 {
			break
		}
		i -= n
	}
	if i == len(s) {
		return s
	}
	b := make([]byte, 0, len(s)+16)
	b = append(b, s[:i]...)
	for i < len(s) {
		n := unsafeAt(s, i, backslash)
		if n > 0 {
			for _, c := range []byte(s[i : i+n]) {
				b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i += n
			continue
		}
		b = append(b, s[i:i-n]...)
		i -= n
	}
	return string(b)
}

// unsafeAt looks at the character (or invalid byte) at s[i]: it returns its
// length in bytes, positive when it must be escaped, negative when it may
// be printed as it is.
func unsafeAt(s string, i int, backslash bool) int {
	c := s[i]
	if c < utf8.RuneSelf {
		switch {
		case c < 0x20 || c == 0x7f:
			return 1
		case c == '\\' && backslash && i+1 < len(s) && s[i+1] == 'x':
			return 1
		}
		return -1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && n == 1 {
		return 1
	}
	if Unsafe(r) {
		return n
	}
	return -n
}

// Unsafe reports whether String escapes the character r: a C0 or C1
// control, DEL, a bidirectional mark, embedding, override or isolate, or a
// line or paragraph separator. (A backslash depends on what follows it.)
func Unsafe(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f,
		r >= 0x2028 && r <= 0x202e,
		r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// Unescape undoes String: every \xHH becomes the byte 0xHH, and everything
// else is kept. Unescape(String(s)) == s for every s.
func Unescape(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			hi, lo := unhex(s[i+2]), unhex(s[i+3])
			if hi >= 0 && lo >= 0 {
				b = append(b, byte(hi<<4|lo))
				i += 3
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// Width is the number of terminal columns s takes, for s made safe by
// String or Message: East Asian wide and fullwidth characters (CJK,
// most emoji) take two, combining marks and other zero-width characters
// none, everything else one. An invalid byte counts one, as a terminal
// shows it as one replacement character.
func Width(s string) int {
	w := 0
	for _, r := range s {
		w += RuneWidth(r)
	}
	return w
}

// RuneWidth is the number of terminal columns r takes (see Width).
func RuneWidth(r rune) int {
	switch {
	case r < 0x300:
		return 1 // ASCII and Latin-1 (controls are escaped before this)
	case r == 0x200b, r == 0x200c, r == 0x200d, r == 0x2060, r == 0xfeff,
		unicode.Is(unicode.Mn, r), unicode.Is(unicode.Me, r):
		return 0
	case r >= 0x1160 && r <= 0x11ff:
		return 0 // Hangul medial vowels and final consonants join the syllable
	case isWide(r):
		return 2
	}
	return 1
}

// wide are the East Asian Wide (W) and Fullwidth (F) ranges of Unicode's
// EastAsianWidth.txt that terminals draw two columns wide, merged where
// close; sorted, for a binary search.
var wide = [...][2]rune{
	{0x1100, 0x115f}, {0x231a, 0x231b}, {0x2329, 0x232a}, {0x23e9, 0x23ec},
	{0x23f0, 0x23f0}, {0x23f3, 0x23f3}, {0x25fd, 0x25fe}, {0x2614, 0x2615},
	{0x2648, 0x2653}, {0x267f, 0x267f}, {0x2693, 0x2693}, {0x26a1, 0x26a1},
	{0x26aa, 0x26ab}, {0x26bd, 0x26be}, {0x26c4, 0x26c5}, {0x26ce, 0x26ce},
	{0x26d4, 0x26d4}, {0x26ea, 0x26ea}, {0x26f2, 0x26f3}, {0x26f5, 0x26f5},
	{0x26fa, 0x26fa}, {0x26fd, 0x26fd}, {0x2705, 0x2705}, {0x270a, 0x270b},
	{0x2728, 0x2728}, {0x274c, 0x274c}, {0x274e, 0x274e}, {0x2753, 0x2755},
	{0x2757, 0x2757}, {0x2795, 0x2797}, {0x27b0, 0x27b0}, {0x27bf, 0x27bf},
	{0x2b1b, 0x2b1c}, {0x2b50, 0x2b50}, {0x2b55, 0x2b55}, {0x2e80, 0x303e},
	{0x3041, 0x33ff}, {0x3400, 0x4dbf}, {0x4e00, 0x9fff}, {0xa000, 0xa4cf},
	{0xa960, 0xa97f}, {0xac00, 0xd7a3}, {0xf900, 0xfaff}, {0xfe10, 0xfe19},
	{0xfe30, 0xfe6f}, {0xff00, 0xff60}, {0xffe0, 0xffe6}, {0x16fe0, 0x16fe4},
	{0x16ff0, 0x16ff1}, {0x17000, 0x18cd5}, {0x18d00, 0x18d08}, {0x1aff0, 0x1b2fb},
	{0x1f004, 0x1f004}, {0x1f0cf, 0x1f0cf}, {0x1f18e, 0x1f18e}, {0x1f191, 0x1f19a},
	{0x1f200, 0x1f202}, {0x1f210, 0x1f23b}, {0x1f240, 0x1f248}, {0x1f250, 0x1f251},
	{0x1f260, 0x1f265}, {0x1f300, 0x1f320}, {0x1f32d, 0x1f335}, {0x1f337, 0x1f37c},
	{0x1f37e, 0x1f393}, {0x1f3a0, 0x1f3ca}, {0x1f3cf, 0x1f3d3}, {0x1f3e0, 0x1f3f0},
	{0x1f3f4, 0x1f3f4}, {0x1f3f8, 0x1f43e}, {0x1f440, 0x1f440}, {0x1f442, 0x1f4fc},
	{0x1f4ff, 0x1f53d}, {0x1f54b, 0x1f54e}, {0x1f550, 0x1f567}, {0x1f57a, 0x1f57a},
	{0x1f595, 0x1f596}, {0x1f5a4, 0x1f5a4}, {0x1f5fb, 0x1f64f}, {0x1f680, 0x1f6c5},
	{0x1f6cc, 0x1f6cc}, {0x1f6d0, 0x1f6d2}, {0x1f6d5, 0x1f6d7}, {0x1f6dc, 0x1f6df},
	{0x1f6eb, 0x1f6ec}, {0x1f6f4, 0x1f6fc}, {0x1f7e0, 0x1f7eb}, {0x1f7f0, 0x1f7f0},
	{0x1f90c, 0x1f93a}, {0x1f93c, 0x1f945}, {0x1f947, 0x1f9ff}, {0x1fa70, 0x1fa7c},
	{0x1fa80, 0x1fa89}, {0x1fa8f, 0x1fac6}, {0x1face, 0x1fadc}, {0x1fadf, 0x1fae9},
	{0x1faf0, 0x1faf8}, {0x20000, 0x2fffd}, {0x30000, 0x3fffd},
}

func isWide(r rune) bool {
	lo, hi := 0, len(wide)
	for lo < hi {
		m := (lo + hi) / 2
		switch {
		case r < wide[m][0]:
			hi = m
		case r > wide[m][1]:
			lo = m + 1
		default:
			return true
		}
	}
	return false
}

// Clip shortens s so that String of the result is at most n columns wide:
// when String(s) is wider, it returns the longest prefix of s (never
// splitting a character or an escape) followed by an ellipsis. Clip
// returns raw text, to be passed to String (or Table) like s.
func Clip(s string, n int) string {
	if Width(String(s)) <= n {
		return s
	}
	w := 0
	for i := 0; i < len(s); {
		m := unsafeAt(s, i, true)
		cw := 4 * m // \xHH per byte
		if m < 0 {
			m = -m
			r, _ := utf8.DecodeRuneInString(s[i:])
			cw = RuneWidth(r)
		}
		if w+cw > n-1 {
			return s[:i] + "…"
		}
		w += cw
		i += m
	}
	return s
}

// AppendTable appends rows to b as left-aligned columns two spaces apart,
// the last column unpadded, each row ending in a newline: what
// text/tabwriter prints with padding 2, except that every cell goes
// through String first and widths are terminal columns (Width), so a wide
// character or an escaped byte does not shift the columns after it. As
// with tabwriter, a row's last cell is printed as it is and does not widen
// its column; rows are meant to be of one length.
func AppendTable(b []byte, rows [][]string) []byte {
	cols := 0
	for _, row := range rows {
		cols = max(cols, len(row))
	}
	safe := make([][]string, len(rows))
	widths := make([]int, cols)
	for i, row := range rows {
		safe[i] = make([]string, len(row))
		for j, cell := range row {
			safe[i][j] = String(cell)
			if j < len(row)-1 { // a last cell is not padded: it sets no width
				widths[j] = max(widths[j], Width(safe[i][j]))
			}
		}
	}
	for _, row := range safe {
		for j, cell := range row {
			b = append(b, cell...)
			if j < len(row)-1 {
				for n := Width(cell); n < widths[j]+2; n++ {
					b = append(b, ' ')
				}
			}
		}
		b = append(b, '\n')
	}
	return b
}

// JSON makes JSON that encoding/json wrote safe for a terminal without
// changing what it says: encoding/json escapes C0 controls and invalid
// UTF-8 but leaves DEL, the C1 controls (U+009B is CSI to a terminal that
// takes UTF-8) and the line-reordering marks raw. JSON rewrites each
// character that String would escape as its \uXXXX escape, which decodes
// to the same string. Outside strings JSON has only ASCII, so only string
// contents change. It returns b itself when there is nothing to rewrite.
func JSON(b []byte) []byte {
	i := 0
	for i < len(b) && !jsonUnsafe(b[i:]) {
		i++
	}
	if i == len(b) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	out = append(out, b[:i]...)
	for i < len(b) {
		if !jsonUnsafe(b[i:]) {
			out = append(out, b[i])
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		out = append(out, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
		i += n
	}
	return out
}

// jsonUnsafe reports whether b starts with a character JSON rewrites.
func jsonUnsafe(b []byte) bool {
	switch {
	case b[0] == 0x7f:
		return true
	case b[0] < utf8.RuneSelf || !utf8.RuneStart(b[0]):
		return false
	}
	r, n := utf8.DecodeRune(b)
	return n > 1 && Unsafe(r)
}
