package ui

import (
	"fmt"
	"strconv"
	"strings"

	"boxtui/runtime/discovery"
	"boxtui/runtime/namespace"
	"boxtui/ui/components/table"
)

// diffHeight is how many lines renderDiff draws with the current marks.
func (v procView) diffHeight() int {
	switch len(v.marks) {
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
func (v procView) renderDiff(snap discovery.Snapshot, width int) string {
	if len(v.marks) == 0 {
		return ""
	}
	a, ok := findProc(snap, v.marks[0])
	if !ok {
		return ""
	}
	if len(v.marks) == 1 {
		return v.st.Muted.Render(table.Fit(fmt.Sprintf("A = PID %d; mark a second process with %s to compare namespaces", a.PID, v.keys.Mark.Help().Key), width, false))
	}
	b, ok := findProc(snap, v.marks[1])
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
	host := snap.Host
	inodes := func(label string, s namespace.Set) []table.Cell {
		cells := []table.Cell{{Text: label}}
		for _, t := range viewNS {
			st := v.st.Inode(s[t])
			if s[t] == host[t] {
				st = v.st.HostInode
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
			verdict = append(verdict, table.Cell{Text: "shared", Style: &v.st.Shared})
		} else {
			verdict = append(verdict, table.Cell{Text: "differ", Style: &v.st.Different})
		}
	}
	rows := [][]table.Cell{
		inodes("A "+strconv.Itoa(a.PID), a.Namespaces),
		inodes("B "+strconv.Itoa(b.PID), b.Namespaces),
		verdict,
	}
	t := table.Table{Columns: cols, Rows: rows, Width: width, Height: len(rows) + 1, Cursor: -1,
		Styles: table.Styles{Header: v.st.Header, Cell: v.st.Cell, Selected: v.st.Selected}}
	return v.st.Section.Render(table.Fit(summary, width, false)) + "\n" + t.Render()
}
