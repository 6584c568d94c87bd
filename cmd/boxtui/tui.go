package main

import (
	"errors"
	"fmt"
	"os"

	"boxtui/runtime/exitstatus"
	"boxtui/ui"
	"boxtui/ui/backend"
	"boxtui/ui/keymap"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
)

// errNoTerminal is what boxtui says when run without a subcommand and
// stdin or stdout is not a terminal.
var errNoTerminal = errors.New("boxtui needs a terminal (use `boxtui ls` in scripts)")

func init() {
	rootCmd.Args = cobra.NoArgs
	rootCmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if !term.IsTerminal(os.Stdin.Fd()) || !term.IsTerminal(os.Stdout.Fd()) {
			fmt.Fprintln(cmd.ErrOrStderr(), errNoTerminal)
			return &exitstatus.Error{Code: 1}
		}
		opts, b, err := uiSetup()
		if err != nil {
			return err
		}
		return ui.Run(cmd.Context(), b, opts, cmd.OutOrStdout())
	}
}

// uiSetup turns the config file into the UI's options: refresh interval,
// colour, key bindings (checked against the UI's actions, so a typo is an
// error naming its file and line) and the launch form's default rootfs.
func uiSetup() (ui.Options, ui.Backend, error) {
	cfg, err := loadedConfig()
	if err != nil {
		return ui.Options{}, nil, err
	}
	keys := keymap.DefaultKeyMap()
	bindings, err := cfg.Bindings(keys.Defaults())
	if err != nil {
		return ui.Options{}, nil, err
	}
	if err := keys.Apply(bindings); err != nil {
		return ui.Options{}, nil, err
	}
	opts := ui.Options{
		NoColor:  colorDisabled(cfg),
		ReadOnly: os.Geteuid() != 0,
		Refresh:  cfg.Refresh,
		Keys:     &keys,
	}
	return opts, backend.New(backend.WithDefaultRootfs(cfg.Rootfs)), nil
}
