package main

import (
	"errors"

	"boxtui/runtime/enter/execcmd"

	"github.com/spf13/cobra"
)

func init() {
	// Only for the help text and completion: execcmd.Parse reads the
	// arguments, here and in the early path that usually runs instead.
	var f struct {
		interactive, tty, newMountProc, asEngine bool
		ns, dir                                  string
		env                                      []string
	}
	cmd := &cobra.Command{
		Use:   "exec [-i] [-t] [--ns LIST] [--new-mount-proc] [--as-engine] [-w DIR] [-e K=V]... TARGET [-- COMMAND [ARGS...]]",
		Short: "Run a command inside a running container, with nsenter semantics",
		Long: `Run a command inside a running container: TARGET is a container's name (boxtui's
or its engine's; ORIGIN:NAME; an engine ID prefix) or
the host PID of any process inside a container (made by boxtui, unshare,
docker, podman...). A name, or the init's PID, enters the container's init;
any other host PID enters that process itself, which may have namespaces,
a root or a working directory of its own. The command joins every namespace
of that process that differs from boxtui's own, its root and its working
directory, like ` + "`nsenter -t PID -a -r -w`" + `, and is a member of the container's
PID namespace; the exec is recorded in the container's history.
Without a command it runs the container's /bin/bash, else /bin/sh. --ns
limits which namespaces are joined; the root is always the container's.

--new-mount-proc reproduces the classic recipe
` + "`nsenter --pid=/proc/PID/ns/pid unshare --fork --mount-proc=ROOT/proc chroot ROOT`" + `:
join only the PID namespace, get a mount namespace of its own with a fresh
/proc, and chroot into the container's root (and the user and time
namespaces of a container that has its own).

A container with its own user namespace is entered as ` + "`nsenter -a`" + ` does: as
root inside it (uid and gid 0, supplementary groups dropped), with the
capabilities root has there and none on the host.

--as-engine execs as the container's engine would (docker exec, podman exec),
on top of the namespaces: the command also joins the cgroups of the process
entered (every hierarchy: cgroup v1, hybrid and v2), and takes its
capability sets, no_new_privs, seccomp filters, uid, gid and groups,
resource limits, and the environment it was started with (then -e). With a PTY, the terminal
comes from the container's own devpts, so tty(1) works inside; the
engine's top lists the command. Reading the seccomp filters stops the
process for a moment (ptrace); a process that is traced already, paused,
in strict seccomp mode or whose filter needs a supervisor is refused.
Without the flag, exec keeps nsenter semantics.

A PTY is used with -t or when stdin is a terminal; the exit code (or 128+signal)
of the command is boxtui's. A command that is not found (or not executable)
in the container exits 127, as with a shell, nsenter and docker exec; any
other failure of boxtui itself exits 1.`,
		// `boxtui exec` normally runs from execcmd's package init, before
		// the UI libraries initialise; this runs it when that path left it
		// to cobra (help, a bad flag) or when execute is called in tests.
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			flags, err := execcmd.Parse(args)
			if errors.Is(err, execcmd.ErrHelp) {
				return cmd.Help()
			}
			if err != nil {
				return err
			}
			if err := checkConfigFlag(flags.Config); err != nil {
				return err
			}
			return execcmd.Run(flags, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().BoolVarP(&f.interactive, "interactive", "i", false, "keep stdin open and pass it to the command (without a PTY)")
	cmd.Flags().BoolVarP(&f.tty, "tty", "t", false, "run the command on a PTY even when stdin is not a terminal")
	cmd.Flags().StringVar(&f.ns, "ns", "", "namespaces to join, comma-separated: cgroup,ipc,mnt,net,pid,time,user,uts (default: all that differ)")
	cmd.Flags().BoolVar(&f.newMountProc, "new-mount-proc", false, "join only the pid namespace, with an own mount namespace and a fresh /proc")
	cmd.Flags().BoolVar(&f.asEngine, "as-engine", false, "also take the process's cgroups, capabilities, no_new_privs, seccomp filters, ids, limits and environment, and a terminal from its devpts")
	cmd.Flags().StringVarP(&f.dir, "workdir", "w", "", "working directory inside the container (default: the init's)")
	cmd.Flags().StringArrayVarP(&f.env, "env", "e", nil, "set an environment variable (KEY=VALUE), may repeat")
	rootCmd.AddCommand(cmd)
}
