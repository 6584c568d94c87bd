package main

import (
	"boxtui/runtime"
	"boxtui/runtime/launch"

	"github.com/spf13/cobra"
)

func init() {
	var force bool
	rm := &cobra.Command{
		Use:   "rm [-f] NAME...",
		Short: "Remove exited boxtui containers",
		Long: `Remove the state of boxtui containers that have exited (see boxtui ls -a).
A running container is refused unless -f, which stops it first (SIGTERM,
then SIGKILL after ` + launch.DefaultGrace.String() + `).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := runtime.RequireRoot("rm"); err != nil {
				return err
			}
			for _, name := range args {
				if err := logged("rm", name, launch.Remove(name, force, launch.DefaultGrace)); err != nil {
					return err
				}
			}
			return nil
		},
	}
	rm.Flags().BoolVarP(&force, "force", "f", false, "stop a running container first")
	rootCmd.AddCommand(rm)
}
