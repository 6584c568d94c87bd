package ui

import (
	"fmt"
	"strings"
	"syscall"

	"boxtui/internal/termsafe"
	"boxtui/runtime/discovery"
	"boxtui/ui/components/table"
	"boxtui/ui/keymap"
	"boxtui/ui/styles"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// signalChoice is one answer to "which signal?".
type signalChoice struct {
	Name string
	Sig  syscall.Signal
	// Stop means SIGTERM, a grace time, then SIGKILL.
	Stop bool
}

// A stop first (SIGTERM, or SIGRTMIN+3 for systemd; see launch.StopReport):
// a shell or sleep as PID 1 ignores a bare SIGTERM from
// outside, so only a stop reliably ends a container.
var containerSignals = []signalChoice{
	{Name: "stop (grace, then KILL)", Stop: true},
	{Name: "TERM", Sig: syscall.SIGTERM},
	{Name: "KILL", Sig: syscall.SIGKILL},
	{Name: "INT", Sig: syscall.SIGINT},
	{Name: "HUP", Sig: syscall.SIGHUP},
}

var processSignals = []signalChoice{
	{Name: "TERM", Sig: syscall.SIGTERM},
	{Name: "KILL", Sig: syscall.SIGKILL},
	{Name: "INT", Sig: syscall.SIGINT},
	{Name: "HUP", Sig: syscall.SIGHUP},
	{Name: "STOP", Sig: syscall.SIGSTOP},
	{Name: "CONT", Sig: syscall.SIGCONT},
}

// confirmState is an open yes/no question.
type confirmState struct {
	prompt  string
	signals []signalChoice // nil: a plain yes/no
	choice  int
	onYes   func(m *Model, s signalChoice) tea.Cmd
}

// answer is what a key did to a question.
type answer int

const (
	answerPending answer = iota // still asking (maybe another signal)
	answerYes
	answerNo
)

// update answers the question or picks another signal. The question is a
// value: a new choice is a new question, so a Model that held the old one
// keeps it.
func (c *confirmState) update(msg tea.KeyPressMsg, k keymap.Confirm) (*confirmState, answer) {
	switch {
	case key.Matches(msg, k.Yes):
		return c, answerYes
	case key.Matches(msg, k.No):
		return c, answerNo
	case key.Matches(msg, k.NextSignal) && len(c.signals) > 0:
		cc := *c
		cc.choice = (cc.choice + 1) % len(cc.signals)
		return &cc, answerPending
	case key.Matches(msg, k.PrevSignal) && len(c.signals) > 0:
		cc := *c
		cc.choice = (cc.choice + len(cc.signals) - 1) % len(cc.signals)
		return &cc, answerPending
	}
	return c, answerPending
}

// chosen is the signal picked, the zero choice for a plain yes/no.
func (c *confirmState) chosen() signalChoice {
	if len(c.signals) == 0 {
		return signalChoice{}
	}
	return c.signals[c.choice]
}

// updateConfirm gives a key to the open question; yes runs its action on
// the root.
func (m Model) updateConfirm(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	c, ans := m.confirm.update(msg, m.keys.Confirm)
	switch ans {
	case answerYes:
		m.confirm = nil
		return m, c.onYes(&m, c.chosen())
	case answerNo:
		m.confirm = nil
		m.setStatus("cancelled", false)
	default:
		m.confirm = c
	}
	return m, nil
}

// view draws the question in two lines: prompt, then choices.
func (c *confirmState) view(st *styles.Styles, width int) string {
	lines := []string{st.Prompt.Render(table.Fit(c.prompt+"  (y/n)", width, false))}
	if len(c.signals) > 0 {
		var b strings.Builder
		b.WriteString("signal: ")
		for i, s := range c.signals {
			if i > 0 {
				b.WriteString(" ")
			}
			if i == c.choice {
				b.WriteString(st.ChoiceActive.Render("[" + s.Name + "]"))
			} else {
				b.WriteString(st.Choice.Render(" " + s.Name + " "))
			}
		}
		b.WriteString("  ←/→ choose")
		lines = append(lines, table.Fit(b.String(), width, false))
	} else {
		lines = append(lines, strings.Repeat(" ", width))
	}
	return strings.Join(lines, "\n")
}

func (m Model) askKillContainer(c discovery.Container) (tea.Model, tea.Cmd) {
	b, grace := m.backend, m.opts.StopGrace
	m.confirm = &confirmState{
		prompt:  fmt.Sprintf("Kill container %s?", containerLabel(c)),
		signals: containerSignals,
		onYes: func(m *Model, s signalChoice) tea.Cmd {
			label := containerLabel(c)
			if s.Stop {
				m.setStatus(fmt.Sprintf("stopping %s (its stop signal, then KILL after %s)…", label, grace), false)
				return func() tea.Msg {
					how, err := b.Stop(c, grace)
					if err != nil {
						return errMsg{fmt.Errorf("stop %s: %w", label, err)}
					}
					return doneMsg{text: fmt.Sprintf("stopped %s: %s", label, how), rescan: true}
				}
			}
			return func() tea.Msg {
				if err := b.Kill(c.PID, c.StartTime, s.Sig); err != nil {
					return errMsg{fmt.Errorf("kill %s with SIG%s: %w", label, s.Name, err)}
				}
				return doneMsg{text: fmt.Sprintf("sent SIG%s to %s", s.Name, label), rescan: true}
			}
		},
	}
	return m, nil
}

// askRemoveContainer asks before removing an exited boxtui container: its
// state and history go, and its name is free again.
func (m Model) askRemoveContainer(c discovery.Container) (tea.Model, tea.Cmd) {
	b, name := m.backend, c.Name
	m.confirm = &confirmState{
		prompt: fmt.Sprintf("Remove %s, which %s? Its history goes and its name is free again.", shortLabel(c), exitText(c)),
		onYes: func(m *Model, _ signalChoice) tea.Cmd {
			return func() tea.Msg {
				if err := b.Remove(name); err != nil {
					return errMsg{fmt.Errorf("remove %s: %w", termsafe.String(name), err)}
				}
				return doneMsg{text: "removed " + termsafe.String(name), rescan: true}
			}
		},
	}
	return m, nil
}

func (m Model) askKillProcess(c discovery.Container, p discovery.Process) (tea.Model, tea.Cmd) {
	b := m.backend
	m.confirm = &confirmState{
		prompt:  fmt.Sprintf("Kill process %d (PID %d inside %s): %s?", p.PID, p.InnerPID, shortLabel(c), p.Comm),
		signals: processSignals,
		onYes: func(m *Model, s signalChoice) tea.Cmd {
			return func() tea.Msg {
				if err := b.Kill(p.PID, p.StartTime, s.Sig); err != nil {
					return errMsg{fmt.Errorf("kill process %d with SIG%s: %w", p.PID, s.Name, err)}
				}
				return doneMsg{text: fmt.Sprintf("sent SIG%s to process %d (%s)", s.Name, p.PID, p.Comm), rescan: true}
			}
		},
	}
	return m, nil
}
