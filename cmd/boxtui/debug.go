package main

import (
	"errors"

	"boxtui/runtime/debug"

	"github.com/spf13/cobra"
)

func init() {
	var f debug.Flags
	cmd := &cobra.Command{
		Use:   "debug [--tools DIR] [--ro] [-i] [-t] [-w DIR] [-e K=V]... TARGET [-- COMMAND [ARGS...]]",
		Short: "Open a shell from a toolbox in a container that has none",
		Long: `Debug a container that has no shell (distroless, scratch, a static binary):
run a shell, or COMMAND, from a toolbox root filesystem in the container's
PID, network, IPC and UTS namespaces, with the container's whole mount tree
(as its root sees it, /proc and every volume included) at /target.

TARGET is a container's name (boxtui's
or its engine's; ORIGIN:NAME; an engine ID prefix) or the host PID of any process inside a
container, whoever made it (docker, podman, LXC, nspawn, unshare...), as for
exec. The toolbox is boxtui's default rootfs (` + "`boxtui rootfs create`" + `) unless
--tools names another directory; without a command its /bin/bash, else
/bin/sh, runs. Inside, ps shows the container's processes (a fresh /proc of
its PID namespace), hostname and the network are the container's, and
/target is read-write (--ro: read-only); /etc/resolv.conf and /etc/hosts
are the container's, so names resolve as they do in it.

Nothing changes in the container's own mount namespace, and nothing in the
toolbox: the shell gets a mount namespace of its own, in which the toolbox
lies under an overlay whose writable layer is a tmpfs; whatever is written
outside /target is gone when the shell exits, and the namespace with it.
The user namespace is not joined: the shell is host root in the container's
other namespaces, and a container with its own user namespace shows its
files and processes with their host uids.

A PTY is used with -t or when stdin is a terminal; without one the command
runs with stdout and stderr as they are (and stdin with -i). The exit code
(or 128+signal) of the command is boxtui's.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("no target given: name a container (boxtui's or its engine's, ORIGIN:NAME or an engine ID prefix; see `boxtui ls`) or give the host PID of a process in a container")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			f.Target, f.Command = args[0], args[1:]
			// Flags stop at TARGET, so a -- after it is still in args.
			if len(f.Command) > 0 && f.Command[0] == "--" {
				f.Command = f.Command[1:]
			}
			return debug.Run(f, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	// COMMAND's own flags are its, not boxtui's: `debug web ls -l`.
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().StringVar(&f.Tools, "tools", "", "toolbox root filesystem to run the shell from (default: "+debug.DefaultTools+")")
	cmd.Flags().BoolVar(&f.ReadOnly, "ro", false, "make /target read-only (in the debug shell only)")
	cmd.Flags().BoolVarP(&f.Interactive, "interactive", "i", false, "keep stdin open and pass it to the command (without a PTY)")
	cmd.Flags().BoolVarP(&f.TTY, "tty", "t", false, "run the command on a PTY even when stdin is not a terminal")
	cmd.Flags().StringVarP(&f.Dir, "workdir", "w", "", "working directory in the debug root (default /; the container's files are under /target)")
	cmd.Flags().StringArrayVarP(&f.Env, "env", "e", nil, "set an environment variable (KEY=VALUE), may repeat")
	rootCmd.AddCommand(cmd)
}
