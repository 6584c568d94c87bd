package ui

import (
	"strconv"
	"strings"
	"sync"

	"charm.land/bubbles/v2/key"
)

// What View draws alike every time, kept.
//
// A pane's output changes the pane's lines only, but View draws the pane
// borders and the help line again for it, through lipgloss and the help
// component: ~35 of the ~100 us the event loop spends on an echo before
// fastDraw. The frame clock keeps what they drew, keyed by everything
// they drew it from (the styles do not change while the UI runs). A nil
// clock (tests) keeps nothing.

type viewMemo struct {
	mu      sync.Mutex
	borders map[borderKey]string
	helpSig string
	help    string
}

type borderKey struct {
	focused bool
	s       string
}

// memoBorders is how many border strings are kept at most: a few per
// pane (top, side, bottom, focused or not).
const memoBorders = 64

// border returns render(s), the border s of a pane drawn in the style of a
// focused pane or not, as drawn before when it was.
func (fc *frameClock) border(focused bool, s string, render func(...string) string) string {
	if fc == nil {
		return render(s)
	}
	m := &fc.memo
	m.mu.Lock()
	defer m.mu.Unlock()
	k := borderKey{focused, s}
	if out, ok := m.borders[k]; ok {
		return out
	}
	if m.borders == nil || len(m.borders) >= memoBorders {
		m.borders = make(map[borderKey]string)
	}
	out := render(s)
	m.borders[k] = out
	return out
}

// helpLine returns render(bindings), the help line of bindings at width,
// as drawn before when the bindings were the same (keys, help, enabled).
func (fc *frameClock) helpLine(bindings []key.Binding, width int, render func([]key.Binding) string) string {
	if fc == nil {
		return render(bindings)
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(width))
	for _, k := range bindings {
		b.WriteByte(0)
		b.WriteString(strconv.FormatBool(k.Enabled()))
		b.WriteByte(1)
		b.WriteString(strings.Join(k.Keys(), "\x02"))
		b.WriteByte(1)
		b.WriteString(k.Help().Key)
		b.WriteByte(1)
		b.WriteString(k.Help().Desc)
	}
	sig := b.String()
	m := &fc.memo
	m.mu.Lock()
	defer m.mu.Unlock()
	if sig != m.helpSig {
		m.help, m.helpSig = render(bindings), sig
	}
	return m.help
}
