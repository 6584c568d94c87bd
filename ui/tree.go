package ui

import (
	"fmt"
	"strconv"
	"strings"

	"boxtui/runtime/discovery"
	"boxtui/ui/components/table"
	"boxtui/ui/keymap"
	"boxtui/ui/styles"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// treeRow is one PID namespace of the tree, flattened in display order.
type treeRow struct {
	node   discovery.PIDNamespaceNode // without Children
	prefix string                     // the branch drawing ("│  ├─ ")
	depth  int
}

// flattenTree lays the tree out depth first, parents before children, the
// way `lsns -T` and `tree` draw it.
func flattenTree(root *discovery.PIDNamespaceNode) []treeRow {
	if root == nil {
		return nil
	}
	var out []treeRow
	var walk func(n *discovery.PIDNamespaceNode, lead, branch string, depth int)
	walk = func(n *discovery.PIDNamespaceNode, lead, branch string, depth int) {
		flat := *n
		flat.Children = nil
		out = append(out, treeRow{node: flat, prefix: lead + branch, depth: depth})
		next := lead
		switch branch {
		case "├─ ":
			next += "│  "
		case "└─ ":
			next += "   "
		}
		for i, c := range n.Children {
			b := "├─ "
			if i == len(n.Children)-1 {
				b = "└─ "
			}
			walk(c, next, b, depth+1)
		}
	}
	walk(root, "", "", 0)
	return out
}

// treeView is the PID namespace tree, flattened to rows for the cursor; it
// is only asked for while on screen. node is the PID namespace the cursor
// is on: it survives refreshes.
type treeView struct {
	keys keymap.Tree
	st   *styles.Styles
	rows []treeRow
	cur  int
	node uint64
}

func newTreeView(keys keymap.Tree, st *styles.Styles) treeView {
	return treeView{keys: keys, st: st}
}

func (v treeView) help() help.KeyMap { return v.keys }

// open shows the last tree at once, the cursor on node (the selected
// container's PID namespace, or 0), while a fresh one is read.
func (v *treeView) open(node uint64) {
	v.node = node
	v.place()
}

// set installs a new tree, the cursor kept on its namespace.
func (v *treeView) set(root *discovery.PIDNamespaceNode) {
	v.rows = flattenTree(root)
	v.place()
}

// place puts the cursor on the namespace it was on (node), or on the
// first row when that namespace is gone.
func (v *treeView) place() {
	v.cur = 0
	for i, r := range v.rows {
		if r.node.Inode == v.node {
			v.cur = i
			break
		}
	}
	if len(v.rows) > 0 {
		v.node = v.rows[v.cur].node.Inode
	}
}

// update moves the cursor: keyMoved tells the root to select the
// container under it. Choosing a row is the root's (it moves the list).
func (v treeView) update(msg tea.KeyPressMsg) (treeView, keyResult) {
	switch {
	case key.Matches(msg, v.keys.Back):
		return v, keyBack
	case key.Matches(msg, v.keys.Up):
		return v.move(-1)
	case key.Matches(msg, v.keys.Down):
		return v.move(1)
	}
	return v, keyIgnored
}

func (v treeView) move(d int) (treeView, keyResult) {
	if len(v.rows) == 0 {
		return v, keyHandled
	}
	v.cur = max(0, min(len(v.rows)-1, v.cur+d))
	v.node = v.rows[v.cur].node.Inode
	return v, keyMoved
}

// selected is the row under the cursor.
func (v treeView) selected() (treeRow, bool) {
	if v.cur < 0 || v.cur >= len(v.rows) {
		return treeRow{}, false
	}
	return v.rows[v.cur], true
}

// container is the init PID of the container under the cursor, 0 for the
// host's namespace or none.
func (v treeView) container() int {
	r, _ := v.selected()
	return r.node.Container
}

// view draws the tree with the cursor; hostUser is the host's user
// namespace, greyed in the owner column.
func (v treeView) view(hostUser uint64, focused bool, width, height int) string {
	title := v.st.Section.Render(table.Fit("PID namespaces by parent (as lsns -T), the user namespace owning each, the container in it", width, false))
	if len(v.rows) == 0 {
		return padLines(title+"\n"+v.st.Muted.Render("reading namespace nesting…"), width, height)
	}
	userW := 10
	if v.st.NoColor {
		userW = 15
	}
	cols := []table.Column{
		{Title: "PID NAMESPACE", Width: 24, Flex: true},
		{Title: "OWNER USER NS", Width: max(userW, 13)},
		{Title: "CONTAINER", Width: 10},
		{Title: "PID", Width: 7, Right: true},
		{Title: "COMMAND", Width: 10, Flex: true},
	}
	rows := make([][]table.Cell, 0, len(v.rows))
	for _, r := range v.rows {
		n := r.node
		nsText := r.prefix + strconv.FormatUint(n.Inode, 10)
		name, pid, cmd := "-", "", n.Command
		if n.Container == 0 {
			name, cmd = "(host)", "boxtui's own PID namespace"
		} else {
			pid = strconv.Itoa(n.Container)
			if n.Name != "" {
				name = n.Name
			}
		}
		owner := v.st.Inode(n.Owner)
		if n.Owner == hostUser {
			owner = v.st.HostInode
		}
		ownerText := formatInode(n.Owner, hostUser, max(userW, 13), v.st.NoColor)
		if n.Owner == 0 {
			ownerText = "?"
		}
		nsStyle := v.st.Inode(n.Inode)
		rows = append(rows, []table.Cell{
			{Text: nsText, Style: &nsStyle}, {Text: ownerText, Style: &owner},
			{Text: name}, {Text: pid}, {Text: cmd},
		})
	}
	cur := -1
	if focused {
		cur = v.cur
	}
	legend := "a child is a PID namespace made by a process of its parent; its processes are seen from the parent, never the other way"
	t := table.Table{Columns: cols, Rows: rows, Width: width, Height: min(height-2, len(rows)+1), ShowPosition: true, Cursor: cur,
		Styles: table.Styles{Header: v.st.Header, Cell: v.st.Cell, Selected: v.st.Selected}}
	out := []string{title, t.Render(), v.st.Muted.Render(table.Fit(legend, width, false))}
	return strings.Join(out, "\n")
}

// selectContainer puts the list's cursor on the container with init pid;
// false when it is not among the rows (filtered out, or none).
func (m *Model) selectContainer(pid int) bool {
	if !m.list.selectPID(pid) {
		return false
	}
	m.procs.cur, m.mounts.cur, m.events.off = 0, 0, 0
	return true
}

// chooseTreeRow selects the container of the tree's row in the list and
// goes back to it.
func (m Model) chooseTreeRow() Model {
	r, ok := m.tree.selected()
	if !ok {
		return m
	}
	if r.node.Container == 0 {
		m.setStatus("the host's PID namespace holds no container: pick one below it", false)
		return m
	}
	if !m.selectContainer(r.node.Container) {
		m.setStatus(fmt.Sprintf("PID %d is hidden by the filter (esc in the filter clears it)", r.node.Container), true)
		return m
	}
	m.detail, m.focus = detailNamespaces, focusList
	return m
}

func (m Model) treeCmd() tea.Cmd {
	b, snap := m.backend, m.scan.snap
	return func() tea.Msg { return treeMsg{tree: b.NamespaceTree(snap)} }
}
