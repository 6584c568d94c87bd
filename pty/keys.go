package pty

import (
	"strconv"
	"unicode/utf8"

	uv "github.com/charmbracelet/ultraviolet"
)

// keyModes are the terminal modes that change how keys are encoded.
type keyModes struct {
	appCursor bool // DECCKM: arrows send SS3 instead of CSI
	appKeypad bool // DECKPAM: keypad sends SS3 sequences
}

// xtermMod returns xterm's modifier parameter (1 + shift + 2*alt + 4*ctrl +
// 8*meta), or 1 when no modifier applies.
func xtermMod(m uv.KeyMod) int {
	p := 1
	if m&uv.ModShift != 0 {
		p++
	}
	if m&uv.ModAlt != 0 {
		p += 2
	}
	if m&uv.ModCtrl != 0 {
		p += 4
	}
	if m&uv.ModMeta != 0 {
		p += 8
	}
	return p
}

// cursorKeyFinal maps keys that xterm encodes as CSI <final> / SS3 <final>.
var cursorKeyFinal = map[rune]byte{
	uv.KeyUp: 'A', uv.KeyDown: 'B', uv.KeyRight: 'C', uv.KeyLeft: 'D',
	uv.KeyBegin: 'E', uv.KeyHome: 'H', uv.KeyEnd: 'F',
	uv.KeyKpUp: 'A', uv.KeyKpDown: 'B', uv.KeyKpRight: 'C', uv.KeyKpLeft: 'D',
	uv.KeyKpBegin: 'E', uv.KeyKpHome: 'H', uv.KeyKpEnd: 'F',
}

// fnKeyFinal maps F1..F4, which xterm sends as SS3 P..S.
var fnKeyFinal = map[rune]byte{
	uv.KeyF1: 'P', uv.KeyF2: 'Q', uv.KeyF3: 'R', uv.KeyF4: 'S',
}

// tildeKeyNum maps keys that xterm encodes as CSI <n> ~.
var tildeKeyNum = map[rune]int{
	uv.KeyInsert: 2, uv.KeyDelete: 3, uv.KeyPgUp: 5, uv.KeyPgDown: 6,
	uv.KeyKpInsert: 2, uv.KeyKpDelete: 3, uv.KeyKpPgUp: 5, uv.KeyKpPgDown: 6,
	uv.KeyF5: 15, uv.KeyF6: 17, uv.KeyF7: 18, uv.KeyF8: 19, uv.KeyF9: 20,
	uv.KeyF10: 21, uv.KeyF11: 23, uv.KeyF12: 24,
}

// keypadApp maps keypad keys to their application-mode SS3 final byte and
// their numeric-mode text.
var keypadApp = map[rune]struct {
	final byte
	text  string
}{
	uv.KeyKpEnter: {'M', "\r"}, uv.KeyKpEqual: {'X', "="}, uv.KeyKpMultiply: {'j', "*"},
	uv.KeyKpPlus: {'k', "+"}, uv.KeyKpComma: {'l', ","}, uv.KeyKpMinus: {'m', "-"},
	uv.KeyKpDecimal: {'n', "."}, uv.KeyKpDivide: {'o', "/"},
	uv.KeyKp0: {'p', "0"}, uv.KeyKp1: {'q', "1"}, uv.KeyKp2: {'r', "2"}, uv.KeyKp3: {'s', "3"},
	uv.KeyKp4: {'t', "4"}, uv.KeyKp5: {'u', "5"}, uv.KeyKp6: {'v', "6"}, uv.KeyKp7: {'w', "7"},
	uv.KeyKp8: {'x', "8"}, uv.KeyKp9: {'y', "9"},
}

// encodeKey turns a key press into the bytes xterm would send for it. The
// emulator libraries drop ctrl/shift-modified arrows and function keys, which
// shells and editors use for word motion, so every key is encoded here.
func encodeKey(k uv.KeyPressEvent, m keyModes) string {
	mod := k.Mod &^ (uv.ModCapsLock | uv.ModNumLock | uv.ModScrollLock)
	if f, ok := cursorKeyFinal[k.Code]; ok {
		if p := xtermMod(mod); p > 1 {
			return "\x1b[1;" + strconv.Itoa(p) + string(f)
		}
		if m.appCursor {
			return "\x1bO" + string(f)
		}
		return "\x1b[" + string(f)
	}
	if f, ok := fnKeyFinal[k.Code]; ok {
		if p := xtermMod(mod); p > 1 {
			return "\x1b[1;" + strconv.Itoa(p) + string(f)
		}
		return "\x1bO" + string(f)
	}
	if n, ok := tildeKeyNum[k.Code]; ok {
		s := "\x1b[" + strconv.Itoa(n)
		if p := xtermMod(mod); p > 1 {
			s += ";" + strconv.Itoa(p)
		}
		return s + "~"
	}
	if kp, ok := keypadApp[k.Code]; ok {
		if m.appKeypad {
			return "\x1bO" + string(kp.final)
		}
		return kp.text
	}

	alt := ""
	if mod&uv.ModAlt != 0 {
		alt = "\x1b"
	}
	ctrl := mod&uv.ModCtrl != 0
	switch k.Code {
	case uv.KeyEnter:
		return alt + "\r"
	case uv.KeyTab:
		if mod&uv.ModShift != 0 {
			return alt + "\x1b[Z"
		}
		return alt + "\t"
	case uv.KeyBackspace:
		if ctrl {
			return alt + "\x08"
		}
		return alt + "\x7f"
	case uv.KeyEscape:
		return alt + "\x1b"
	case uv.KeySpace:
		if ctrl {
			return alt + "\x00"
		}
		return alt + " "
	}
	if ctrl {
		if c, ok := ctrlByte(k.Code); ok {
			return alt + string([]byte{c})
		}
	}
	if k.Text != "" {
		return alt + k.Text
	}
	if k.Code > 0 && k.Code < utf8.MaxRune && k.Code < uv.KeyExtended {
		r := k.Code
		if mod&uv.ModShift != 0 && r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		return alt + string(r)
	}
	return ""
}

// ctrlByte returns the C0 control a ctrl+key chord sends, as xterm does.
func ctrlByte(r rune) (byte, bool) {
	switch {
	case r >= 'a' && r <= 'z':
		return byte(r - 'a' + 1), true
	case r >= 'A' && r <= 'Z':
		return byte(r - 'A' + 1), true
	case r == '@' || r == '2' || r == ' ':
		return 0, true
	case r == '[' || r == '3':
		return 0x1b, true
	case r == '\\' || r == '4':
		return 0x1c, true
	case r == ']' || r == '5':
		return 0x1d, true
	case r == '^' || r == '6':
		return 0x1e, true
	case r == '_' || r == '-' || r == '/' || r == '7':
		return 0x1f, true
	case r == '?' || r == '8':
		return 0x7f, true
	}
	return 0, false
}
