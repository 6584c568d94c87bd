package ui

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"boxtui/internal/termsafe"
	"boxtui/runtime/discovery"
	"boxtui/runtime/namespace"
	"boxtui/ui/components/table"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// The namespace map: every container of the list (and, expanded, its
// processes) against every namespace type. Each distinct namespace of a
// column gets a slot — a letter (A, B, ...) and a colour of its own,
// assigned, so no two namespaces on screen look alike — and keeps it for
// as long as it exists; the host's namespaces are grey and read "host".
// The cursor is on one cell, and every cell holding the same namespace is
// highlighted.

// mapCols are the map's columns: every namespace link a process has.
var mapCols = namespace.All()

// mapGroup is the column whose slots t shares: pid_for_children holds a
// PID namespace, so it is lettered with pid (and time_for_children with
// time); the same namespace reads the same in both.
func mapGroup(t namespace.Type) namespace.Type {
	switch t {
	case namespace.PIDForChildren:
		return namespace.PID
	case namespace.TimeForChildren:
		return namespace.Time
	}
	return t
}

// nsSlots are the slots of the namespaces of each column group, by inode.
type nsSlots map[namespace.Type]map[uint64]int

// procNS is p's namespaces; a process whose links could not be read is
// taken to share its container's init's.
func procNS(c discovery.Container, p discovery.Process) namespace.Set {
	if p.Namespaces == (namespace.Set{}) {
		return c.Namespaces
	}
	return p.Namespaces
}

// hostInodes are the host's namespaces (boxtui's own), of every column.
func hostInodes(host namespace.Set) map[uint64]bool {
	out := map[uint64]bool{}
	for _, ino := range host {
		if ino != 0 {
			out[ino] = true
		}
	}
	return out
}

// assignSlots gives every namespace of snap that is not the host's a slot
// in its column group. A namespace that had a slot in prev keeps it; the
// new ones take the lowest free slots, in order of first appearance
// (containers in discovery order, each init before its processes). So
// slots are unique within a group, and stable while their namespaces live.
func assignSlots(prev nsSlots, snap discovery.Snapshot) nsSlots {
	host := hostInodes(snap.Host)
	order := map[namespace.Type][]uint64{}
	seen := map[namespace.Type]map[uint64]bool{}
	add := func(s namespace.Set) {
		for _, t := range mapCols {
			g, ino := mapGroup(t), s[t]
			if ino == 0 || host[ino] {
				continue
			}
			if seen[g] == nil {
				seen[g] = map[uint64]bool{}
			}
			if !seen[g][ino] {
				seen[g][ino] = true
				order[g] = append(order[g], ino)
			}
		}
	}
	for _, c := range snap.Containers {
		add(c.Namespaces)
		for _, p := range c.Procs {
			add(procNS(c, p))
		}
	}
	out := nsSlots{}
	for g, inos := range order {
		slots := map[uint64]int{}
		used := map[int]bool{}
		for _, ino := range inos {
			if n, ok := prev[g][ino]; ok {
				slots[ino], used[n] = n, true
			}
		}
		next := 0
		for _, ino := range inos {
			if _, ok := slots[ino]; ok {
				continue
			}
			for used[next] {
				next++
			}
			slots[ino], used[next] = next, true
		}
		out[g] = slots
	}
	return out
}

