package ui

import (
	"fmt"
	"strconv"
	"strings"

	"boxtui/runtime/discovery"
	"boxtui/runtime/namespace"
	"boxtui/ui/components/table"
	"boxtui/ui/styles"
)

// viewNS are the namespace columns of the namespace view, in lsns order.
var viewNS = []namespace.Type{
	namespace.Cgroup, namespace.IPC, namespace.Mnt, namespace.Net,
	namespace.PID, namespace.Time, namespace.User, namespace.UTS,
}

// nsSet is one distinct set of namespaces among a container's processes.
type nsSet struct {
	Label string
	PIDs  []int
	Set   namespace.Set
}

// namespaceSets groups c's processes by their namespace set: the init's set
// first (labelled "init"), then each other set in order of first PID, so the
// seed's nsenter'd shell with its own mnt shows as "set 2".
func namespaceSets(c discovery.Container) []nsSet {
	var sets []nsSet
	index := map[namespace.Set]int{}
	add := func(s namespace.Set, pid int) {
		key := visibleKey(s)
		if i, ok := index[key]; ok {
			sets[i].PIDs = append(sets[i].PIDs, pid)
			return
		}
		label := "init"
		if len(sets) > 0 {
			label = "set " + strconv.Itoa(len(sets)+1)
		}
		index[key] = len(sets)
		sets = append(sets, nsSet{Label: label, PIDs: []int{pid}, Set: s})
	}
	add(c.Namespaces, c.PID)
	for _, p := range c.Procs {
		if p.PID == c.PID {
			continue
		}
		ns := p.Namespaces
		if ns == (namespace.Set{}) {
			ns = c.Namespaces
		}
		add(ns, p.PID)
	}
	return sets
}

// visibleKey keeps only the columns the view shows, so two processes that
// differ in a *_for_children link alone are not split into two sets.
func visibleKey(s namespace.Set) namespace.Set {
	var k namespace.Set
	for _, t := range viewNS {
		k[t] = s[t]
	}
	return k
}

// setLabelOf returns the namespace-set label of the process pid.
func setLabelOf(sets []nsSet, pid int) string {
	for _, s := range sets {
		for _, p := range s.PIDs {
			if p == pid {
				return s.Label
			}
		}
	}
	return "?"
}

// formatInode prints an inode in w cells. Numbers too long keep their last
// digits (namespace inodes share their leading ones). Without colour, a
// namespace shared with the host reads "host" and any other "own …".
func formatInode(ino, host uint64, w int, noColor bool) string {
	if ino == 0 {
		return "?"
	}
	digits := strconv.FormatUint(ino, 10)
	if noColor {
		if ino == host {
			return "host"
		}
		room := w - len("own ")
		switch {
		case room >= len(digits):
			return "own " + digits
		case room >= 3:
			return "own …" + digits[len(digits)-room+1:]
		default:
			return "own"
		}
	}
	if len(digits) > w && w > 1 {
		return "…" + digits[len(digits)-w+1:]
	}
	return digits
}

// cutInodes says, when the columns are too narrow for whole inodes, what
// formatInode left out: the leading digits every shown inode shares
// ("…" is 4026…), or that they differ; "" when every inode fits.
func cutInodes(host namespace.Set, sets []nsSet, colW int, noColor bool) string {
	var cut []string
	note := func(ino, h uint64) {
		if ino == 0 || (noColor && ino == h) {
			return // "?" or "host": no digits shown
		}
		digits := strconv.FormatUint(ino, 10)
		text := formatInode(ino, h, colW, noColor)
		kept := strings.TrimPrefix(strings.TrimPrefix(text, "own "), "…")
		if kept != digits && strings.HasSuffix(digits, kept) {
			cut = append(cut, digits[:len(digits)-len(kept)])
		}
	}
	for _, t := range viewNS {
		note(host[t], 0)
		for _, s := range sets {
			note(s.Set[t], host[t])
		}
	}
	if len(cut) == 0 {
		return ""
	}
	for _, p := range cut[1:] {
		if p != cut[0] {
			return "… = leading digits cut to fit: `boxtui ns` prints whole inodes"
		}
	}
	return fmt.Sprintf("… = %s: every inode here starts with it", cut[0])
}

