package ui

import (
	"fmt"
	"strconv"

	"boxtui/runtime/discovery"
	"boxtui/ui/components/table"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// detailKey handles keys of the process view and the mounts panel; ok is
// false for keys they leave to the list.
func (m Model) detailKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd, bool) {
	c, haveSel := m.selected()
	switch m.detail {
	case detailProcesses:
		k := m.keys.Processes
		switch {
		case key.Matches(msg, k.Back):
			m.detail, m.focus = detailNamespaces, focusList
		case key.Matches(msg, k.Up):
			m.moveProc(-1)
		case key.Matches(msg, k.Down):
			m.moveProc(1)
		case key.Matches(msg, k.Kill):
			if !haveSel || m.procs.cur >= len(c.Procs) {
				return m, nil, true
			}
			mod, cmd := m.askKillProcess(c, c.Procs[m.procs.cur])
			return mod, cmd, true
		case key.Matches(msg, m.keys.List.Exec):
			// The list's exec key, on a process: a shell in that
			// process's own namespaces and root (nsenter -t PID), which
			// the NS SET column shows when they are not the init's.
			if !haveSel || m.procs.cur >= len(c.Procs) {
				return m, nil, true
			}
			p := c.Procs[m.procs.cur]
			cols, rows := m.newPaneSize()
			return m, m.execCmd(c.WithNamed(discovery.ProcRef{PID: p.PID, StartTime: p.StartTime}), cols, rows), true
		case key.Matches(msg, k.Mark):
			m.toggleMark()
		case key.Matches(msg, k.Unmark):
			m.procs.marks = nil
			m.setStatus("marks cleared", false)
		default:
			return m, nil, false
		}
		return m, nil, true
	case detailMounts:
		k := m.keys.Mounts
		switch {
		case key.Matches(msg, k.Back):
			m.detail, m.focus = detailNamespaces, focusList
		case key.Matches(msg, k.Up):
			m.mounts.cur = max(0, m.mounts.cur-1)
		case key.Matches(msg, k.Down):
			m.mounts.cur = max(0, min(len(m.mounts.rows)-1, m.mounts.cur+1))
		case key.Matches(msg, k.Add):
			if !haveSel {
				return m, nil, true
			}
			mod, cmd := m.openMountForm(c)
			return mod, cmd, true
		case key.Matches(msg, k.Flip):
			mt, ok := m.selectedMount()
			if !haveSel || !ok {
				return m, nil, true
			}
			if !mt.Managed {
				m.setStatus(fmt.Sprintf("mount %s was not added by boxtui: only boxtui's own bind mounts can be flipped", mt.Target), true)
				return m, nil, true
			}
			return m, m.flipMountCmd(c, mt), true
		case key.Matches(msg, k.Remove):
			mt, ok := m.selectedMount()
			if !haveSel || !ok {
				return m, nil, true
			}
			if !mt.Managed {
				m.setStatus(fmt.Sprintf("mount %s was not added by boxtui: only boxtui's own bind mounts can be removed", mt.Target), true)
				return m, nil, true
			}
			b := m.backend
			m.confirm = &confirmState{
				prompt: fmt.Sprintf("Remove mount %s from %s?", mt.Target, containerLabel(c)),
				onYes: func(m *Model, _ signalChoice) tea.Cmd {
					return func() tea.Msg {
						if err := b.RemoveMount(c, mt.Target); err != nil {
							return errMsg{fmt.Errorf("remove mount %s from %s: %w", mt.Target, shortLabel(c), err)}
						}
						return reloadMounts(b, c, "removed mount "+mt.Target, "")
					}
				},
			}
		default:
			return m, nil, false
		}
		return m, nil, true
	case detailTree:
		return m.treeKey(msg)
	case detailEvents:
		return m.eventsKey(msg)
	}
	return m, nil, false
}

// moveProc moves the process cursor and remembers the process by PID, so
// a refresh that adds or drops processes keeps it on the same one.
func (m *Model) moveProc(d int) {
	c, ok := m.selected()
	if !ok || len(c.Procs) == 0 {
		return
	}
	m.procs.cur = max(0, min(len(c.Procs)-1, m.procs.cur+d))
	m.procs.pid = c.Procs[m.procs.cur].PID
}

// followProc puts the process cursor back on the remembered process.
func (m *Model) followProc() {
	c, ok := m.selected()
	if !ok {
		return
	}
	for i, p := range c.Procs {
		if p.PID == m.procs.pid {
			m.procs.cur = i
			return
		}
	}
	m.procs.cur = max(0, min(m.procs.cur, len(c.Procs)-1))
}

func (m Model) selectedMount() (Mount, bool) {
	if m.mounts.cur < 0 || m.mounts.cur >= len(m.mounts.rows) {
		return Mount{}, false
	}
	return m.mounts.rows[m.mounts.cur], true
}

func (m Model) mountsCmd(c discovery.Container) tea.Cmd {
	b := m.backend
	return func() tea.Msg {
		ms, err := b.Mounts(c)
		if err != nil {
			err = fmt.Errorf("list mounts of %s: %w", shortLabel(c), err)
		}
		return mountsMsg{pid: c.PID, mounts: ms, err: err}
	}
}

