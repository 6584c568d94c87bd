package ui

import (
	"fmt"
	"strconv"
	"strings"

	"boxtui/runtime/discovery"
	"boxtui/runtime/namespace"
	"boxtui/ui/components/table"

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

// setTree installs a new tree, the cursor kept on its namespace.
func (m *Model) setTree(root *discovery.PIDNamespaceNode) {
	m.tree.rows = flattenTree(root)
	m.placeTreeCursor()
}

// placeTreeCursor puts the tree cursor on the namespace it was on (treeNode),
// or on the first row when that namespace is gone.
func (m *Model) placeTreeCursor() {
	m.tree.cur = 0
	for i, r := range m.tree.rows {
		if r.node.Inode == m.tree.node {
			m.tree.cur = i
			break
		}
	}
	if len(m.tree.rows) > 0 {
		m.tree.node = m.tree.rows[m.tree.cur].node.Inode
	}
}

// moveTree moves the tree cursor; the container under it becomes the list's
// selection at once, so the list shows where it is.
func (m *Model) moveTree(d int) {
	if len(m.tree.rows) == 0 {
		return
	}
	m.tree.cur = max(0, min(len(m.tree.rows)-1, m.tree.cur+d))
	r := m.tree.rows[m.tree.cur]
	m.tree.node = r.node.Inode
	m.selectContainer(r.node.Container)
}

// selectContainer puts the list's cursor on the container with init pid;
// false when it is not among the rows (filtered out, or none).
func (m *Model) selectContainer(pid int) bool {
	if pid == 0 {
		return false
	}
	for i, c := range m.list.rows {
		if c.PID == pid {
			m.list.cursor, m.list.selPID = i, pid
			m.procs.cur, m.mounts.cur, m.events.off = 0, 0, 0
			return true
		}
	}
	return false
}

func (m Model) treeCmd() tea.Cmd {
	b, snap := m.backend, m.scan.snap
	return func() tea.Msg { return treeMsg{tree: b.NamespaceTree(snap)} }
}

// treeKey handles the keys of the namespace tree.
func (m Model) treeKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd, bool) {
	k := m.keys.Tree
	switch {
	case key.Matches(msg, k.Back):
		m.detail, m.focus = detailNamespaces, focusList
	case key.Matches(msg, k.Up):
		m.moveTree(-1)
	case key.Matches(msg, k.Down):
		m.moveTree(1)
	case key.Matches(msg, k.Select):
		if m.tree.cur >= len(m.tree.rows) {
			return m, nil, true
		}
		r := m.tree.rows[m.tree.cur]
		if r.node.Container == 0 {
			m.setStatus("the host's PID namespace holds no container: pick one below it", false)
			return m, nil, true
		}
		if !m.selectContainer(r.node.Container) {
			m.setStatus(fmt.Sprintf("PID %d is hidden by the filter (esc in the filter clears it)", r.node.Container), true)
			return m, nil, true
		}
		m.detail, m.focus = detailNamespaces, focusList
	default:
		return m, nil, false
	}
	return m, nil, true
}

// renderTree draws the PID namespace tree with the cursor.
func (m Model) renderTree(width, height int) string {
	title := m.st.Section.Render(table.Fit("PID namespaces by parent (as lsns -T), the user namespace owning each, the container in it", width, false))
	if len(m.tree.rows) == 0 {
		return padLines(title+"\n"+m.st.Muted.Render("reading namespace nesting…"), width, height)
	}
	hostUser := m.scan.snap.Host[namespace.User]
	userW := 10
	if m.st.NoColor {
		userW = 15
	}
	cols := []table.Column{
		{Title: "PID NAMESPACE", Width: 24, Flex: true},
		{Title: "OWNER USER NS", Width: max(userW, 13)},
		{Title: "CONTAINER", Width: 10},
		{Title: "PID", Width: 7, Right: true},
		{Title: "COMMAND", Width: 10, Flex: true},
	}
	rows := make([][]table.Cell, 0, len(m.tree.rows))
	for _, r := range m.tree.rows {
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
		owner := m.st.Inode(n.Owner)
		if n.Owner == hostUser {
			owner = m.st.HostInode
		}
		ownerText := formatInode(n.Owner, hostUser, max(userW, 13), m.st.NoColor)
		if n.Owner == 0 {
			ownerText = "?"
		}
		nsStyle := m.st.Inode(n.Inode)
		rows = append(rows, []table.Cell{
			{Text: nsText, Style: &nsStyle}, {Text: ownerText, Style: &owner},
			{Text: name}, {Text: pid}, {Text: cmd},
		})
	}
	cur := -1
	if m.focus == focusDetail {
		cur = m.tree.cur
	}
	legend := "a child is a PID namespace made by a process of its parent; its processes are seen from the parent, never the other way"
	t := table.Table{Columns: cols, Rows: rows, Width: width, Height: min(height-2, len(rows)+1), ShowPosition: true, Cursor: cur,
		Styles: table.Styles{Header: m.st.Header, Cell: m.st.Cell, Selected: m.st.Selected}}
	out := []string{title, t.Render(), m.st.Muted.Render(table.Fit(legend, width, false))}
	return strings.Join(out, "\n")
}

// treeView is the PID namespace tree, flattened to rows for the cursor; it
// is only asked for while on screen. node is the PID namespace the cursor
// is on: it survives refreshes.
type treeView struct {
	rows []treeRow
	cur  int
	node uint64
}
