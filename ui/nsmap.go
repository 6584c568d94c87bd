package ui

import (
	"fmt"
	"maps"

	"boxtui/runtime/discovery"
	"boxtui/runtime/namespace"
	"boxtui/ui/components/table"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// The namespace map: every container of the list (and, expanded, its
// processes) against every namespace type. Each distinct namespace of a
// column gets a slot — a letter (A, B, ...) and a colour of its own,
// assigned, so no two namespaces on screen look alike — and keeps it for
// as long as it exists; the host's namespaces are grey and read "host".
// The cursor is on one cell, and every cell holding the same namespace is
// highlighted.

// nsMapState is the map's own state: its cursor (a row, by the processes
// it stands for, and a column), which containers the user expanded or
// collapsed, and the slots.
type nsMapState struct {
	slots nsSlots
	// rowInit and rowPID name the cursor's row: the host (0, 0), a
	// container (its init PID, 0) or a process (init PID, PID); row is
	// its index when last placed, for when that row is gone.
	rowInit, rowPID, row int
	col                  int
	// toggled holds the containers (by init PID) the user expanded
	// (true) or collapsed (false); the others are expanded when their
	// processes differ in a namespace.
	toggled map[int]bool
}

type mapRowKind int

const (
	mapHost mapRowKind = iota
	mapContainer
	mapProcess
)

// mapRow is one row of the map.
type mapRow struct {
	kind     mapRowKind
	c        *discovery.Container
	initPID  int
	pid      int // the process's PID (0 for host and container rows)
	ns       namespace.Set
	expanded bool // a container row whose processes are shown
	canOpen  bool // a container row with processes besides its init
	last     bool // the last process row of its container
}

// multiSet reports whether c's processes differ in any namespace.
func multiSet(c discovery.Container) bool {
	for _, p := range c.Procs {
		if procNS(c, p) != c.Namespaces {
			return true
		}
	}
	return false
}

func (s nsMapState) expanded(c discovery.Container) bool {
	if v, ok := s.toggled[c.PID]; ok {
		return v
	}
	return multiSet(c)
}

// mapRows are the map's rows: the host, then each container of the list
// (filtered and sorted as the list is), each expanded one followed by its
// processes other than the init.
func (m Model) mapRows() []mapRow {
	rows := []mapRow{{kind: mapHost, ns: m.scan.snap.Host}}
	for i := range m.list.rows {
		c := &m.list.rows[i]
		r := mapRow{kind: mapContainer, c: c, initPID: c.PID, ns: c.Namespaces, expanded: m.nsmap.expanded(*c)}
		var procs []mapRow
		for _, p := range c.Procs {
			if p.PID == c.PID {
				continue
			}
			procs = append(procs, mapRow{kind: mapProcess, c: c, initPID: c.PID, pid: p.PID, ns: procNS(*c, p)})
		}
		r.canOpen = len(procs) > 0
		rows = append(rows, r)
		if r.expanded && len(procs) > 0 {
			procs[len(procs)-1].last = true
			rows = append(rows, procs...)
		}
	}
	return rows
}

// mapCursor is the index of the cursor's row among rows: the row it names,
// else its container's, else the index it had, held inside.
func (s nsMapState) mapCursor(rows []mapRow) int {
	for i, r := range rows {
		if r.initPID == s.rowInit && r.pid == s.rowPID {
			return i
		}
	}
	if s.rowPID != 0 {
		for i, r := range rows {
			if r.kind == mapContainer && r.initPID == s.rowInit {
				return i
			}
		}
	}
	return max(0, min(s.row, len(rows)-1))
}

// placeMapCursor puts the cursor on row i and makes its container the
// list's selection, so the list shows it on the way back.
func (m *Model) placeMapCursor(rows []mapRow, i int) {
	if len(rows) == 0 {
		return
	}
	i = max(0, min(i, len(rows)-1))
	r := rows[i]
	m.nsmap.row, m.nsmap.rowInit, m.nsmap.rowPID = i, r.initPID, r.pid
	if r.initPID != 0 {
		m.selectContainer(r.initPID)
	}
}

// openMap shows the namespace map, the cursor on the selected container.
func (m Model) openMap() (tea.Model, tea.Cmd) {
	m.detail, m.focus = detailMap, focusDetail
	m.nsmap.slots = assignSlots(m.nsmap.slots, m.scan.snap)
	if m.nsmap.col == 0 && m.nsmap.rowInit == 0 && m.nsmap.rowPID == 0 {
		m.nsmap.col = int(namespace.PID) // first time: the column that makes a container
	}
	m.nsmap.rowInit, m.nsmap.rowPID = 0, 0
	if c, ok := m.selected(); ok {
		m.nsmap.rowInit = c.PID
	}
	rows := m.mapRows()
	m.placeMapCursor(rows, m.nsmap.mapCursor(rows))
	return m, nil
}

// mapKey handles the keys of the namespace map; ok is false for keys it
// leaves to the list.
func (m Model) mapKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd, bool) {
	k := m.keys.Map
	rows := m.mapRows()
	cur := m.nsmap.mapCursor(rows)
	switch {
	case key.Matches(msg, k.Back):
		m.detail, m.focus = detailNamespaces, focusList
	case key.Matches(msg, k.Up):
		m.placeMapCursor(rows, cur-1)
	case key.Matches(msg, k.Down):
		m.placeMapCursor(rows, cur+1)
	case key.Matches(msg, k.Left):
		m.nsmap.col = max(0, m.nsmap.col-1)
	case key.Matches(msg, k.Right):
		m.nsmap.col = min(len(mapCols)-1, m.nsmap.col+1)
	case key.Matches(msg, k.Expand):
		if cur >= len(rows) || rows[cur].c == nil {
			return m, nil, true
		}
		r := rows[cur]
		if !r.canOpen {
			m.setStatus(fmt.Sprintf("%s has no process besides its init", containerLabel(*r.c)), false)
			return m, nil, true
		}
		open := !m.nsmap.expanded(*r.c)
		t := maps.Clone(m.nsmap.toggled)
		if t == nil {
			t = map[int]bool{}
		}
		t[r.initPID] = open
		m.nsmap.toggled = t
		// Folding from a process row leaves the cursor on its container.
		m.nsmap.rowPID = 0
		rows = m.mapRows()
		m.placeMapCursor(rows, m.nsmap.mapCursor(rows))
	default:
		return m, nil, false
	}
	return m, nil, true
}

