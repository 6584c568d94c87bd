package ui

import (
	"context"
	"fmt"
	"io"

	tea "charm.land/bubbletea/v2"
)

// Run runs the UI on the terminal until the person quits, then writes the
// summary (containers keep running) to out.
func Run(ctx context.Context, b Backend, opts Options, out io.Writer) error {
	p := tea.NewProgram(New(b, opts), tea.WithContext(ctx))
	final, err := p.Run()
	if err != nil {
		return fmt.Errorf("run the terminal UI: %w", err)
	}
	if m, ok := final.(Model); ok && m.Summary() != "" {
		fmt.Fprintln(out, m.Summary())
	}
	return nil
}
