package pty

import (
	"os/exec"
	"testing"

	uv "github.com/charmbracelet/ultraviolet"
)

func mev(kind MouseKind, b uv.MouseButton, x, y int, mod uv.KeyMod) MouseEvent {
	return MouseEvent{Kind: kind, Mouse: uv.Mouse{X: x, Y: y, Button: b, Mod: mod}}
}

// TestEncodeMouse checks every tracking mode and encoding against what
// xterm sends, with coordinates at the edges of each encoding.
func TestEncodeMouse(t *testing.T) {
	sgr := MouseMode{Tracking: MouseNormal, SGR: true}
	x10 := MouseMode{Tracking: MouseNormal}
	for _, tt := range []struct {
		name string
		ev   MouseEvent
		mode MouseMode
		want string
	}{
		{"off sends nothing", mev(MousePress, uv.MouseLeft, 0, 0, 0), MouseMode{}, ""},
		{"off with sgr set sends nothing", mev(MousePress, uv.MouseLeft, 0, 0, 0), MouseMode{SGR: true}, ""},
		// SGR: 1-based decimal, M press, m release with the button kept.
		{"sgr left press at origin", mev(MousePress, uv.MouseLeft, 0, 0, 0), sgr, "\x1b[<0;1;1M"},
		{"sgr left release", mev(MouseRelease, uv.MouseLeft, 4, 2, 0), sgr, "\x1b[<0;5;3m"},
		{"sgr right press", mev(MousePress, uv.MouseRight, 9, 1, 0), sgr, "\x1b[<2;10;2M"},
		{"sgr middle press", mev(MousePress, uv.MouseMiddle, 9, 1, 0), sgr, "\x1b[<1;10;2M"},
		{"sgr wheel up", mev(MouseWheel, uv.MouseWheelUp, 3, 3, 0), sgr, "\x1b[<64;4;4M"},
		{"sgr wheel down", mev(MouseWheel, uv.MouseWheelDown, 3, 3, 0), sgr, "\x1b[<65;4;4M"},
		{"sgr wheel right", mev(MouseWheel, uv.MouseWheelRight, 3, 3, 0), sgr, "\x1b[<67;4;4M"},
		{"sgr button 8", mev(MousePress, uv.MouseBackward, 0, 0, 0), sgr, "\x1b[<128;1;1M"},
		{"sgr shift alt ctrl", mev(MousePress, uv.MouseLeft, 0, 0, uv.ModShift|uv.ModAlt|uv.ModCtrl), sgr, "\x1b[<28;1;1M"},
		{"sgr far coordinates", mev(MousePress, uv.MouseLeft, 999, 499, 0), sgr, "\x1b[<0;1000;500M"},
		{"sgr no motion in 1000", mev(MouseMotion, uv.MouseLeft, 1, 1, 0), sgr, ""},
		{"sgr drag in 1002", mev(MouseMotion, uv.MouseLeft, 1, 1, 0), MouseMode{Tracking: MouseButton, SGR: true}, "\x1b[<32;2;2M"},
		{"sgr no plain motion in 1002", mev(MouseMotion, uv.MouseNone, 1, 1, 0), MouseMode{Tracking: MouseButton, SGR: true}, ""},
		{"sgr plain motion in 1003", mev(MouseMotion, uv.MouseNone, 1, 1, 0), MouseMode{Tracking: MouseAny, SGR: true}, "\x1b[<35;2;2M"},
		{"sgr right drag in 1003", mev(MouseMotion, uv.MouseRight, 1, 1, 0), MouseMode{Tracking: MouseAny, SGR: true}, "\x1b[<34;2;2M"},
		{"wheel has no release", mev(MouseRelease, uv.MouseWheelUp, 1, 1, 0), sgr, ""},
		{"sgr wins over urxvt and utf8", mev(MousePress, uv.MouseLeft, 0, 0, 0), MouseMode{Tracking: MouseNormal, SGR: true, URXVT: true, UTF8: true}, "\x1b[<0;1;1M"},
		// X10 bytes: 32+button, 33+x, 33+y; a release is button 3.
		{"x10 bytes press", mev(MousePress, uv.MouseLeft, 0, 0, 0), x10, "\x1b[M !!"},
		{"x10 bytes release is 3", mev(MouseRelease, uv.MouseRight, 1, 2, 0), x10, "\x1b[M#\"#"},
		{"x10 bytes release keeps modifiers", mev(MouseRelease, uv.MouseLeft, 1, 2, uv.ModCtrl), x10, "\x1b[M3\"#"},
		{"x10 bytes wheel", mev(MouseWheel, uv.MouseWheelDown, 0, 0, 0), x10, "\x1b[Ma!!"},
		{"x10 bytes last column it can say", mev(MousePress, uv.MouseLeft, 222, 222, 0), x10, "\x1b[M \xff\xff"},
		{"x10 bytes past 222 is dropped", mev(MousePress, uv.MouseLeft, 223, 0, 0), x10, ""},
		{"x10 bytes past 222 down is dropped", mev(MousePress, uv.MouseLeft, 0, 223, 0), x10, ""},
		{"x10 bytes button 11 drag with every modifier", mev(MouseMotion, uv.MouseButton11, 0, 0, uv.ModCtrl|uv.ModAlt|uv.ModShift), MouseMode{Tracking: MouseAny}, "\x1b[M\xdf!!"},
		// Mode 9: presses only, no modifiers.
		{"mode 9 press drops modifiers", mev(MousePress, uv.MouseLeft, 0, 0, uv.ModCtrl), MouseMode{Tracking: MouseX10}, "\x1b[M !!"},
		{"mode 9 no release", mev(MouseRelease, uv.MouseLeft, 0, 0, 0), MouseMode{Tracking: MouseX10, SGR: true}, ""},
		{"mode 9 no motion", mev(MouseMotion, uv.MouseLeft, 0, 0, 0), MouseMode{Tracking: MouseX10}, ""},
		// UTF-8 (1005): values past 127 as two-byte characters.
		{"utf8 small is bytes", mev(MousePress, uv.MouseLeft, 0, 0, 0), MouseMode{Tracking: MouseNormal, UTF8: true}, "\x1b[M !!"},
		{"utf8 column 300", mev(MousePress, uv.MouseLeft, 299, 0, 0), MouseMode{Tracking: MouseNormal, UTF8: true}, "\x1b[M " + string(rune(300+32)) + "!"},
		{"utf8 last it can say", mev(MousePress, uv.MouseLeft, 2014, 0, 0), MouseMode{Tracking: MouseNormal, UTF8: true}, "\x1b[M " + string(rune(0x7ff)) + "!"},
		{"utf8 past its limit is dropped", mev(MousePress, uv.MouseLeft, 2015, 0, 0), MouseMode{Tracking: MouseNormal, UTF8: true}, ""},
		// URXVT (1015): decimal, 32+button, release as 3.
		{"urxvt press", mev(MousePress, uv.MouseLeft, 0, 0, 0), MouseMode{Tracking: MouseNormal, URXVT: true}, "\x1b[32;1;1M"},
		{"urxvt release", mev(MouseRelease, uv.MouseLeft, 299, 9, 0), MouseMode{Tracking: MouseNormal, URXVT: true}, "\x1b[35;300;10M"},
		{"negative coordinates dropped", mev(MousePress, uv.MouseLeft, -1, 0, 0), sgr, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := EncodeMouse(tt.ev, tt.mode); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestMouseModesTracked: the emulator records what the program turns on,
// answers DECRQM for it, and any tracking reset turns tracking off (as
// xterm and tmux do).
func TestMouseModesTracked(t *testing.T) {
	v, replies := feed(t, 10, 3, "\x1b[?1000h\x1b[?1006h")
	if want := (MouseMode{Tracking: MouseNormal, SGR: true}); v.mouse != want {
		t.Fatalf("after 1000h 1006h: %+v, want %+v", v.mouse, want)
	}
	v.write([]byte("\x1b[?1003h\x1b[?1005h\x1b[?1015h"))
	if want := (MouseMode{Tracking: MouseAny, SGR: true, UTF8: true, URXVT: true}); v.mouse != want {
		t.Fatalf("after 1003h 1005h 1015h: %+v, want %+v", v.mouse, want)
	}
	v.write([]byte("\x1b[?1003$p\x1b[?1000$p\x1b[?1015$p\x1b[?9$p"))
	if got, want := replies.String(), "\x1b[?1003;1$y\x1b[?1000;2$y\x1b[?1015;1$y\x1b[?9;2$y"; got != want {
		t.Fatalf("DECRQM replies %q, want %q", got, want)
	}
	v.write([]byte("\x1b[?1000l\x1b[?1006l"))
	if want := (MouseMode{UTF8: true, URXVT: true}); v.mouse != want {
		t.Fatalf("after 1000l 1006l: %+v, want %+v", v.mouse, want)
	}
	v.write([]byte("\x1b[?9h\x1bc"))
	if v.mouse != (MouseMode{}) {
		t.Fatalf("after RIS: %+v", v.mouse)
	}
}

// TestSendMouseReachesTheProgram: a program on a real PTY that turned on
// SGR mouse reporting reads the click; one that did not reads nothing.
func TestSendMouseReachesTheProgram(t *testing.T) {
	term := startShell(t, `stty raw -echo; printf '\033[?1002h\033[?1006hREADY\r\n'; dd bs=1 count=10 2>/dev/null | tr '\033' E; sleep 5`)
	waitText(t, term, "READY")
	if got := term.MouseMode(); got != (MouseMode{Tracking: MouseButton, SGR: true}) {
		t.Fatalf("mouse mode %+v", got)
	}
	if !term.SendMouse(mev(MousePress, uv.MouseLeft, 11, 4, 0)) {
		t.Fatal("SendMouse said the program does not want a press")
	}
	waitText(t, term, "E[<0;12;5M")
}

func startShell(t *testing.T, script string) *Terminal {
	t.Helper()
	term := New(40, 10)
	if err := term.Start(exec.Command("sh", "-c", script)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { term.Close() })
	return term
}
