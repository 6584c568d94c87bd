package ui

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"boxtui/internal/termsafe"
	"boxtui/runtime/namespace"
	"boxtui/ui/components/table"
)

// renderMapTop is the screen above the panes while the map is open: the
// map, and the filter line under it while there is one.
func (m Model) renderMapTop(top int) []string {
	if m.focus == focusFilter || m.list.filter.Value() != "" {
		mp := padLines(m.renderMap(m.width, top-1), m.width, top-1)
		return append(strings.Split(mp, "\n"), m.st.Filter.Render(table.Fit(m.list.filter.View(), m.width, false)))
	}
	return strings.Split(padLines(m.renderMap(m.width, top), m.width, top), "\n")
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
	if !m.scan.done {
		return st.Section.Render(table.Fit("namespace map", width, false)) + "\n" + st.Muted.Render(table.Fit("scanning /proc…", width, false))
	}
	g := m.mapGeometry(width, height)
	rows := m.mapRows()
	cur := m.nsmap.mapCursor(rows)
	col := max(0, min(m.nsmap.col, len(mapCols)-1))
	host := hostInodes(m.scan.snap.Host)
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
	for _, c := range m.scan.snap.Containers {
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
	if hostInodes(m.scan.snap.Host)[ino] {
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
	if h := m.scan.snap.Host[t]; h != 0 {
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