// slotLabel names slot n: A..Z, then AA, AB, ... (as spreadsheet columns).
func slotLabel(n int) string {
	var b []byte
	for n++; n > 0; n = (n - 1) / 26 {
		b = append([]byte{byte('A' + (n-1)%26)}, b...)
	}
	return string(b)
}

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
	rows := []mapRow{{kind: mapHost, ns: m.snap.Host}}
	for i := range m.rows {
		c := &m.rows[i]
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
	m.nsmap.slots = assignSlots(m.nsmap.slots, m.snap)
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

// renderMapTop is the screen above the panes while the map is open: the
// map, and the filter line under it while there is one.
func (m Model) renderMapTop(top int) []string {
	if m.focus == focusFilter || m.filter.Value() != "" {
		mp := padLines(m.renderMap(m.width, top-1), m.width, top-1)
		return append(strings.Split(mp, "\n"), m.st.Filter.Render(table.Fit(m.filter.View(), m.width, false)))
	}
	return strings.Split(padLines(m.renderMap(m.width, top), m.width, top), "\n")
}

// mapMouse takes the clicks on the map (ok): a click on a cell puts the
// cursor there, and no click reaches the list the map is drawn over. The
// panes' clicks and every other mouse event are left to the UI's.
func (m Model) mapMouse(msg tea.MouseMsg) (Model, bool) {
	click, ok := msg.(tea.MouseClickMsg)
	if !ok || m.detail != detailMap || m.form != nil || m.confirm != nil || m.showHelp {
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

// mapGeometry is how the map fits a width x height panel.
type mapGeometry struct {
	labelW, cellW int
	rowsH         int  // rows of the table, under its header
	columnKey     bool // the line that keys the cursor column's letters
	legend        bool // the line that explains colours and letters
}

func (m Model) mapGeometry(width, height int) mapGeometry {
	n := len(mapCols)
	var g mapGeometry
	// Cells: a letter at 80 columns, the last digits of the inode from
	// 100, the whole inode from 160 (a label, a space, 10 digits and,
	// without colour, the mark of a shared one).
	g.cellW = min(14, max(3, (width-16-n)/n))
	g.labelW = width - n*(g.cellW+1)
	// Title, header and the line about the cursor are always there; the
	// column key and the legend go first when the panel is short.
	fixed := 3
	if height-fixed-2 >= 3 {
		g.columnKey, g.legend, fixed = true, true, fixed+2
	} else if height-fixed-1 >= 3 {
		g.columnKey, fixed = true, fixed+1
	}
	g.rowsH = max(1, height-fixed)
	return g
}

// mapHeaders are each column's titles, longest first: the header takes the
// longest that fits.
var mapHeaders = map[namespace.Type][]string{
	namespace.Cgroup:          {"cgroup", "cgrp", "cg"},
	namespace.IPC:             {"ipc"},
	namespace.Mnt:             {"mnt"},
	namespace.Net:             {"net"},
	namespace.PID:             {"pid"},
	namespace.PIDForChildren:  {"pid_for_children", "pid/child", "pid/ch", "pid/c", "p/c"},
	namespace.Time:            {"time", "tim", "t"},
	namespace.TimeForChildren: {"time_for_children", "time/child", "time/ch", "tim/c", "t/c"},
	namespace.User:            {"user", "usr", "u"},
	namespace.UTS:             {"uts"},
}

func mapHeader(t namespace.Type, w int) string {
	hs := mapHeaders[t]
	for _, h := range hs {
		if len(h) <= w {
			return h
		}
	}
	return hs[len(hs)-1]
}

// mapCellText is what a cell says in w cells: its slot's letter and as
// much of the inode as fits ("A 4026532199", "A …2199", "A"), "host" for
// the host's, "?" for a link that could not be read. mark is appended
// when given (NO_COLOR's "shares the cursor's").
func mapCellText(ino uint64, slot int, host bool, w int, mark string) string {
	switch {
	case ino == 0:
		return "?"
	case host:
		if w >= 4+len(mark) {
			return "host" + mark
		}
		return "h" + mark
	}
	label := slotLabel(slot)
	digits := strconv.FormatUint(ino, 10)
	if len(label)+1+len(digits)+len(mark) <= w {
		return label + " " + digits + mark
	}
	if room := w - len(label) - 2 - len(mark); room >= 3 {
		return label + " …" + digits[len(digits)-room:] + mark
	}
	return label + mark
}

// mapRowLabel is a row's first column: "host", "▾ web 4242 bash" for a
// container (▸ folded, ▾ expanded), "  └ 4300 top" for a process; with
// room (long), the whole command line rather than the command's name.
func mapRowLabel(r mapRow, long bool) string {
	switch r.kind {
	case mapHost:
		return "host (boxtui's own)"
	case mapContainer:
		mark := " "
		if r.canOpen {
			mark = "▸"
			if r.expanded {
				mark = "▾"
			}
		}
		c := r.c
		cmd := c.Comm
		if long && c.Command != "" {
			cmd = c.Command
		}
		if n := c.DisplayName(); n != "" {
			return fmt.Sprintf("%s %s %d %s", mark, termsafe.String(n), c.PID, termsafe.String(cmd))
		}
		return fmt.Sprintf("%s %d %s", mark, c.PID, termsafe.String(cmd))
	}
	branch := "├"
	if r.last {
		branch = "└"
	}
	comm := ""
	for _, p := range r.c.Procs {
		if p.PID == r.pid {
			comm = p.Comm
			if long && p.Command != "" {
				comm = p.Command
			}
		}
	}
	return fmt.Sprintf("  %s %d %s", branch, r.pid, termsafe.String(comm))
}

// renderMap draws the namespace map in width x height.
func (m Model) renderMap(width, height int) string {
	st := m.st
	if !m.scanned {
		return st.Section.Render(table.Fit("namespace map", width, false)) + "\n" + st.Muted.Render(table.Fit("scanning /proc…", width, false))
	}
	g := m.mapGeometry(width, height)
	rows := m.mapRows()
	cur := m.nsmap.mapCursor(rows)
	col := max(0, min(m.nsmap.col, len(mapCols)-1))
	host := hostInodes(m.snap.Host)
	var selIno uint64
	if cur < len(rows) {
		selIno = rows[cur].ns[mapCols[col]]
	}
	slotOf := func(t namespace.Type, ino uint64) int {
		if n, ok := m.nsmap.slots[mapGroup(t)][ino]; ok {
			return n
		}
		return -1 // not assigned yet (the map opened before this scan)
	}

	off := table.Offset(cur, len(rows), g.rowsH)
	title := "namespace map: which containers share which namespaces"
	if len(rows) > g.rowsH {
		last := min(off+g.rowsH, len(rows))
		title += fmt.Sprintf(" · rows %d-%d of %d", off+1, last, len(rows))
	}
	out := []string{st.Section.Render(table.Fit(title, width, false))}

	// The header; the cursor's column stands out.
	var hb strings.Builder
	hb.WriteString(st.Header.Render(table.Fit("", g.labelW, false)))
	for i, t := range mapCols {
		hb.WriteByte(' ')
		hs := st.Header
		if i == col {
			hs = st.Selected
		}
		hb.WriteString(hs.Render(table.Fit(mapHeader(t, g.cellW), g.cellW, false)))
	}
	out = append(out, table.Fit(hb.String(), width, false))

	for i := off; i < len(rows) && i < off+g.rowsH; i++ {
		r := rows[i]
		var b strings.Builder
		ls := st.Cell
		if r.kind == mapHost {
			ls = st.Muted
		}
		if i == cur {
			ls = st.Selected
		}
		b.WriteString(ls.Render(table.Fit(mapRowLabel(r, g.labelW >= 40), g.labelW, false)))
		for j, t := range mapCols {
			b.WriteByte(' ')
			ino := r.ns[t]
			isHost := host[ino]
			slot := slotOf(t, ino)
			shared := ino != 0 && ino == selIno
			mark := ""
			if shared && st.NoColor {
				mark = "*"
			}
			text := mapCellText(ino, slot, isHost, g.cellW, mark)
			if slot < 0 && !isHost && ino != 0 {
				text = "…" // no slot until the next scan
			}
			text = table.Fit(text, g.cellW, false)
			style := st.MapSlot(slot)
			hostSlot := slot
			if isHost {
				style, hostSlot = st.HostInode, -1
			}
			if ino == 0 {
				style = st.Muted
			}
			switch {
			case i == cur && j == col:
				style = st.MapCursor(hostSlot)
			case shared:
				style = st.MapShared(hostSlot)
			}
			b.WriteString(style.Render(text))
		}
		out = append(out, table.Fit(b.String(), width, false))
	}
	// What the cursor is on, and the keys, go right under the rows.
	out = append(out, st.Status.Render(table.Fit(m.mapCursorLine(rows, cur, col), width, false)))
	if g.columnKey {
		out = append(out, table.Fit(m.mapColumnKey(mapCols[col], width), width, false))
	}
	if g.legend {
		// The longest that fits.
		legend := []string{
			"one letter and colour per namespace of a column · grey host = the host's · highlighted = shares the cursor's",
			"A, B, …: a column's namespaces, one colour each; grey: the host's",
		}
		if st.NoColor {
			legend = []string{
				"one letter per namespace of a column (A ≠ B) · host = the host's · * = shares the cursor's namespace",
				"A, B, …: a column's namespaces; host: the host's; *: shares the cursor's",
			}
		}
		expand := fmt.Sprintf(" · %s: processes", m.keys.Map.Expand.Help().Key)
		text := legend[1]
		for _, l := range []string{legend[0] + expand, legend[1] + expand} {
			if ansi.StringWidth(l) <= width {
				text = l
				break
			}
		}
		out = append(out, st.Muted.Render(table.Fit(text, width, false)))
	}
	return strings.Join(out, "\n")
}

// mapCursorLine says what the cursor's cell holds: the namespace's inode
// and who else is in it.
func (m Model) mapCursorLine(rows []mapRow, cur, col int) string {
	if cur >= len(rows) {
		return ""
	}
	t := mapCols[col]
	ino := rows[cur].ns[t]
	if ino == 0 {
		return fmt.Sprintf("%s ?: the link could not be read (the process may have just exited)", t)
	}
	var names []string
	containers, procs := 0, 0
	for _, c := range m.snap.Containers {
		in := 0
		for _, p := range c.Procs {
			if inSet(procNS(c, p), ino) {
				in++
			}
		}
		if len(c.Procs) == 0 && inSet(c.Namespaces, ino) {
			in = 1
		}
		if in > 0 {
			containers++
			procs += in
			names = append(names, shortLabel(c))
		}
	}
	who := fmt.Sprintf("%s, %s", plural(containers, "container", "containers"), plural(procs, "process", "processes"))
	if len(names) > 0 {
		if len(names) > 4 {
			names = append(names[:4], "…")
		}
		who += " (" + strings.Join(names, ", ") + ")"
	}
	if hostInodes(m.snap.Host)[ino] {
		return fmt.Sprintf("%s host = %s:[%d], the host's namespace; also in it: %s", t, t, ino, who)
	}
	label := "…"
	if n, ok := m.nsmap.slots[mapGroup(t)][ino]; ok {
		label = slotLabel(n)
	}
	return fmt.Sprintf("%s %s = %s:[%d], shared by %s", t, label, t, ino, who)
}

// inSet reports whether ino is one of s's namespaces.
func inSet(s namespace.Set, ino uint64) bool {
	for _, x := range s {
		if x == ino {
			return true
		}
	}
	return false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// mapColumnKey keys the cursor column's letters to their inodes, each in
// its colour: "mnt: A 4026532199 · B 4026532210 · host 4026531841".
func (m Model) mapColumnKey(t namespace.Type, width int) string {
	slots := m.nsmap.slots[mapGroup(t)]
	byslot := make(map[int]uint64, len(slots))
	for ino, n := range slots {
		byslot[n] = ino
	}
	order := slices.Sorted(maps.Keys(byslot))
	parts := []string{m.st.Header.Render(t.String() + ":")}
	if h := m.snap.Host[t]; h != 0 {
		parts = append(parts, m.st.HostInode.Render(fmt.Sprintf("host %d", h)))
	}
	w := ansi.StringWidth(strings.Join(parts, " "))
	for _, n := range order {
		if w >= width {
			break
		}
		ino := byslot[n]
		p := m.st.MapSlot(n).Render(fmt.Sprintf("%s %d", slotLabel(n), ino))
		parts = append(parts, p)
		w += 1 + ansi.StringWidth(p)
	}
	return strings.Join(parts, " ")
}