// mapMouse takes the clicks on the map (ok): a click on a cell puts the
// cursor there, and no click reaches the list the map is drawn over. The
// panes' clicks and every other mouse event are left to the UI's.
func (m Model) mapMouse(msg tea.MouseMsg) (Model, bool) {
	click, ok := msg.(tea.MouseClickMsg)
	if !ok || m.detail != detailMap || m.forms.active != nil || m.confirm != nil || m.showHelp {
		return m, false
	}
	if _, p, _, _, _ := m.paneAt(click.X, click.Y); p != nil {
		return m, false
	}
	if mm, ok := m.mapClick(click.X, click.Y); ok {
		mm.focus = focusDetail
		return mm, true
	}
	return m, true
}

// mapClick puts the cursor on the cell clicked, when the click is on one.
func (m Model) mapClick(x, y int) (Model, bool) {
	l := m.layout()
	top := l.body.h
	if len(l.panes) > 0 {
		top = l.panes[0].y - l.body.y
	}
	g := m.mapGeometry(l.body.w, top)
	rows := m.mapRows()
	off := table.Offset(m.nsmap.mapCursor(rows), len(rows), g.rowsH)
	i := off + y - l.body.y - 2
	if y < l.body.y+2 || y >= l.body.y+2+g.rowsH || i >= len(rows) {
		return m, false
	}
	m.placeMapCursor(rows, i)
	if x >= g.labelW+1 {
		m.nsmap.col = min(len(mapCols)-1, (x-g.labelW-1)/(g.cellW+1))
	}
	return m, true
}
