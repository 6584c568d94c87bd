package ui

import (
	"fmt"

	"boxtui/runtime/discovery"

	tea "charm.land/bubbletea/v2"
)

// EngineExecer is a Backend that can also exec as the container's engine
// would (`boxtui exec --as-engine`): the list's exec-as-engine key uses it
// when the backend has it.
type EngineExecer interface {
	ExecAsEngine(c discovery.Container, cols, rows int) (Terminal, error)
}

// execEngineKey opens a shell pane in the selected container as its
// engine's exec would: its init's cgroups, capabilities, no_new_privs,
// seccomp filters, ids and environment, on a terminal of its own devpts.
func (m Model) execEngineKey(c discovery.Container, haveSel bool) (tea.Model, tea.Cmd) {
	if !haveSel {
		return m, nil
	}
	b, ok := m.backend.(EngineExecer)
	if !ok {
		m.setStatus("exec as the engine would is not available here; "+m.keys.List.Exec.Help().Key+" execs a shell", true)
		return m, nil
	}
	cols, rows := m.newPaneSize()
	return m, func() tea.Msg {
		t, err := b.ExecAsEngine(c, cols, rows)
		if err != nil {
			return errMsg{fmt.Errorf("exec a shell in %s as its engine would: %w", containerLabel(c), err)}
		}
		return opened(t, paneExec, shortLabel(c)+" (engine)", c.PID, cols, rows)
	}
}
