package ui

import (
	"errors"
	"fmt"
	"slices"

	"boxtui/runtime/namespace"
	"boxtui/runtime/state"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Update handles one message. It does no I/O: every side effect is a Cmd.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	// A key that changes the screen (a detail view, a form, help) leaves
	// the last status behind unless it set one itself: a message about the
	// screen just left must not read as one about the next.
	if _, ok := msg.(tea.KeyPressMsg); ok {
		before, status := m.screen(), m.status.text
		mod, cmd := m.update(msg)
		if nm, ok := mod.(Model); ok && nm.screen() != before && nm.status.text == status && nm.confirm == nil {
			nm.status.text, nm.status.isErr = "", false
			mod = nm
		}
		return mod, cmd
	}
	return m.update(msg)
}

// screenID names what fills the screen, for Update's status rule.
type screenID struct {
	detail detailMode
	form   bool
	help   bool
}

func (m Model) screen() screenID {
	return screenID{detail: m.detail, form: m.forms.active != nil, help: m.showHelp}
}

func (m Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if !m.paneOnly(msg) {
		m.gen = m.cache.newGen() // View draws everything again
	}
	switch msg := msg.(type) {
	// The terminal and the user.
	case tea.WindowSizeMsg:
		return m.resize(msg)
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	case tea.MouseMsg:
		if mm, ok := m.mapMouse(msg); ok {
			return mm, nil
		}
		return m.mouse(msg)
	case tea.PasteMsg:
		return m.paste(msg)

	// The host (scan.go) and what the components asked for.
	case scanMsg:
		return m.applyScan(msg)
	case tickMsg:
		return m.tick(msg)
	case mountsMsg:
		return m.mountsRead(msg)
	case treeMsg:
		if m.detail == detailTree {
			m.tree.set(msg.tree)
		}
		return m, nil
	case eventsMsg:
		m.applyEvents(msg)
		return m, nil

	// Actions finishing.
	case errMsg:
		m.setStatus(msg.err.Error(), true)
		return m, nil
	case doneMsg:
		if msg.text != "" {
			m.setStatus(msg.text, false)
		}
		if msg.rescan {
			return m.scanNow()
		}
		return m, nil
	case hostPathCheckedMsg:
		if m.forms.active == msg.form {
			msg.form.hostChecks[msg.path] = msg.err
		}
		return m, nil
	case rootfsMissingMsg:
		return m.askCreateRootfs(msg)
	case launchedMsg:
		return m.launched(msg)

	// Panes (panes.go, console.go).
	case paneOpenedMsg:
		return m.addPaneWatched(msg)
	case paneNoticeMsg:
		return m.paneNotice(msg)
	case paneDirtyMsg:
		return m.paneDirty(msg)
	case paneRedrawMsg:
		return m.paneRedraw(msg)
	case paneDoneMsg:
		return m.paneDone(msg)
	}
	// Anything else (a cursor blink) is for the form or the filter line.
	if m.forms.active != nil {
		return m.updateForm(msg)
	}
	if m.focus == focusFilter {
		var cmd tea.Cmd
		m.list.filter, cmd = m.list.filter.Update(msg)
		return m, cmd
	}
	return m, nil
}

func (m Model) resize(msg tea.WindowSizeMsg) (tea.Model, tea.Cmd) {
	m.width, m.height = msg.Width, msg.Height
	m.help.SetWidth(msg.Width)
	if m.forms.active != nil {
		m.forms.active.resize(m.width)
	}
	return m, tea.Batch(m.layoutPanes()...)
}

// paste goes where a key would: the focused pane's program, the form, or
// the filter line.
func (m Model) paste(msg tea.PasteMsg) (tea.Model, tea.Cmd) {
	switch {
	case m.focus == focusPane:
		if p := m.panes.focused(); p != nil {
			p.do(func() { p.term.Paste(msg.Content) })
		}
	case m.forms.active != nil:
		return m.updateForm(msg)
	case m.focus == focusFilter:
		return m.filterKey(msg)
	}
	return m, nil
}

// mountsRead installs mounts read for the mounts panel, if they are still
// the selected container's.
func (m Model) mountsRead(msg mountsMsg) (tea.Model, tea.Cmd) {
	if msg.err != nil {
		m.setStatus(msg.err.Error(), true)
	}
	if c, ok := m.selected(); ok && c.PID == msg.pid {
		m.mounts.apply(msg)
	}
	return m, nil
}

