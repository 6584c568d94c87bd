package ui

import (
	"fmt"

	"boxtui/runtime/discovery"
	"boxtui/ui/components/table"
	"boxtui/ui/keymap"
	"boxtui/ui/styles"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// mountsView is the mounts panel: the mounts of one container (of is its
// init PID) and the cursor.
type mountsView struct {
	keys keymap.Mounts
	st   *styles.Styles
	rows []Mount
	of   int
	cur  int
}

func newMountsView(keys keymap.Mounts, st *styles.Styles) mountsView {
	return mountsView{keys: keys, st: st}
}

func (v mountsView) help() help.KeyMap { return v.keys }

// apply installs the mounts read; the cursor goes to the mount at focus
// when given and listed (the last one listed at that path: a mount over
// an earlier one is listed after it).
func (v *mountsView) apply(msg mountsMsg) {
	v.rows, v.of = msg.mounts, msg.pid
	v.cur = max(0, min(v.cur, len(v.rows)-1))
	if msg.focus != "" {
		for i, mt := range v.rows {
			if mt.Target == msg.focus {
				v.cur = i
			}
		}
	}
}

// update moves through the mounts; adding, flipping and removing are the
// root's (they open a form, ask, or call the backend).
func (v mountsView) update(msg tea.KeyPressMsg) (mountsView, keyResult) {
	switch {
	case key.Matches(msg, v.keys.Back):
		return v, keyBack
	case key.Matches(msg, v.keys.Up):
		v.cur = max(0, v.cur-1)
	case key.Matches(msg, v.keys.Down):
		v.cur = max(0, min(len(v.rows)-1, v.cur+1))
	default:
		return v, keyIgnored
	}
	return v, keyHandled
}

// selected is the mount under the cursor.
func (v mountsView) selected() (Mount, bool) {
	if v.cur < 0 || v.cur >= len(v.rows) {
		return Mount{}, false
	}
	return v.rows[v.cur], true
}

// view draws the mounts of c.
func (v mountsView) view(c discovery.Container, focused bool, width, height int) string {
	title := v.st.Section.Render(table.Fit("mounts of "+containerLabel(c)+" (* = added by boxtui)", width, false))
	if v.of != c.PID {
		return padLines(title+"\n"+v.st.Muted.Render("reading mounts…"), width, height)
	}
	cols := []table.Column{
		{Title: "", Width: 1},
		{Title: "MODE", Width: 4},
		{Title: "INSIDE", Width: 20, Flex: true},
		{Title: "SOURCE", Width: 20, Flex: true},
		{Title: "TYPE", Width: 8},
	}
	rows := make([][]table.Cell, 0, len(v.rows))
	for _, mt := range v.rows {
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
		return padLines(title+"\n"+v.st.Muted.Render(fmt.Sprintf("no mounts yet: press %s to add a bind mount", v.keys.Add.Help().Key)), width, height)
	}
	cur := -1
	if focused {
		cur = v.cur
	}
	t := table.Table{Columns: cols, Rows: rows, Width: width, Height: height - 1, ShowPosition: true, Cursor: cur,
		Styles: table.Styles{Header: v.st.Header, Cell: v.st.Cell, Selected: v.st.Selected}}
	return title + "\n" + t.Render()
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
