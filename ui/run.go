package ui

import (
	"context"
	"fmt"
	"io"

	tea "charm.land/bubbletea/v2"
)

// rendererFPS is how often bubbletea's renderer wakes to compare the view
// and flush it. Its ticker runs even when nothing changed, and at the
// default 60 it was most of the idle UI's CPU (about 4% of a core on the
// 2,000-process benchmark; the scan itself costs ~1 ms a second). At 30 the
// idle UI measured about 2%, and a keystroke's echo in a pane waits at most
// one more 33 ms frame, below what typing notices.
const rendererFPS = 30

// Run runs the UI on the terminal until the person quits, then writes the
// summary (containers keep running) to out.
func Run(ctx context.Context, b Backend, opts Options, out io.Writer) error {
	p := tea.NewProgram(New(b, opts), tea.WithContext(ctx), tea.WithFPS(rendererFPS))
	final, err := p.Run()
	if err != nil {
		return fmt.Errorf("run the terminal UI: %w", err)
	}
	if m, ok := final.(Model); ok && m.Summary() != "" {
		fmt.Fprintln(out, m.Summary())
	}
	return nil
}
