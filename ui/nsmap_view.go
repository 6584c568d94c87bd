package ui

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"boxtui/internal/termsafe"
	"boxtui/runtime/discovery"
	"boxtui/runtime/namespace"
	"boxtui/ui/components/table"
)

// renderMapTop is the screen above the panes while the map is open: the
// map, and the filter line under it while there is one.
func (m Model) renderMapTop(top int) []string {
	view := func(h int) string {
		return padLines(m.nsmap.view(m.scan.snap, m.list.rows, m.scan.done, m.width, h), m.width, h)
	}
	if m.focus == focusFilter || m.list.filter.Value() != "" {
		return append(strings.Split(view(top-1), "\n"), m.list.filterView(true, m.width))
	}
	return strings.Split(view(top), "\n")
}

// mapGeometry is how the map fits a width x height panel.
type mapGeometry struct {
	labelW, cellW int
	rowsH         int  // rows of the table, under its header
	columnKey     bool // the line that keys the cursor column's letters
	legend        bool // the line that explains colours and letters
}

func (v nsMap) geometry(width, height int) mapGeometry {
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

// view draws the map of snap's host and the list's containers (filtered
// and sorted as the list is) in width x height.
func (v nsMap) view(snap discovery.Snapshot, list []discovery.Container, scanned bool, width, height int) string {
	st := v.st
	if !scanned {
		return st.Section.Render(table.Fit("namespace map", width, false)) + "\n" + st.Muted.Render(table.Fit("scanning /proc…", width, false))
	}
	g := v.geometry(width, height)
	rows := v.rows(snap.Host, list)
	cur := v.cursor(rows)
	col := max(0, min(v.col, len(mapCols)-1))
	host := hostInodes(snap.Host)
	var selIno uint64
	if cur < len(rows) {
		selIno = rows[cur].ns[mapCols[col]]
	}
	slotOf := func(t namespace.Type, ino uint64) int {
		if n, ok := v.slots[mapGroup(t)][ino]; ok {
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
	out = append(out, st.Status.Render(table.Fit(v.cursorLine(snap, rows, cur, col), width, false)))
	if g.columnKey {
		out = append(out, table.Fit(v.columnKey(snap.Host, mapCols[col], width), width, false))
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
		expand := fmt.Sprintf(" · %s: processes", v.keys.Expand.Help().Key)
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

// cursorLine says what the cursor's cell holds: the namespace's inode and
// who else (of snap's containers) is in it.
func (v nsMap) cursorLine(snap discovery.Snapshot, rows []mapRow, cur, col int) string {
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
	for _, c := range snap.Containers {
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
	if hostInodes(snap.Host)[ino] {
		return fmt.Sprintf("%s host = %s:[%d], the host's namespace; also in it: %s", t, t, ino, who)
	}
	label := "…"
	if n, ok := v.slots[mapGroup(t)][ino]; ok {
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

// columnKey keys the cursor column's letters to their inodes, each in its
// colour: "mnt: A 4026532199 · B 4026532210 · host 4026531841".
func (v nsMap) columnKey(host namespace.Set, t namespace.Type, width int) string {
	slots := v.slots[mapGroup(t)]
	byslot := make(map[int]uint64, len(slots))
	for ino, n := range slots {
		byslot[n] = ino
	}
	order := slices.Sorted(maps.Keys(byslot))
	parts := []string{v.st.Header.Render(t.String() + ":")}
	if h := host[t]; h != 0 {
		parts = append(parts, v.st.HostInode.Render(fmt.Sprintf("host %d", h)))
	}
	w := ansi.StringWidth(strings.Join(parts, " "))
	for _, n := range order {
		if w >= width {
			break
		}
		ino := byslot[n]
		p := v.st.MapSlot(n).Render(fmt.Sprintf("%s %d", slotLabel(n), ino))
		parts = append(parts, p)
		w += 1 + ansi.StringWidth(p)
	}
	return strings.Join(parts, " ")
}