// renderNamespaces draws the namespace view of c in width x height.
func renderNamespaces(st *styles.Styles, host namespace.Set, c discovery.Container, width, height int) string {
	labelW := 16
	if width < 104 {
		labelW = 12
	}
	colW := min(10, (width-labelW-len(viewNS))/len(viewNS))
	if st.NoColor {
		colW = min(15, (width-labelW-len(viewNS))/len(viewNS))
	}
	cols := []table.Column{{Title: "", Width: labelW, Flex: true}}
	for _, t := range viewNS {
		cols = append(cols, table.Column{Title: t.String(), Width: colW, Right: !st.NoColor})
	}
	rowFor := func(label string, s namespace.Set) []table.Cell {
		cells := []table.Cell{{Text: label}}
		for _, t := range viewNS {
			ino := s[t]
			style := st.Inode(ino)
			if ino == host[t] {
				style = st.HostInode
			}
			cells = append(cells, table.Cell{Text: formatInode(ino, host[t], colW, st.NoColor), Style: &style})
		}
		return cells
	}
	rows := [][]table.Cell{rowFor("host", host)}
	sets := namespaceSets(c)
	var notes []string
	for i, s := range sets {
		label := s.Label
		if i == 0 {
			label += " " + strconv.Itoa(c.PID)
		}
		rows = append(rows, rowFor(label, s.Set))
		if i == 0 {
			continue
		}
		var differ []string
		for _, t := range viewNS {
			if s.Set[t] != sets[0].Set[t] {
				differ = append(differ, t.String())
			}
		}
		pids := make([]string, len(s.PIDs))
		for j, p := range s.PIDs {
			pids[j] = strconv.Itoa(p)
		}
		notes = append(notes, fmt.Sprintf("%s = PID %s: own %s (entered, not forked from init)", s.Label, strings.Join(pids, ","), strings.Join(differ, ",")))
	}
	title := st.Section.Render(table.Fit("namespaces of "+containerLabel(c), width, false))
	legend := "same colour = same namespace; grey = shared with the host"
	if st.NoColor {
		legend = "host = shared with the host; own N = its own namespace (inode N)"
	}
	if cut := cutInodes(host, sets, colW, st.NoColor); cut != "" {
		// Too narrow for whole inodes: say what the "…" stands for, so
		// no number on screen is mistaken for an inode.
		notes = append(notes, cut)
	}
	t := table.Table{
		Columns: cols, Rows: rows, Width: width, Height: min(height-1, len(rows)+1), Cursor: -1,
		Styles: table.Styles{Header: st.Header, Cell: st.Cell, Selected: st.Selected},
	}
	out := []string{title, t.Render()}
	for _, n := range notes {
		out = append(out, st.Muted.Render(table.Fit(n, width, false)))
	}
	out = append(out, st.Muted.Render(table.Fit(legend, width, false)))
	return strings.Join(out, "\n")
}

// emptyPanel draws a titled panel with one message line.
func emptyPanel(st *styles.Styles, title, msg string, width, height int) string {
	lines := []string{st.Section.Render(table.Fit(title, width, false))}
	if msg != "" {
		lines = append(lines, st.Muted.Render(table.Fit(msg, width, false)))
	}
	return padLines(strings.Join(lines, "\n"), width, height)
}

// padLines makes s exactly height lines of width cells.
func padLines(s string, width, height int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > height {
		lines = lines[:height]
	}
	for i, l := range lines {
		lines[i] = table.Fit(l, width, false)
	}
	for len(lines) < height {
		lines = append(lines, strings.Repeat(" ", width))
	}
	return strings.Join(lines, "\n")
}
