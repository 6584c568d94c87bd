package pty

import (
	"image/color"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// The default colours of the terminal the UI draws on. A pane's default
// colours are that terminal's (cells with no colour are drawn with none),
// so OSC 10/11/12 queries are answered with them: vim and others pick
// light or dark themes by the background. Each holds 1<<24|rrggbb once
// known, 0 while not.
var outerFG, outerBG atomic.Uint32

// SetDefaultColors records the default foreground and background of the
// terminal the panes are drawn on, as the UI learned them from it; every
// Terminal answers colour queries with them from then on. A nil colour
// leaves that one as it was.
func SetDefaultColors(fg, bg color.Color) {
	if fg != nil {
		outerFG.Store(packColour(fg))
	}
	if bg != nil {
		outerBG.Store(packColour(bg))
	}
}

func packColour(c color.Color) uint32 {
	r, g, b, _ := c.RGBA()
	return 1<<24 | (r>>8)<<16 | (g>>8)<<8 | b>>8
}

// queryColour returns the colour OSC cmd (10 foreground, 11 background,
// 12 cursor) asks for: the outer terminal's when known, else a guess from
// COLORFGBG (which some terminals set), else light grey on black, the
// usual terminal default.
func queryColour(cmd int) uint32 {
	fg, bg := outerFG.Load(), outerBG.Load()
	if fg == 0 || bg == 0 {
		dfg, dbg := guessedColours(os.Getenv("COLORFGBG"))
		if fg == 0 {
			fg = dfg
		}
		if bg == 0 {
			bg = dbg
		}
	}
	if cmd == 11 {
		return bg & 0xffffff
	}
	return fg & 0xffffff // the cursor is drawn in the foreground colour
}

// guessedColours reads COLORFGBG ("fg;bg" or "fg;default;bg", palette
// indexes): a background of 7 or 15 is a light terminal.
func guessedColours(env string) (fg, bg uint32) {
	const black, white, grey = 0x000000, 0xffffff, 0xe5e5e5
	parts := strings.Split(env, ";")
	if n, err := strconv.Atoi(parts[len(parts)-1]); err == nil && len(parts) >= 2 && (n == 7 || n == 15) {
		return black, white
	}
	return grey, black
}

// DefaultColors returns the colours SetDefaultColors recorded; each is nil
// while unknown.
func DefaultColors() (fg, bg color.Color) {
	unpack := func(v uint32) color.Color {
		if v == 0 {
			return nil
		}
		return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
	}
	return unpack(outerFG.Load()), unpack(outerBG.Load())
}
