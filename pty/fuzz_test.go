package pty

import (
	"strings"
	"testing"
)

// FuzzVT feeds arbitrary output, with resizes mixed in, and checks that the
// screen stays well formed: the reader goroutine must never panic, whatever
// a program prints.
func FuzzVT(f *testing.F) {
	for _, s := range []string{
		"abc\r\n\x1b[2J\x1b[5;5Hx",
		"\x1b[?1049h\x1b[1;24r\x1b[24;1H\n\n\x1bM\x1b[?1049l",
		"中文\x1b[1;2H\x1b[3@e\u0301\x1b(0lqk\x1b#8\x1b[10b",
		"\x1b[38:2::1:2:3m\x1b[4:3m\x1b[58;5;3mx\x1b[2;1r\x1b[?6h\x1b[99;99H\x1b[6n",
		"\x1b]0;title\x07\x1b[?2004h\x1b[c\x1b[>c\x1b[?25l\x1b[3J",
	} {
		f.Add([]byte(s), uint8(10), uint8(4))
	}
	f.Fuzz(func(t *testing.T, data []byte, c, r uint8) {
		v := newVT(7, 3, 5, func(string) {})
		cols, rows := int(c%40)+1, int(r%20)+1
		half := len(data) / 2
		v.write(data[:half])
		v.resize(cols, rows)
		v.write(data[half:])
		v.resize(7, 3)
		v.write(data)
		check := func() {
			if v.x < 0 || v.x >= v.cols || v.y < 0 || v.y >= v.rows {
				t.Fatalf("cursor %d,%d outside %dx%d", v.x, v.y, v.cols, v.rows)
			}
			if v.top < 0 || v.bot >= v.rows || v.top > v.bot {
				t.Fatalf("scroll region %d..%d outside %d rows", v.top, v.bot, v.rows)
			}
			for y := range v.rows {
				if n := len(v.buf.line(y).cells); n != v.cols {
					t.Fatalf("line %d has %d cells, want %d", y, n, v.cols)
				}
			}
		}
		check()
		var b strings.Builder
		v.render(&b)
	})
}
