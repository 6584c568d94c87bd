package pty

import (
	"strconv"
	"unicode/utf8"

	uv "github.com/charmbracelet/ultraviolet"
)

// Mouse reporting: which events a program asked for (DECSET 9, 1000,
// 1002, 1003) and how it wants them encoded (1005, 1006, 1015), and the
// encoder that turns a mouse event in pane coordinates into what xterm
// would send.

// Mouse tracking modes, by their DECSET numbers.
const (
	MouseOff    = 0
	MouseX10    = 9    // presses only, no modifiers
	MouseNormal = 1000 // presses and releases (and the wheel)
	MouseButton = 1002 // ... and motion while a button is held
	MouseAny    = 1003 // ... and any motion
)

// Mouse encodings, by their DECSET numbers; 0 is xterm's original
// "CSI M" with bytes, which cannot say a coordinate past 222.
const (
	MouseEncX10   = 0
	MouseEncUTF8  = 1005
	MouseEncSGR   = 1006
	MouseEncURXVT = 1015
)

// MouseMode is what a program turned on.
type MouseMode struct {
	Tracking int  // MouseOff, MouseX10, MouseNormal, MouseButton or MouseAny
	UTF8     bool // 1005
	SGR      bool // 1006
	URXVT    bool // 1015
}

// Encoding is the encoding events are sent in: SGR wins over URXVT over
// UTF-8 when a program set several (as tmux decides).
func (m MouseMode) Encoding() int {
	switch {
	case m.SGR:
		return MouseEncSGR
	case m.URXVT:
		return MouseEncURXVT
	case m.UTF8:
		return MouseEncUTF8
	}
	return MouseEncX10
}

// set applies DECSET/DECRST of a mouse mode. As in xterm and tmux,
// resetting any tracking mode turns tracking off. It reports whether m is
// a mouse mode.
func (m *MouseMode) set(mode int, on bool) bool {
	switch mode {
	case MouseX10, MouseNormal, MouseButton, MouseAny:
		if on {
			m.Tracking = mode
		} else {
			m.Tracking = MouseOff
		}
	case MouseEncUTF8:
		m.UTF8 = on
	case MouseEncSGR:
		m.SGR = on
	case MouseEncURXVT:
		m.URXVT = on
	default:
		return false
	}
	return true
}

// get answers DECRQM for a mouse mode.
func (m MouseMode) get(mode int) (set, known bool) {
	switch mode {
	case MouseX10, MouseNormal, MouseButton, MouseAny:
		return m.Tracking == mode, true
	case MouseEncUTF8:
		return m.UTF8, true
	case MouseEncSGR:
		return m.SGR, true
	case MouseEncURXVT:
		return m.URXVT, true
	}
	return false, false
}

// MouseKind is what happened.
type MouseKind int

const (
	MousePress MouseKind = iota
	MouseRelease
	MouseMotion
	MouseWheel
)

// MouseEvent is a mouse event in pane coordinates: X, Y are 0-based cells
// of the pane's screen. For motion, Button is the button held (MouseNone
// for none).
type MouseEvent struct {
	Kind MouseKind
	uv.Mouse
}

// Limits of the encodings without decimal numbers: a byte holds 32 + 1 +
// 222 at most, a two-byte UTF-8 character 32 + 1 + 2014. tmux drops events
// past them, and so do we: a clamped coordinate would click the wrong cell.
const (
	x10Max  = 255 - 33
	utf8Max = 0x7ff - 33
)

// EncodeMouse returns what a program that set mode gets for ev, or "" when
// mode does not report ev (tracking off, a release in X10 mode, motion
// without 1002/1003, a coordinate the encoding cannot say).
func EncodeMouse(ev MouseEvent, mode MouseMode) string {
	if ev.X < 0 || ev.Y < 0 {
		return ""
	}
	switch mode.Tracking {
	case MouseOff:
		return ""
	case MouseX10:
		if ev.Kind != MousePress && ev.Kind != MouseWheel {
			return ""
		}
	case MouseNormal:
		if ev.Kind == MouseMotion {
			return ""
		}
	case MouseButton:
		if ev.Kind == MouseMotion && ev.Button == uv.MouseNone {
			return ""
		}
	}
	if ev.Kind == MouseRelease && isWheel(ev.Button) {
		return "" // the wheel has no release
	}
	cb, ok := buttonCode(ev.Button)
	if !ok {
		return ""
	}
	if ev.Kind == MouseWheel && !isWheel(ev.Button) {
		return ""
	}
	if ev.Kind == MouseMotion {
		cb += 32
	}
	if mode.Tracking != MouseX10 {
		if ev.Mod.Contains(uv.ModShift) {
			cb += 4
		}
		if ev.Mod.Contains(uv.ModAlt) {
			cb += 8
		}
		if ev.Mod.Contains(uv.ModCtrl) {
			cb += 16
		}
	}
	x, y := ev.X+1, ev.Y+1
	enc := mode.Encoding()
	if enc == MouseEncSGR {
		final := "M"
		if ev.Kind == MouseRelease {
			final = "m"
		}
		return "\x1b[<" + strconv.Itoa(cb) + ";" + strconv.Itoa(x) + ";" + strconv.Itoa(y) + final
	}
	// The other encodings say a release as button 3: which one was let go
	// is lost.
	if ev.Kind == MouseRelease {
		cb = cb&(4|8|16) | 3
	}
	switch enc {
	case MouseEncURXVT:
		return "\x1b[" + strconv.Itoa(cb+32) + ";" + strconv.Itoa(x) + ";" + strconv.Itoa(y) + "M"
	case MouseEncUTF8:
		if ev.X > utf8Max || ev.Y > utf8Max {
			return ""
		}
		b := []byte("\x1b[M")
		for _, v := range []int{cb + 32, x + 32, y + 32} {
			b = utf8.AppendRune(b, rune(v))
		}
		return string(b)
	}
	if ev.X > x10Max || ev.Y > x10Max || cb+32 > 255 {
		return ""
	}
	return "\x1b[M" + string([]byte{byte(cb + 32), byte(x + 32), byte(y + 32)})
}

func isWheel(b uv.MouseButton) bool {
	return b >= uv.MouseWheelUp && b <= uv.MouseWheelRight
}

// buttonCode is xterm's button number: 0-2 left, middle, right; 3 none;
// 64-67 the wheel; 128-131 buttons 8-11.
func buttonCode(b uv.MouseButton) (int, bool) {
	switch {
	case b == uv.MouseNone:
		return 3, true
	case b >= uv.MouseLeft && b <= uv.MouseRight:
		return int(b - uv.MouseLeft), true
	case isWheel(b):
		return 64 + int(b-uv.MouseWheelUp), true
	case b >= uv.MouseBackward && b <= uv.MouseButton11:
		return 128 + int(b-uv.MouseBackward), true
	}
	return 0, false
}

// MouseMode returns the mouse reporting the program turned on.
func (t *Terminal) MouseMode() MouseMode {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.vt.mouse
}

// SendMouse sends ev to the program, encoded as it asked; it reports
// false, sending nothing, when the program's modes do not report ev.
func (t *Terminal) SendMouse(ev MouseEvent) bool {
	t.mu.Lock()
	s := EncodeMouse(ev, t.vt.mouse)
	t.mu.Unlock()
	if s == "" {
		return false
	}
	t.queueInput([]byte(s))
	return true
}
