package ui

import (
	"fmt"
	"strings"

	"boxtui/runtime/discovery"
	"boxtui/runtime/events"
	"boxtui/ui/components/table"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// eventsKeyShown is the history key of the selected container while the
// event history is on screen, else "": the file is read only then.
func (m Model) eventsKeyShown() string {
	if m.detail != detailEvents {
		return ""
	}
	if c, ok := m.selected(); ok {
		return events.Key(c)
	}
	return ""
}

func readEvents(b Backend, k string) eventsMsg {
	evs, err := b.Events(k)
	if err != nil {
		err = fmt.Errorf("read event history of %s: %w", k, err)
	}
	return eventsMsg{key: k, events: evs, err: err}
}

func (m Model) eventsCmd() tea.Cmd {
	k := m.eventsKeyShown()
	if k == "" {
		return nil
	}
	b := m.backend
	return func() tea.Msg { return readEvents(b, k) }
}

// applyEvents installs a history read for key, if it is still the one on
// screen.
func (m *Model) applyEvents(msg eventsMsg) {
	if msg.err != nil {
		m.setStatus(msg.err.Error(), true)
	}
	if msg.key != m.eventsKeyShown() {
		return
	}
	if msg.key != m.events.of {
		m.events.off = 0
	}
	m.events.list, m.events.of = msg.events, msg.key
	m.events.off = min(m.events.off, max(len(m.events.list)-1, 0))
}

// eventsKey handles the keys of the event history.
func (m Model) eventsKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd, bool) {
	k := m.keys.Events
	switch {
	case key.Matches(msg, k.Back):
		m.detail, m.focus = detailNamespaces, focusList
	case key.Matches(msg, k.Up):
		m.events.off = min(m.events.off+1, max(len(m.events.list)-1, 0))
	case key.Matches(msg, k.Down):
		m.events.off = max(m.events.off-1, 0)
	default:
		return m, nil, false
	}
	return m, nil, true
}

// renderEvents draws the selected container's history, newest last: the
// newest events that fit, or older ones when scrolled back.
func (m Model) renderEvents(c discovery.Container, width, height int) string {
	key := events.Key(c)
	head := fmt.Sprintf("event history of %s — newest last", containerLabel(c))
	if m.events.of == key && len(m.events.list) > 0 {
		head = fmt.Sprintf("event history of %s — %d, newest last", containerLabel(c), len(m.events.list))
	}
	title := m.st.Section.Render(table.Fit(head, width, false))
	if m.events.of != key {
		return padLines(title+"\n"+m.st.Muted.Render("reading history…"), width, height)
	}
	if len(m.events.list) == 0 {
		return padLines(title+"\n"+m.st.Muted.Render(table.Fit("no events recorded yet: boxtui records starts, exits, kills, execs and mounts as they happen", width, false)), width, height)
	}
	cols := []table.Column{
		{Title: "TIME", Width: 8},
		{Title: "AGO", Width: 6, Right: true},
		{Title: "EVENT", Width: 13},
		{Title: "BY", Width: 11}, // "boxtui exec"
		{Title: "DETAIL", Width: 10, Flex: true},
	}
	n := max(height-2, 1) // title and header
	end := len(m.events.list) - m.events.off
	start := max(end-n, 0)
	rows := make([][]table.Cell, 0, end-start)
	for _, e := range m.events.list[start:end] {
		ago := "-"
		if !m.scan.at.IsZero() {
			ago = formatUptime(m.scan.at.Sub(e.Time))
		}
		by := e.By
		if by == "" {
			by = "-"
		}
		rows = append(rows, []table.Cell{
			{Text: e.Time.Local().Format("15:04:05")}, {Text: ago}, {Text: e.Kind}, {Text: by}, {Text: e.Detail},
		})
	}
	if m.events.off > 0 {
		title = m.st.Section.Render(table.Fit(fmt.Sprintf("%s (scrolled back %d; ↓ for newer)", head, m.events.off), width, false))
	}
	t := table.Table{Columns: cols, Rows: rows, Width: width, Height: len(rows) + 1, Cursor: -1,
		Styles: table.Styles{Header: m.st.Header, Cell: m.st.Cell, Selected: m.st.Selected}}
	return strings.Join([]string{title, t.Render()}, "\n")
}

// eventsView is the selected container's history (of is its events key);
// off is how many events the view is scrolled back from the newest.
type eventsView struct {
	list []events.Event
	of   string
	off  int
}
