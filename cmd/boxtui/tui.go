package main

import (
	"errors"
	"fmt"
	"os"

	"boxtui/runtime"
	"boxtui/ui"
	"boxtui/ui/backend"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
)

// errNoTerminal is returned when boxtui is run without a subcommand and
// stdin or stdout is not a terminal.
var errNoTerminal = errors.New("boxtui needs a terminal (use `boxtui ls` in scripts)")

func init() {
	var noColor bool
	rootCmd.Flags().BoolVar(&noColor, "no-color", false, "show the UI without colours, spelling out what colour would say (also NO_COLOR)")
	rootCmd.Args = cobra.NoArgs
	rootCmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if !term.IsTerminal(os.Stdin.Fd()) || !term.IsTerminal(os.Stdout.Fd()) {
			fmt.Fprintln(cmd.ErrOrStderr(), errNoTerminal)
			return &runtime.ExitError{Code: 1}
		}
		opts := ui.Options{
			NoColor:  noColor || os.Getenv("NO_COLOR") != "",
			ReadOnly: os.Geteuid() != 0,
		}
		return ui.Run(cmd.Context(), backend.New(), opts, cmd.OutOrStdout())
	}
}
