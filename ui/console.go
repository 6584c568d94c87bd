package ui

import (
	"fmt"

	tea "charm.land/bubbletea/v2"
)

// A console pane's connection to its holder can break while the holder
// runs (the holder never drops a slow pane, but a socket can still fail):
// the pane then dials again by itself and gets the current screen back
// (launch.Console). The terminal says so on its Notices channel, and the
// status line tells the user what happened.

// noticer is a terminal that reports events on its connection.
type noticer interface {
	Notices() <-chan string
}

type paneNoticeMsg struct {
	id   int
	text string
}

// addPaneWatched adds a pane and, for a terminal that reports events on
// its connection, watches them.
func (m Model) addPaneWatched(msg paneOpenedMsg) (tea.Model, tea.Cmd) {
	nm, cmd := m.addPane(msg)
	n, ok := msg.term.(noticer)
	if !ok {
		return nm, cmd
	}
	return nm, tea.Batch(cmd, watchNotices(nm.(Model).panes.nextID, n, msg.term.Done()))
}

func watchNotices(id int, n noticer, done <-chan struct{}) tea.Cmd {
	return func() tea.Msg {
		select {
		case text := <-n.Notices():
			return paneNoticeMsg{id: id, text: text}
		case <-done:
			return nil
		}
	}
}

// paneNotice shows what happened to a pane's connection and watches on.
func (m Model) paneNotice(msg paneNoticeMsg) (tea.Model, tea.Cmd) {
	i, p := m.panes.byID(msg.id)
	if p == nil {
		return m, nil
	}
	m.setStatus(fmt.Sprintf("pane %d (%s %s): %s", i+1, p.label, p.kind, msg.text), false)
	n, ok := p.term.(noticer)
	if !ok {
		return m, nil
	}
	return m, watchNotices(p.id, n, p.term.Done())
}
