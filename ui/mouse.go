package ui

import (
	"boxtui/pty"

	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"
)

// The mouse over a pane goes to its program when the program turned mouse
// reporting on (and the pane is not in copy mode), in pane coordinates and
// the program's encoding; otherwise the UI keeps it: a click focuses, the
// wheel scrolls back (copy mode) or, on the alternate screen, sends arrow
// keys, and a left drag selects text to copy, as in tmux.

// mouseTerminal is a Terminal that reports mouse events to its program.
type mouseTerminal interface {
	MouseMode() pty.MouseMode
	SendMouse(ev pty.MouseEvent) bool
	AltScreen() bool
}

// paneMouse is a pane's mouse state between events.
type paneMouse struct {
	captured bool // a press went to the program: its drags and release follow
	pressed  bool // the UI kept a left press: a drag selects
	dragged  bool // ... and the mouse has moved since
	px, py   int  // where the press was, in the pane's screen
}

// wheelLines is how far one wheel notch scrolls, as in tmux and xterm.
const wheelLines = 3

// mouseMode is the outer terminal's mouse mode: every motion only while
// the focused pane's program asked for it (1003).
func (m Model) mouseMode() tea.MouseMode {
	if p := m.panes.focused(); p != nil && m.focus == focusPane && p.copy == nil {
		if mt, ok := p.term.(mouseTerminal); ok && mt.MouseMode().Tracking == pty.MouseAny {
			return tea.MouseModeAllMotion
		}
	}
	return tea.MouseModeCellMotion
}

// paneAt finds the pane under x, y: its index, and the cell of its screen
// (inside false on its border).
func (m Model) paneAt(x, y int) (i int, p *pane, px, py int, inside bool) {
	for i, p := range m.panes.all {
		r := p.rect
		if x >= r.x && x < r.x+r.w && y >= r.y && y < r.y+r.h {
			px, py = x-r.x-1, y-r.y-1
			return i, p, px, py, px >= 0 && py >= 0 && px < p.cols && py < p.rows
		}
	}
	return -1, nil, 0, 0, false
}

// clampToPane returns x, y in p's screen coordinates, held inside it: a
// drag that leaves the pane goes on at its edge.
func clampToPane(p *pane, x, y int) (int, int) {
	return max(0, min(x-p.rect.x-1, p.cols-1)), max(0, min(y-p.rect.y-1, p.rows-1))
}

// sendMouse reports ev to p's program if it asked for it.
func (m Model) sendMouse(p *pane, kind pty.MouseKind, ev tea.Mouse, x, y int) bool {
	if p.copy != nil {
		return false
	}
	mt, ok := p.term.(mouseTerminal)
	if !ok {
		return false
	}
	pe := pty.MouseEvent{Kind: kind, Mouse: uv.Mouse{X: x, Y: y, Button: ev.Button, Mod: ev.Mod}}
	mode := mt.MouseMode()
	if pty.EncodeMouse(pe, mode) == "" {
		return mode.Tracking != pty.MouseOff // it wants the mouse, not this event
	}
	p.do(func() { mt.SendMouse(pe) })
	return true
}

// mouse handles every mouse message.
func (m Model) mouse(msg tea.MouseMsg) (tea.Model, tea.Cmd) {
	if m.forms.active != nil || m.confirm != nil || m.showHelp {
		if _, click := msg.(tea.MouseClickMsg); !click && m.forms.active != nil {
			return m.updateForm(msg) // as before the UI took the mouse
		}
		return m, nil
	}
	ev := msg.Mouse()
	switch msg := msg.(type) {
	case tea.MouseClickMsg:
		// A press starts afresh: a release the UI never saw (let go
		// outside the window) must not leave a pane capturing the mouse.
		for _, q := range m.panes.all {
			q.mouse = paneMouse{}
		}
		i, p, x, y, inside := m.paneAt(ev.X, ev.Y)
		if p == nil || !inside {
			return m.mouseClick(msg)
		}
		m.panes.focus, m.focus = i, focusPane
		if m.sendMouse(p, pty.MousePress, ev, x, y) {
			p.mouse.captured = true
			return m, nil
		}
		if ev.Button == tea.MouseLeft {
			p.mouse.pressed, p.mouse.px, p.mouse.py = true, x, y
			if p.copy != nil {
				p.copy.pointAt(x, y)
			}
		}
		return m, nil

	case tea.MouseMotionMsg:
		for _, p := range m.panes.all {
			x, y := clampToPane(p, ev.X, ev.Y)
			switch {
			case p.mouse.captured:
				m.sendMouse(p, pty.MouseMotion, ev, x, y)
				return m, nil
			case p.mouse.pressed:
				if p.copy == nil {
					// A drag on a program that does not take the mouse
					// selects, in copy mode, from where it began.
					if !m.enterCopyMode(p, false) {
						p.mouse = paneMouse{}
						return m, nil
					}
					p.copy.pointAt(p.mouse.px, p.mouse.py)
				}
				if !p.mouse.dragged {
					p.mouse.dragged = true
					p.copy.startSelection()
				}
				p.copy.pointAt(x, y)
				return m, nil
			}
		}
		// Plain motion goes to the focused program that asked for it.
		if _, p, x, y, inside := m.paneAt(ev.X, ev.Y); inside && p == m.panes.focused() && m.focus == focusPane {
			m.sendMouse(p, pty.MouseMotion, ev, x, y)
		}
		return m, nil

	case tea.MouseReleaseMsg:
		for _, p := range m.panes.all {
			x, y := clampToPane(p, ev.X, ev.Y)
			switch {
			case p.mouse.captured:
				p.mouse = paneMouse{}
				m.sendMouse(p, pty.MouseRelease, ev, x, y)
				return m, nil
			case p.mouse.pressed:
				dragged := p.mouse.dragged
				p.mouse = paneMouse{}
				if dragged && p.copy != nil && p.copy.selecting {
					text := p.copy.selection()
					p.copy = nil
					return m, m.copyToClipboard(text)
				}
				return m, nil
			}
		}
		return m, nil

	case tea.MouseWheelMsg:
		_, p, x, y, inside := m.paneAt(ev.X, ev.Y)
		if p == nil {
			return m, nil
		}
		if inside && m.sendMouse(p, pty.MouseWheel, ev, x, y) {
			return m, nil
		}
		return m.wheel(p, ev.Button)
	}
	return m, nil
}

// wheel scrolls p when its program does not take the mouse: copy mode on
// the main screen (entered by the first notch up, left by scrolling back
// to the bottom), arrow keys on the alternate screen (less, man), as
// xterm's alternate scroll does.
func (m Model) wheel(p *pane, b tea.MouseButton) (tea.Model, tea.Cmd) {
	up := b == tea.MouseWheelUp
	if b != tea.MouseWheelUp && b != tea.MouseWheelDown {
		return m, nil
	}
	if p.copy == nil {
		if mt, ok := p.term.(mouseTerminal); ok && mt.AltScreen() {
			k := uv.KeyPressEvent{Code: uv.KeyDown}
			if up {
				k.Code = uv.KeyUp
			}
			for range wheelLines {
				p.do(func() { p.term.SendKey(k) })
			}
			return m, nil
		}
		if !up || !m.enterCopyMode(p, true) {
			return m, nil
		}
	}
	if up {
		p.copy.scroll(-wheelLines)
	} else {
		p.copy.scroll(wheelLines)
		if p.copy.byWheel && p.copy.offset() == 0 && !p.copy.selecting {
			p.copy = nil
		}
	}
	return m, nil
}
