package ui

import (
	"fmt"
	"strings"

	"boxtui/pty"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// historyTerminal is a Terminal with a scrollback copy mode can read
// (pty.Terminal, and so the backend's console and exec terminals).
type historyTerminal interface {
	History() *pty.History
}

// enterCopyMode starts copy mode in p. It reports false, with a status,
// when p's terminal has no scrollback to show.
func (m *Model) enterCopyMode(p *pane, byWheel bool) bool {
	if p.copy != nil {
		return true
	}
	ht, ok := p.term.(historyTerminal)
	if !ok {
		m.setStatus("this pane keeps no scrollback", true)
		return false
	}
	p.copy = newCopyMode(ht.History(), p.rows, p.cx, p.cy)
	p.copy.byWheel = byWheel
	return true
}

// copyModeKey handles a key of the focused pane that belongs to copy mode:
// every key while the pane is in it, and the key that starts it. ok is
// false for a key that goes to the program.
func (m Model) copyModeKey(p *pane, msg tea.KeyPressMsg) (_ tea.Model, _ tea.Cmd, ok bool) {
	if p.copy == nil {
		if !key.Matches(msg, m.panes.keys.CopyMode) {
			return m, nil, false
		}
		if m.enterCopyMode(p, false) {
			p.copy.page(-p.copy.rows)
		}
		return m, nil, true
	}
	r := p.copy.key(m.panes.copyKeys, msg)
	if r.leave {
		p.copy = nil
	}
	if r.copy {
		return m, m.copyToClipboard(r.clip), true
	}
	return m, nil, true
}

// copyToClipboard sends text to the system clipboard through the outer
// terminal (OSC 52) and says so.
func (m *Model) copyToClipboard(text string) tea.Cmd {
	n := len([]rune(text))
	lines := strings.Count(text, "\n") + 1
	m.setStatus(fmt.Sprintf("copied %d character(s) on %d line(s) to the clipboard (OSC 52)", n, lines), false)
	return tea.SetClipboard(text)
}

// listCopyMode is the list's key for copy mode: the last focused pane gets
// the keyboard back, in copy mode (ctrl+] then [, as tmux's prefix-[).
func (m Model) listCopyMode() (tea.Model, tea.Cmd) {
	p := m.panes.focused()
	if p == nil {
		if len(m.panes.all) == 0 {
			m.setStatus("no pane to scroll back in", true)
			return m, nil
		}
		m.panes.focus, p = len(m.panes.all)-1, m.panes.all[len(m.panes.all)-1]
	}
	if m.enterCopyMode(p, false) {
		m.focus = focusPane
	}
	return m, nil
}
