package ui

import (
	"slices"
	"time"

	"boxtui/runtime/discovery"

	tea "charm.land/bubbletea/v2"
)

// scanState is the host as last scanned, and the scan loop's bookkeeping.
type scanState struct {
	snap  discovery.Snapshot
	at    time.Time
	done  bool // a scan has answered
	users map[int]string
	busy  bool // a scan is in flight
	// tickID names the newest refresh tick: older ones are stale.
	tickID int
}

type (
	scanMsg struct {
		snap  discovery.Snapshot
		usage map[int]discovery.Usage
		users map[int]string
		at    time.Time
		err   error
		// tree and events ride along when their view is on screen.
		tree   *discovery.PIDNamespaceNode
		events *eventsMsg
	}
	// tickMsg is a refresh tick; id names it (scanState.tickID).
	tickMsg struct{ id int }
)

func (m Model) scanCmd() tea.Cmd {
	b, now := m.backend, m.opts.Now
	wantTree := m.detail == detailTree
	evKey := m.eventsKeyShown()
	return func() tea.Msg {
		snap, usage, err := b.Scan()
		var uids []int
		for _, c := range snap.Containers {
			for _, p := range c.Procs {
				if !slices.Contains(uids, p.UID) {
					uids = append(uids, p.UID)
				}
			}
		}
		msg := scanMsg{snap: snap, usage: usage, users: b.UserNames(uids), at: now(), err: err}
		if err == nil && wantTree {
			msg.tree = b.NamespaceTree(snap)
		}
		if err == nil && evKey != "" {
			ev := readEvents(b, evKey)
			msg.events = &ev
		}
		return msg
	}
}

func (m Model) tickCmd() tea.Cmd {
	id := m.scan.tickID
	return tea.Tick(m.opts.Refresh, func(time.Time) tea.Msg { return tickMsg{id: id} })
}

// applyScan shows a scan: the list, the views that follow the selection,
// and the usage history; then the next tick is set.
func (m Model) applyScan(msg scanMsg) (tea.Model, tea.Cmd) {
	m.scan.busy = false
	if msg.err != nil {
		m.setStatus("scan: "+msg.err.Error(), true)
	} else {
		m.scan.snap, m.scan.at, m.scan.users, m.scan.done = msg.snap, msg.at, msg.users, true
		m.usage.record(m.scan.snap, msg.usage) // first: the list may be sorted by it
		m.nsmap.slots = assignSlots(m.nsmap.slots, m.scan.snap)
		m.list.apply(m.scan.snap.Containers, m.usage.last)
		if c, ok := m.selected(); ok {
			m.procs.follow(c)
		}
		m.procs.pruneMarks(m.scan.snap)
		if msg.tree != nil && m.detail == detailTree {
			m.tree.set(msg.tree)
		}
		if msg.events != nil {
			m.applyEvents(*msg.events)
		}
		// The list's height follows its row count, and the panes take
		// the rest.
		m.layoutPanes()
		if len(msg.snap.Warnings) > 0 && m.status.text == "" {
			m.setStatus(msg.snap.Warnings[0].Error(), false)
		}
	}
	m.scan.tickID++
	cmds := []tea.Cmd{m.tickCmd()}
	if m.detail == detailMounts {
		if c, ok := m.selected(); ok && c.PID != m.mounts.of {
			cmds = append(cmds, m.mountsCmd(c))
		}
	}
	return m, tea.Batch(cmds...)
}

// tick starts a scan on the newest tick. A tick from before the last scan
// (or a rescan on demand) is stale.
func (m Model) tick(msg tickMsg) (tea.Model, tea.Cmd) {
	if msg.id != m.scan.tickID {
		return m, nil
	}
	return m.scanNow()
}

// scanNow starts a scan unless one is in flight.
func (m Model) scanNow() (tea.Model, tea.Cmd) {
	if m.scan.busy {
		return m, nil
	}
	m.scan.busy = true
	return m, m.scanCmd()
}
