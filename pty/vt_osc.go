// OSC sequences: the window title and colour queries.

package pty

import (
	"strconv"
	"strings"
)

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
