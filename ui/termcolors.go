package ui

import (
	"boxtui/pty"

	tea "charm.land/bubbletea/v2"
)

// termColorsFilter hands the outer terminal's default colours to the
// panes' emulator as the terminal reports them, then passes every message
// on to next: programs in a pane that ask for the colours (vim, to pick a
// light or dark theme) get the ones they are really drawn on.
func termColorsFilter(next func(tea.Model, tea.Msg) tea.Msg) func(tea.Model, tea.Msg) tea.Msg {
	return func(m tea.Model, msg tea.Msg) tea.Msg {
		switch c := msg.(type) {
		case tea.ForegroundColorMsg:
			pty.SetDefaultColors(c.Color, nil)
		case tea.BackgroundColorMsg:
			pty.SetDefaultColors(nil, c.Color)
		}
		return next(m, msg)
	}
}

// requestTermColors asks the terminal for its default colours once the
// program runs; the answers come back through termColorsFilter.
func requestTermColors(p *tea.Program) {
	go func() {
		p.Send(tea.RequestForegroundColor())
		p.Send(tea.RequestBackgroundColor())
	}()
}