// launched opens the console of the container just launched and selects
// it as soon as a scan lists it.
func (m Model) launched(msg launchedMsg) (tea.Model, tea.Cmd) {
	m.setStatus(fmt.Sprintf("launched %s", msg.name), false)
	m.forms.active = nil
	m.forms.last = nil
	m.list.selName = msg.name
	cols, rows := m.newPaneSize()
	return m, tea.Batch(m.openConsoleCmd(msg.name, 0, cols, rows), m.rescan())
}

// paneOnly reports whether msg can change nothing on screen but the panes
// (and the status and help lines, which View draws every time): a pane's
// output, and keys and pastes that go to the focused pane's program. View
// keeps the screen above the panes as it was drawn for such messages.
func (m Model) paneOnly(msg tea.Msg) bool {
	toPane := m.confirm == nil && m.forms.active == nil && !m.showHelp && m.focus == focusPane && m.panes.focused() != nil
	switch msg := msg.(type) {
	case paneDirtyMsg, paneRedrawMsg:
		return true
	case tea.KeyPressMsg:
		return toPane && !key.Matches(msg, m.panes.keys.Release)
	case tea.PasteMsg:
		return toPane
	}
	return false
}

func (m Model) handleKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch {
	case m.confirm != nil:
		return m.updateConfirm(msg)
	case m.forms.active != nil:
		return m.updateForm(msg)
	case m.showHelp:
		if key.Matches(msg, m.keys.Help.Close) {
			m.showHelp = false
		}
		return m, nil
	case m.focus == focusPane:
		return m.paneKey(msg)
	case m.focus == focusFilter:
		return m.filterKey(msg)
	case m.width < MinWidth || m.height < MinHeight:
		if key.Matches(msg, m.keys.List.Quit) {
			return m.quit()
		}
		return m, nil
	}
	if m.detail == detailMap && m.focus != focusPane {
		// The map covers the list: its keys are the map's.
		m.focus = focusDetail
		if mod, cmd, ok := m.mapKey(msg); ok {
			return mod, cmd
		}
	}
	if m.focus == focusDetail {
		if mod, cmd, ok := m.detailKey(msg); ok {
			return mod, cmd
		}
	}
	return m.listKey(msg)
}

func (m Model) listKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.keys.List
	c, haveSel := m.selected()
	if haveSel && exited(c) {
		// Nothing runs in an exited container: only its history, the
		// views of the whole host, and removing it apply.
		for _, b := range []key.Binding{k.Attach, k.Exec, k.ExecEngine, k.Debug, k.Processes, k.Mounts} {
			if key.Matches(msg, b) {
				m.setStatus(fmt.Sprintf("%s has %s: nothing runs in it (%s shows its history, %s removes it)",
					shortLabel(c), exitText(c), k.Events.Help().Key, k.Kill.Help().Key), true)
				return m, nil
			}
		}
		if key.Matches(msg, k.Kill) {
			return m.askRemoveContainer(c)
		}
	}
	var res keyResult
	m.list, res = m.list.update(msg)
	switch res {
	case keyMoved:
		m.selectionMoved()
		return m, m.detailRefresh()
	case keyHandled:
		switch {
		case key.Matches(msg, k.Sort):
			m.setStatus("sorted by "+sortNames[m.list.sortCol], false)
		case key.Matches(msg, k.ShowExited):
			m.layoutPanes()
			if m.list.showExited {
				m.setStatus(fmt.Sprintf("showing exited containers (%s removes one)", k.Kill.Help().Key), false)
			} else {
				m.setStatus("exited containers hidden", false)
			}
			return m, m.detailRefresh()
		}
		return m, nil
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		m.showHelp = true
	case key.Matches(msg, k.Filter):
		m.focus = focusFilter
		return m, m.list.filter.Focus()
	case key.Matches(msg, k.Processes):
		if !haveSel {
			return m, nil
		}
		m.detail, m.focus = detailProcesses, focusDetail
		m.procs.open(c)
	case key.Matches(msg, k.Mounts):
		if !haveSel {
			return m, nil
		}
		m.detail, m.focus, m.mounts.cur = detailMounts, focusDetail, 0
		return m, m.mountsCmd(c)
	case key.Matches(msg, k.Tree):
		m.detail, m.focus = detailTree, focusDetail
		// The last tree shows at once, the cursor on the selection, while
		// a fresh one is read.
		m.tree.open(c.Namespaces[namespace.PID])
		return m, m.treeCmd()
	case key.Matches(msg, k.Map):
		return m.openMap()
	case key.Matches(msg, k.Events):
		if !haveSel {
			return m, nil
		}
		m.detail, m.focus, m.events.off = detailEvents, focusDetail, 0
		return m, m.eventsCmd()
	case key.Matches(msg, k.Launch):
		return m.openLaunchForm()
	case key.Matches(msg, k.Attach):
		if !haveSel {
			return m, nil
		}
		if c.Name == "" {
			m.setStatus(fmt.Sprintf("attach: %s has no console (not launched by boxtui); %s execs a shell in it", containerLabel(c), m.keys.List.Exec.Help().Key), true)
			return m, nil
		}
		cols, rows := m.newPaneSize()
		return m, m.openConsoleCmd(c.Name, c.PID, cols, rows)
	case key.Matches(msg, k.ExecEngine):
		return m.execEngineKey(c, haveSel)
	case key.Matches(msg, k.Exec):
		if !haveSel {
			return m, nil
		}
		cols, rows := m.newPaneSize()
		return m, m.execCmd(c, cols, rows)
	case key.Matches(msg, k.Debug):
		if !haveSel {
			return m, nil
		}
		cols, rows := m.newPaneSize()
		return m, m.debugCmd(c, cols, rows)
	case key.Matches(msg, k.Kill):
		if !haveSel {
			return m, nil
		}
		return m.askKillContainer(c)
	case key.Matches(msg, k.FocusPane):
		// The Nth key of the binding focuses pane N (1..9 by default).
		n := slices.Index(k.FocusPane.Keys(), msg.String())
		if n < 0 || n >= len(m.panes.all) {
			m.setStatus(fmt.Sprintf("no pane %d (%d open)", n+1, len(m.panes.all)), true)
			return m, nil
		}
		m.focusPaneAt(n)
	case key.Matches(msg, k.ClosePane):
		return m.closePane()
	case key.Matches(msg, k.CopyMode):
		return m.listCopyMode()
	}
	return m, nil
}