// reloadMounts re-reads c's mounts after a change, carrying a status text;
// the cursor goes to the mount at focus, when given and listed.
func reloadMounts(b Backend, c discovery.Container, text, focus string) tea.Msg {
	ms, err := b.Mounts(c)
	if err != nil {
		return mountsMsg{pid: c.PID, err: fmt.Errorf("%s, but listing mounts failed: %w", text, err)}
	}
	return tea.BatchMsg{
		func() tea.Msg { return mountsMsg{pid: c.PID, mounts: ms, focus: focus} },
		func() tea.Msg { return doneMsg{text: text, rescan: true} },
	}
}

func (m Model) flipMountCmd(c discovery.Container, mt Mount) tea.Cmd {
	b := m.backend
	ro := !mt.ReadOnly
	mode := "read-write"
	if ro {
		mode = "read-only"
	}
	return func() tea.Msg {
		if err := b.SetMountReadOnly(c, mt.Target, ro); err != nil {
			return errMsg{fmt.Errorf("make mount %s in %s %s: %w", mt.Target, shortLabel(c), mode, err)}
		}
		return reloadMounts(b, c, fmt.Sprintf("mount %s is now %s", mt.Target, mode), mt.Target)
	}
}

// renderProcesses draws the process view of c.
func (m Model) renderProcesses(c discovery.Container, width, height int) string {
	sets := namespaceSets(c)
	cols := []table.Column{
		{Title: "", Width: 1},
		{Title: "PID", Width: 7, Right: true},
		{Title: "INSIDE", Width: 6, Right: true},
		{Title: "USER", Width: 8},
		{Title: "NS SET", Width: 7},
		{Title: "COMMAND", Width: 10, Flex: true},
	}
	rows := make([][]table.Cell, 0, len(c.Procs))
	for _, p := range c.Procs {
		user := m.scan.users[p.UID]
		if user == "" {
			user = strconv.Itoa(p.UID)
		}
		rows = append(rows, []table.Cell{
			{Text: m.markLabel(p)},
			{Text: strconv.Itoa(p.PID)}, {Text: strconv.Itoa(p.InnerPID)}, {Text: user},
			{Text: setLabelOf(sets, p.PID)}, {Text: p.Command},
		})
	}
	cur := -1
	if m.focus == focusDetail {
		cur = min(m.procs.cur, len(rows)-1)
	}
	title := m.st.Section.Render(table.Fit(fmt.Sprintf("processes of %s — %d, seen from the host and from inside", containerLabel(c), len(c.Procs)), width, false))
	// The diff goes right under the processes, so it stays in view
	// whatever the panel's height; the table gives up rows for it.
	diffH := m.diffHeight()
	tableH := max(min(height-1-diffH, len(rows)+1), 2)
	t := table.Table{Columns: cols, Rows: rows, Width: width, Height: tableH, ShowPosition: true, Cursor: cur,
		Styles: table.Styles{Header: m.st.Header, Cell: m.st.Cell, Selected: m.st.Selected}}
	out := title + "\n" + t.Render()
	if diffH > 0 {
		out += "\n" + m.renderDiff(width)
	}
	return out
}

// renderMounts draws the mounts panel of c.
func (m Model) renderMounts(c discovery.Container, width, height int) string {
	title := m.st.Section.Render(table.Fit("mounts of "+containerLabel(c)+" (* = added by boxtui)", width, false))
	if m.mounts.of != c.PID {
		return padLines(title+"\n"+m.st.Muted.Render("reading mounts…"), width, height)
	}
	cols := []table.Column{
		{Title: "", Width: 1},
		{Title: "MODE", Width: 4},
		{Title: "INSIDE", Width: 20, Flex: true},
		{Title: "SOURCE", Width: 20, Flex: true},
		{Title: "TYPE", Width: 8},
	}
	rows := make([][]table.Cell, 0, len(m.mounts.rows))
	for _, mt := range m.mounts.rows {
		mark, mode := " ", "rw"
		if mt.Managed {
			mark = "*"
		}
		if mt.ReadOnly {
			mode = "ro"
		}
		rows = append(rows, []table.Cell{{Text: mark}, {Text: mode}, {Text: mt.Target}, {Text: mt.Source}, {Text: mt.FSType}})
	}
	if len(rows) == 0 {
		return padLines(title+"\n"+m.st.Muted.Render(fmt.Sprintf("no mounts yet: press %s to add a bind mount", m.keys.Mounts.Add.Help().Key)), width, height)
	}
	cur := -1
	if m.focus == focusDetail {
		cur = m.mounts.cur
	}
	t := table.Table{Columns: cols, Rows: rows, Width: width, Height: height - 1, ShowPosition: true, Cursor: cur,
		Styles: table.Styles{Header: m.st.Header, Cell: m.st.Cell, Selected: m.st.Selected}}
	return title + "\n" + t.Render()
}

// procView is the process view of the selected container: its cursor,
// kept on a process by PID across refreshes, and the processes marked for
// the namespace diff (oldest first, at most two).
type procView struct {
	cur   int
	pid   int
	marks []procKey
}

// mountsView is the mounts panel: the mounts of one container (of is its
// init PID) and the cursor.
type mountsView struct {
	rows []Mount
	of   int
	cur  int
}
