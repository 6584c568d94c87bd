package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"

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
		uiMemory()
		return ui.Run(cmd.Context(), b, opts, cmd.OutOrStdout())
	}
}

// uiGCPercent is the UI's GOGC. The idle UI's live heap is 1-3 MB, and it
// allocates a few hundred KB a second (refreshes, frames): with Go's
// default of 100 the heap grows to twice the live heap (at least 4 MB)
// before each collection and the runtime keeps those pages. At 25 a
// collection comes every few seconds at ~1 ms each, and the heap stays
// within a quarter of what is live. A pane's burst of output runs with
// 100 until it is over (package pty, memory.go).
const uiGCPercent = 25

// uiMemory sets the UI process's GOGC, unless the person chose their own.
func uiMemory() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(uiGCPercent)
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
