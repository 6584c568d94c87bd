package ui

import (
	"fmt"
	"strings"
	"time"

	"boxtui/runtime/discovery"
	"boxtui/runtime/events"
	"boxtui/ui/components/table"
	"boxtui/ui/keymap"
	"boxtui/ui/styles"

	"charm.land/bubbles/v2/help"
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
	m.events.apply(msg, m.eventsKeyShown())
}

// eventsView is the event history of the selected container: the events
// read (of is their key, events.Key of the container) and how many events
// the view is scrolled back from the newest (off).
type eventsView struct {
	keys keymap.Events
	st   *styles.Styles
	list []events.Event
	of   string
	off  int
}

func newEventsView(keys keymap.Events, st *styles.Styles) eventsView {
	return eventsView{keys: keys, st: st}
}

func (v eventsView) help() help.KeyMap { return v.keys }

// apply installs a history read, unless it is not of shown, the history
// now on screen.
func (v *eventsView) apply(msg eventsMsg, shown string) {
	if msg.key != shown {
		return
	}
	if msg.key != v.of {
		v.off = 0
	}
	v.list, v.of = msg.events, msg.key
	v.off = min(v.off, max(len(v.list)-1, 0))
}

// update scrolls through the history.
func (v eventsView) update(msg tea.KeyPressMsg) (eventsView, keyResult) {
	switch {
	case key.Matches(msg, v.keys.Back):
		return v, keyBack
	case key.Matches(msg, v.keys.Up):
		v.off = min(v.off+1, max(len(v.list)-1, 0))
	case key.Matches(msg, v.keys.Down):
		v.off = max(v.off-1, 0)
	default:
		return v, keyIgnored
	}
	return v, keyHandled
}

// view draws c's history, newest last: the newest events that fit, or
// older ones when scrolled back; ages are counted to now.
func (v eventsView) view(c discovery.Container, now time.Time, width, height int) string {
	key := events.Key(c)
	head := fmt.Sprintf("event history of %s — newest last", containerLabel(c))
	if v.of == key && len(v.list) > 0 {
		head = fmt.Sprintf("event history of %s — %d, newest last", containerLabel(c), len(v.list))
	}
	title := v.st.Section.Render(table.Fit(head, width, false))
	if v.of != key {
		return padLines(title+"\n"+v.st.Muted.Render("reading history…"), width, height)
	}
	if len(v.list) == 0 {
		return padLines(title+"\n"+v.st.Muted.Render(table.Fit("no events recorded yet: boxtui records starts, exits, kills, execs and mounts as they happen", width, false)), width, height)
	}
	cols := []table.Column{
		{Title: "TIME", Width: 8},
		{Title: "AGO", Width: 6, Right: true},
		{Title: "EVENT", Width: 13},
		{Title: "BY", Width: 11}, // "boxtui exec"
		{Title: "DETAIL", Width: 10, Flex: true},
	}
	n := max(height-2, 1) // title and header
	end := len(v.list) - v.off
	start := max(end-n, 0)
	rows := make([][]table.Cell, 0, end-start)
	for _, e := range v.list[start:end] {
		ago := "-"
		if !now.IsZero() {
			ago = formatUptime(now.Sub(e.Time))
		}
		by := e.By
		if by == "" {
			by = "-"
		}
		rows = append(rows, []table.Cell{
			{Text: e.Time.Local().Format("15:04:05")}, {Text: ago}, {Text: e.Kind}, {Text: by}, {Text: e.Detail},
		})
	}
	if v.off > 0 {
		title = v.st.Section.Render(table.Fit(fmt.Sprintf("%s (scrolled back %d; ↓ for newer)", head, v.off), width, false))
	}
	t := table.Table{Columns: cols, Rows: rows, Width: width, Height: len(rows) + 1, Cursor: -1,
		Styles: table.Styles{Header: v.st.Header, Cell: v.st.Cell, Selected: v.st.Selected}}
	return strings.Join([]string{title, t.Render()}, "\n")
}
