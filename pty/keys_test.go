package pty

import (
	"testing"

	uv "github.com/charmbracelet/ultraviolet"
)

func TestEncodeKey(t *testing.T) {
	tests := []struct {
		name string
		key  uv.KeyPressEvent
		mode keyModes
		want string
	}{
		{"letter", uv.KeyPressEvent{Code: 'a', Text: "a"}, keyModes{}, "a"},
		{"shifted letter", uv.KeyPressEvent{Code: 'a', Text: "A", Mod: uv.ModShift}, keyModes{}, "A"},
		{"ctrl+c", uv.KeyPressEvent{Code: 'c', Mod: uv.ModCtrl}, keyModes{}, "\x03"},
		{"ctrl+]", uv.KeyPressEvent{Code: ']', Mod: uv.ModCtrl}, keyModes{}, "\x1d"},
		{"alt+b", uv.KeyPressEvent{Code: 'b', Mod: uv.ModAlt}, keyModes{}, "\x1bb"},
		{"ctrl+alt+a", uv.KeyPressEvent{Code: 'a', Mod: uv.ModAlt | uv.ModCtrl}, keyModes{}, "\x1b\x01"},
		{"enter", uv.KeyPressEvent{Code: uv.KeyEnter}, keyModes{}, "\r"},
		{"backspace", uv.KeyPressEvent{Code: uv.KeyBackspace}, keyModes{}, "\x7f"},
		{"shift+tab", uv.KeyPressEvent{Code: uv.KeyTab, Mod: uv.ModShift}, keyModes{}, "\x1b[Z"},
		{"up", uv.KeyPressEvent{Code: uv.KeyUp}, keyModes{}, "\x1b[A"},
		{"up app", uv.KeyPressEvent{Code: uv.KeyUp}, keyModes{appCursor: true}, "\x1bOA"},
		{"ctrl+left", uv.KeyPressEvent{Code: uv.KeyLeft, Mod: uv.ModCtrl}, keyModes{}, "\x1b[1;5D"},
		{"shift+right app", uv.KeyPressEvent{Code: uv.KeyRight, Mod: uv.ModShift}, keyModes{appCursor: true}, "\x1b[1;2C"},
		{"alt+up", uv.KeyPressEvent{Code: uv.KeyUp, Mod: uv.ModAlt}, keyModes{}, "\x1b[1;3A"},
		{"ctrl+shift+home", uv.KeyPressEvent{Code: uv.KeyHome, Mod: uv.ModCtrl | uv.ModShift}, keyModes{}, "\x1b[1;6H"},
		{"end", uv.KeyPressEvent{Code: uv.KeyEnd}, keyModes{}, "\x1b[F"},
		{"delete", uv.KeyPressEvent{Code: uv.KeyDelete}, keyModes{}, "\x1b[3~"},
		{"ctrl+delete", uv.KeyPressEvent{Code: uv.KeyDelete, Mod: uv.ModCtrl}, keyModes{}, "\x1b[3;5~"},
		{"pgup", uv.KeyPressEvent{Code: uv.KeyPgUp}, keyModes{}, "\x1b[5~"},
		{"f1", uv.KeyPressEvent{Code: uv.KeyF1}, keyModes{}, "\x1bOP"},
		{"shift+f1", uv.KeyPressEvent{Code: uv.KeyF1, Mod: uv.ModShift}, keyModes{}, "\x1b[1;2P"},
		{"f5", uv.KeyPressEvent{Code: uv.KeyF5}, keyModes{}, "\x1b[15~"},
		{"ctrl+f12", uv.KeyPressEvent{Code: uv.KeyF12, Mod: uv.ModCtrl}, keyModes{}, "\x1b[24;5~"},
		{"keypad 5", uv.KeyPressEvent{Code: uv.KeyKp5}, keyModes{}, "5"},
		{"keypad 5 app", uv.KeyPressEvent{Code: uv.KeyKp5}, keyModes{appKeypad: true}, "\x1bOu"},
		{"ctrl+space", uv.KeyPressEvent{Code: uv.KeySpace, Mod: uv.ModCtrl}, keyModes{}, "\x00"},
		{"unicode", uv.KeyPressEvent{Code: 'é', Text: "é"}, keyModes{}, "é"},
	}
	for _, tt := range tests {
		if got := encodeKey(tt.key, tt.mode); got != tt.want {
			t.Errorf("%s: encodeKey = %q, want %q", tt.name, got, tt.want)
		}
	}
}
