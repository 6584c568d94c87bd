package ui

import (
	"fmt"

	"boxtui/runtime/discovery"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// detailKey gives a key to the detail component on screen: first the
// root's actions on it (kill, exec, a form, a question), then the
// component's own keys. ok is false for keys both leave to the list.
func (m Model) detailKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd, bool) {
	var res keyResult
	switch m.detail {
	case detailProcesses:
		if mod, cmd, ok := m.procAction(msg); ok {
			return mod, cmd, true
		}
		c, _ := m.selected()
		m.procs, res = m.procs.update(msg, c)
	case detailMounts:
		if mod, cmd, ok := m.mountAction(msg); ok {
			return mod, cmd, true
		}
		m.mounts, res = m.mounts.update(msg)
	case detailTree:
		if key.Matches(msg, m.keys.Tree.Select) {
			return m.chooseTreeRow(), nil, true
		}
		m.tree, res = m.tree.update(msg)
		if res == keyMoved {
			// The container under the cursor becomes the list's
			// selection at once, so the list shows where it is.
			m.selectContainer(m.tree.container())
		}
	case detailEvents:
		m.events, res = m.events.update(msg)
	}
	switch res {
	case keyIgnored:
		return m, nil, false
	case keyBack:
		m.detail, m.focus = detailNamespaces, focusList
	}
	return m, nil, true
}

// procAction does what the process view asks of the root: kill the
// process under the cursor (after a question), exec a shell in its
// namespaces, mark it for the diff.
func (m Model) procAction(msg tea.KeyPressMsg) (tea.Model, tea.Cmd, bool) {
	c, haveSel := m.selected()
	p, haveProc := m.procs.selected(c)
	haveProc = haveProc && haveSel
	switch {
	case key.Matches(msg, m.keys.Processes.Kill):
		if !haveProc {
			return m, nil, true
		}
		mod, cmd := m.askKillProcess(c, p)
		return mod, cmd, true
	case key.Matches(msg, m.keys.List.Exec):
		// The list's exec key, on a process: a shell in that process's
		// own namespaces and root (nsenter -t PID), which the NS SET
		// column shows when they are not the init's.
		if !haveProc {
			return m, nil, true
		}
		cols, rows := m.newPaneSize()
		return m, m.execCmd(c.WithNamed(discovery.ProcRef{PID: p.PID, StartTime: p.StartTime}), cols, rows), true
	case key.Matches(msg, m.keys.Processes.Mark):
		if text, ok := m.procs.toggleMark(c); ok && haveSel {
			m.setStatus(text, false)
		}
		return m, nil, true
	case key.Matches(msg, m.keys.Processes.Unmark):
		m.procs.marks = nil
		m.setStatus("marks cleared", false)
		return m, nil, true
	}
	return m, nil, false
}

// mountAction does what the mounts panel asks of the root: the mount form,
// flipping a mount read-only or read-write, removing one after a question.
func (m Model) mountAction(msg tea.KeyPressMsg) (tea.Model, tea.Cmd, bool) {
	k := m.keys.Mounts
	c, haveSel := m.selected()
	switch {
	case key.Matches(msg, k.Add):
		if !haveSel {
			return m, nil, true
		}
		mod, cmd := m.openMountForm(c)
		return mod, cmd, true
	case key.Matches(msg, k.Flip):
		mt, ok := m.mounts.selected()
		if !haveSel || !ok {
			return m, nil, true
		}
		if !mt.Managed {
			m.setStatus(fmt.Sprintf("mount %s was not added by boxtui: only boxtui's own bind mounts can be flipped", mt.Target), true)
			return m, nil, true
		}
		return m, m.flipMountCmd(c, mt), true
	case key.Matches(msg, k.Remove):
		mt, ok := m.mounts.selected()
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
		return m, nil, true
	}
	return m, nil, false
}
