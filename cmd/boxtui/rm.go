package main

import (
	"fmt"

	"boxtui/runtime/exitstatus"
	"boxtui/runtime/launch"
	"boxtui/runtime/privilege"

	"github.com/spf13/cobra"
)

func init() {
	var force bool
	rm := &cobra.Command{
		Use:   "rm [-f] NAME...",
		Short: "Remove exited boxtui containers",
		Long: `Remove the state of boxtui containers that have exited (see boxtui ls -a).
A running container is refused unless -f, which stops it first (SIGTERM,
then SIGKILL after ` + launch.DefaultGrace.String() + `). rm -f frees the name even when the
state file is corrupt: what runs under it is found from its console
socket, not from the file. Every name given is tried; each failure is one
line on stderr, and the exit code is 1 if any failed.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := privilege.RequireRoot("rm"); err != nil {
				return err
			}
			// Every name is tried, whatever happened to the ones before:
			// one missing name must not leave the next one running.
			failed := 0
			for _, name := range args {
				if err := logged("rm", name, launch.Remove(name, force, launch.DefaultGrace)); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "boxtui: %v\n", err)
					failed++
				}
			}
			if failed > 0 {
				return &exitstatus.Error{Code: 1}
			}
			return nil
		},
	}
	rm.Flags().BoolVarP(&force, "force", "f", false, "stop a running container first")
	rootCmd.AddCommand(rm)
}