// filterKey gives a key or a paste to the filter line; enter and esc give
// the focus back.
func (m Model) filterKey(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	var res filterResult
	m.list, cmd, res = m.list.updateFilter(msg)
	m.layoutPanes()
	if res == filterTyped {
		return m, cmd
	}
	m.focus = focusList
	if m.detail == detailMap {
		m.focus = focusDetail // the map covers the list
	}
	if res == filterAccepted {
		return m, m.detailRefresh()
	}
	return m, nil
}

// detailRefresh reloads what the detail panel needs for a new selection.
func (m Model) detailRefresh() tea.Cmd {
	switch m.detail {
	case detailMounts:
		if c, ok := m.selected(); ok {
			return m.mountsCmd(c)
		}
	case detailEvents:
		return m.eventsCmd()
	}
	return nil
}

func (m Model) rescan() tea.Cmd {
	// A ticked scan may be in flight; a doneMsg with rescan asks once more
	// when it is not.
	return func() tea.Msg { return doneMsg{rescan: true} }
}

// quit leaves the UI. Containers keep running; open exec shells are closed
// after a question.
func (m Model) quit() (tea.Model, tea.Cmd) {
	execs := 0
	for _, p := range m.panes.all {
		if p.kind == paneExec {
			execs++
		}
	}
	if execs > 0 {
		m.confirm = &confirmState{
			prompt: fmt.Sprintf("Quit? %d exec shell(s) will be closed; containers keep running.", execs),
			onYes: func(m *Model, _ signalChoice) tea.Cmd {
				return m.finish()
			},
		}
		return m, nil
	}
	return m, m.finish()
}

// finish closes every pane and quits.
func (m *Model) finish() tea.Cmd {
	n := 0
	for _, c := range m.scan.snap.Containers {
		if c.Status == state.StatusRunning {
			n++
		}
	}
	m.quitting = true
	m.summary = fmt.Sprintf("boxtui: quit; %d container(s) keep running (boxtui never stops them on quit; `boxtui ls` lists them)", n)
	var terms []Terminal
	for _, p := range m.panes.all {
		terms = append(terms, p.term)
		p.stop()
	}
	m.panes.all = nil
	closeAll := func() tea.Msg {
		var errs []error
		for _, t := range terms {
			if err := t.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if err := errors.Join(errs...); err != nil {
			return errMsg{err}
		}
		return nil
	}
	return tea.Sequence(closeAll, tea.Quit)
}
