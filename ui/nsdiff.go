package ui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"boxtui/runtime/discovery"
	"boxtui/runtime/namespace"
	"boxtui/ui/components/table"
)

// maxMarks is how many processes the namespace diff compares.
const maxMarks = 2

// findProc looks a marked process up in the snapshot, in any container, so
// a mark survives moving to another container's process view.
func (m Model) findProc(k procKey) (discovery.Process, bool) {
	for _, c := range m.scan.snap.Containers {
		for _, p := range c.Procs {
			if p.PID == k.pid && p.StartTime == k.start {
				if p.Namespaces == (namespace.Set{}) {
					p.Namespaces = c.Namespaces
				}
				return p, true
			}
		}
	}
	return discovery.Process{}, false
}

// toggleMark marks the process under the cursor, or unmarks it. A third
// mark drops the oldest, so the diff is always of the last two picked.
func (m *Model) toggleMark() {
	c, ok := m.selected()
	if !ok || m.procs.cur >= len(c.Procs) {
		return
	}
	p := c.Procs[m.procs.cur]
	k := procKey{p.PID, p.StartTime}
	if i := slices.Index(m.procs.marks, k); i >= 0 {
		m.procs.marks = slices.Delete(m.procs.marks, i, i+1)
		m.setStatus(fmt.Sprintf("unmarked PID %d", p.PID), false)
		return
	}
	if len(m.procs.marks) == maxMarks {
		m.procs.marks = m.procs.marks[1:]
	}
	m.procs.marks = append(m.procs.marks, k)
	if len(m.procs.marks) == 1 {
		m.setStatus(fmt.Sprintf("marked PID %d: mark another (in any container) to compare", p.PID), false)
	} else {
		m.setStatus("", false)
	}
}

// pruneMarks forgets marked processes that have exited.
func (m *Model) pruneMarks() {
	m.procs.marks = slices.DeleteFunc(m.procs.marks, func(k procKey) bool {
		_, ok := m.findProc(k)
		return !ok
	})
}

// markLabel is the mark column of process p: "A" or "B" for the diff's
// rows, blank when unmarked.
func (m Model) markLabel(p discovery.Process) string {
	switch slices.Index(m.procs.marks, procKey{p.PID, p.StartTime}) {
	case 0:
		return "A"
	case 1:
		return "B"
	}
	return ""
}

// diffHeight is how many lines renderDiff draws with the current marks.
func (m Model) diffHeight() int {
	switch len(m.procs.marks) {
	case 0:
		return 0
	case 1:
		return 1
	}
	return 5
}

// renderDiff compares the namespaces of the two marked processes type by
// type: a row per process, then one that says shared or different, so
// the words carry the answer even without colour.
func (m Model) renderDiff(width int) string {
	if len(m.procs.marks) == 0 {
		return ""
	}
	a, ok := m.findProc(m.procs.marks[0])
	if !ok {
		return ""
	}
	if len(m.procs.marks) == 1 {
		return m.st.Muted.Render(table.Fit(fmt.Sprintf("A = PID %d; mark a second process with %s to compare namespaces", a.PID, m.keys.Processes.Mark.Help().Key), width, false))
	}
	b, ok := m.findProc(m.procs.marks[1])
	if !ok {
		return ""
	}
	diffs := namespace.Compare(a.Namespaces, b.Namespaces)
	byType := map[string]namespace.Diff{}
	for _, d := range diffs {
		byType[d.Type] = d
	}
	var shared, differ []string
	for _, t := range viewNS {
		if byType[t.String()].Shared {
			shared = append(shared, t.String())
		} else {
			differ = append(differ, t.String())
		}
	}
	summary := fmt.Sprintf("PID %d vs %d: ", a.PID, b.PID)
	switch {
	case len(differ) == 0:
		summary += "every namespace shared"
	case len(shared) == 0:
		summary += "no namespace shared"
	default:
		summary += "different " + strings.Join(differ, ",") + " · shared " + strings.Join(shared, ",")
	}
	labelW := 12
	colW := max(min(10, (width-labelW-len(viewNS))/len(viewNS)), 6)
	cols := []table.Column{{Title: "", Width: labelW, Flex: true}}
	for _, t := range viewNS {
		cols = append(cols, table.Column{Title: t.String(), Width: colW, Right: true})
	}
	host := m.scan.snap.Host
	inodes := func(label string, s namespace.Set) []table.Cell {
		cells := []table.Cell{{Text: label}}
		for _, t := range viewNS {
			st := m.st.Inode(s[t])
			if s[t] == host[t] {
				st = m.st.HostInode
			}
			// The words row says shared or not; here the number itself
			// (its last digits when narrow) lets equal inodes be seen
			// equal, in colour or not.
			cells = append(cells, table.Cell{Text: formatInode(s[t], 0, colW, false), Style: &st})
		}
		return cells
	}
	verdict := []table.Cell{{Text: "A vs B"}}
	for _, t := range viewNS {
		if byType[t.String()].Shared {
			verdict = append(verdict, table.Cell{Text: "shared", Style: &m.st.Shared})
		} else {
			verdict = append(verdict, table.Cell{Text: "differ", Style: &m.st.Different})
		}
	}
	rows := [][]table.Cell{
		inodes("A "+strconv.Itoa(a.PID), a.Namespaces),
		inodes("B "+strconv.Itoa(b.PID), b.Namespaces),
		verdict,
	}
	t := table.Table{Columns: cols, Rows: rows, Width: width, Height: len(rows) + 1, Cursor: -1,
		Styles: table.Styles{Header: m.st.Header, Cell: m.st.Cell, Selected: m.st.Selected}}
	return m.st.Section.Render(table.Fit(summary, width, false)) + "\n" + t.Render()
}
