package ui

import (
	"image/color"
	"testing"

	"boxtui/pty"

	tea "charm.land/bubbletea/v2"
)

// TestTermColorsFilter checks that the outer terminal's colours, as
// bubbletea reports them, reach the panes' emulator and that the message
// still goes on.
func TestTermColorsFilter(t *testing.T) {
	var seen []tea.Msg
	f := termColorsFilter(func(_ tea.Model, msg tea.Msg) tea.Msg { seen = append(seen, msg); return msg })
	bg := tea.BackgroundColorMsg{Color: color.RGBA{R: 0xfd, G: 0xf6, B: 0xe3, A: 0xff}}
	fg := tea.ForegroundColorMsg{Color: color.RGBA{R: 0x65, G: 0x7b, B: 0x83, A: 0xff}}
	f(nil, bg)
	f(nil, fg)
	gotFG, gotBG := pty.DefaultColors()
	if gotBG != bg.Color || gotFG != fg.Color {
		t.Fatalf("emulator has fg %v bg %v, want %v %v", gotFG, gotBG, fg.Color, bg.Color)
	}
	if len(seen) != 2 {
		t.Fatalf("filter passed on %d messages, want 2", len(seen))
	}
}
