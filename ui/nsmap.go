package ui

import (
	"fmt"
	"maps"

	"boxtui/runtime/discovery"
	"boxtui/runtime/namespace"
	"boxtui/ui/components/table"
	"boxtui/ui/keymap"
	"boxtui/ui/styles"

	"charm.land/bubbles/v2/help"
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

// nsMap is the map component: its cursor (a row, by the processes it
// stands for, and a column), which containers the user expanded or
// collapsed, and the slots. Its rows are the list's: the root passes
// them down with the host's namespaces.
type nsMap struct {
	keys  keymap.Map
	st    *styles.Styles
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

func (s nsMap) expanded(c discovery.Container) bool {
	if v, ok := s.toggled[c.PID]; ok {
		return v
	}
	return multiSet(c)
}

func newNSMap(keys keymap.Map, st *styles.Styles) nsMap { return nsMap{keys: keys, st: st} }

func (s nsMap) help() help.KeyMap { return s.keys }

// rows are the map's rows: the host, then each container of the list
// (filtered and sorted as the list is), each expanded one followed by its
// processes other than the init.
func (s nsMap) rows(host namespace.Set, list []discovery.Container) []mapRow {
	rows := []mapRow{{kind: mapHost, ns: host}}
	for i := range list {
		c := &list[i]
		r := mapRow{kind: mapContainer, c: c, initPID: c.PID, ns: c.Namespaces, expanded: s.expanded(*c)}
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

// cursor is the index of the cursor's row among rows: the row it names,
// else its container's, else the index it had, held inside.
func (s nsMap) cursor(rows []mapRow) int {
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

// place puts the cursor on row i.
func (s *nsMap) place(rows []mapRow, i int) {
	if len(rows) == 0 {
		return
	}
	i = max(0, min(i, len(rows)-1))
	r := rows[i]
	s.row, s.rowInit, s.rowPID = i, r.initPID, r.pid
}

// open puts the cursor on the container with init PID sel (0: the host)
// and assigns slots to snap's namespaces; the first time, on the column
// that makes a container.
func (s *nsMap) open(snap discovery.Snapshot, list []discovery.Container, sel int) {
	s.slots = assignSlots(s.slots, snap)
	if s.col == 0 && s.rowInit == 0 && s.rowPID == 0 {
		s.col = int(namespace.PID)
	}
	s.rowInit, s.rowPID = sel, 0
	rows := s.rows(snap.Host, list)
	s.place(rows, s.cursor(rows))
}

// update moves the cursor and expands or folds a container's processes;
// keyMoved tells the root to select the container under the cursor, so
// the list shows it on the way back.
func (s nsMap) update(msg tea.KeyPressMsg, host namespace.Set, list []discovery.Container) (nsMap, keyResult) {
	rows := s.rows(host, list)
	cur := s.cursor(rows)
	switch {
	case key.Matches(msg, s.keys.Back):
		return s, keyBack
	case key.Matches(msg, s.keys.Up):
		s.place(rows, cur-1)
		return s, keyMoved
	case key.Matches(msg, s.keys.Down):
		s.place(rows, cur+1)
		return s, keyMoved
	case key.Matches(msg, s.keys.Left):
		s.col = max(0, s.col-1)
	case key.Matches(msg, s.keys.Right):
		s.col = min(len(mapCols)-1, s.col+1)
	case key.Matches(msg, s.keys.Expand):
		r, ok := s.selected(rows)
		if !ok || !r.canOpen {
			return s, keyHandled // the root says why
		}
		t := maps.Clone(s.toggled)
		if t == nil {
			t = map[int]bool{}
		}
		t[r.initPID] = !s.expanded(*r.c)
		s.toggled = t
		// Folding from a process row leaves the cursor on its container.
		s.rowPID = 0
		rows = s.rows(host, list)
		s.place(rows, s.cursor(rows))
		return s, keyMoved
	default:
		return s, keyIgnored
	}
	return s, keyHandled
}

// selected is the container or process row under the cursor (not the
// host's).
func (s nsMap) selected(rows []mapRow) (mapRow, bool) {
	cur := s.cursor(rows)
	if cur >= len(rows) || rows[cur].c == nil {
		return mapRow{}, false
	}
	return rows[cur], true
}

// click puts the cursor on the cell at x, y of a map drawn at body (its
// top-left) in width x height; false when no cell is there.
func (s nsMap) click(host namespace.Set, list []discovery.Container, body rect, height, x, y int) (nsMap, bool) {
	g := s.geometry(body.w, height)
	rows := s.rows(host, list)
	off := table.Offset(s.cursor(rows), len(rows), g.rowsH)
	i := off + y - body.y - 2
	if y < body.y+2 || y >= body.y+2+g.rowsH || i >= len(rows) {
		return s, false
	}
	s.place(rows, i)
	if x >= g.labelW+1 {
		s.col = min(len(mapCols)-1, (x-g.labelW-1)/(g.cellW+1))
	}
	return s, true
}

// openMap shows the namespace map, the cursor on the selected container.
func (m Model) openMap() (tea.Model, tea.Cmd) {
	m.detail, m.focus = detailMap, focusDetail
	sel := 0
	if c, ok := m.selected(); ok {
		sel = c.PID
	}
	m.nsmap.open(m.scan.snap, m.list.rows, sel)
	m.followMap()
	return m, nil
}

// followMap makes the container under the map's cursor the list's
// selection.
func (m *Model) followMap() {
	if m.nsmap.rowInit != 0 {
		m.selectContainer(m.nsmap.rowInit)
	}
}

// mapKey gives a key to the namespace map; ok is false for keys it leaves
// to the list.
func (m Model) mapKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd, bool) {
	if key.Matches(msg, m.keys.Map.Expand) {
		if r, ok := m.nsmap.selected(m.nsmap.rows(m.scan.snap.Host, m.list.rows)); ok && !r.canOpen {
			m.setStatus(fmt.Sprintf("%s has no process besides its init", containerLabel(*r.c)), false)
			return m, nil, true
		}
	}
	var res keyResult
	m.nsmap, res = m.nsmap.update(msg, m.scan.snap.Host, m.list.rows)
	switch res {
	case keyIgnored:
		return m, nil, false
	case keyBack:
		m.detail, m.focus = detailNamespaces, focusList
	case keyMoved:
		m.followMap()
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
	l := m.layout()
	top := l.body.h
	if len(l.panes) > 0 {
		top = l.panes[0].y - l.body.y
	}
	if nm, ok := m.nsmap.click(m.scan.snap.Host, m.list.rows, l.body, top, click.X, click.Y); ok {
		m.nsmap = nm
		m.followMap()
		m.focus = focusDetail
	}
	return m, true
}
