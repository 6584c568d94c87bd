package main

import (
	"fmt"
	"os"

	"boxtui/runtime/discovery"
	"boxtui/runtime/launch"
	"boxtui/runtime/privilege"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
)

func init() {
	attach := &cobra.Command{
		Use:   "attach NAME",
		Short: "Reconnect to the console of a boxtui container",
		Long: `Reconnect to the console of a container started by boxtui run (or the UI).
On a terminal, attach draws the console's current screen at this
terminal's size (the console takes that size), with up to 1,000 recent
lines in the terminal's scrollback; a terminal that cannot keep up with a
flood of output is skipped ahead to the current screen, never disconnected,
and a connection that breaks while the container's holder runs is dialled
again. Without a terminal, the recent lines come first as text.
` + detachHelp + `
Without a terminal, stdin and stdout are passed through and attach exits
with the container's exit code when it ends.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := privilege.RequireRoot("attach"); err != nil {
				return err
			}
			con, err := launch.DialConsole(args[0])
			if err != nil {
				// Not a boxtui name with a console: the TARGET may still
				// name a container another way (boxtui:NAME, a PID, an
				// engine's name), which may or may not have a console.
				c, ferr := discovery.FindContainer(args[0])
				switch {
				case ferr != nil:
				case c.Origin != discovery.OriginBoxtui:
					return fmt.Errorf("attach %s: a %s container has no boxtui console; `boxtui exec %s` runs a shell in it", args[0], c.Origin, args[0])
				case c.Name != args[0]:
					con, err = launch.DialConsole(c.Name)
				}
				if err != nil {
					return err
				}
			}
			defer con.Close()
			if term.IsTerminal(os.Stdin.Fd()) && term.IsTerminal(os.Stdout.Fd()) {
				s, err := terminalSize()
				if err != nil {
					return err
				}
				if err := con.Screen(s.Rows, s.Cols, true, nil); err != nil {
					return err
				}
				return attachTerminal(cmd, con)
			}
			st, err := launch.AttachConsole(con, os.Stdin, cmd.OutOrStdout(), nil, launch.AttachOptions{DetachKeys: []byte{}})
			return exitResult(con.Name(), st, err)
		},
	}
	rootCmd.AddCommand(attach)
}
