package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"boxtui/runtime/discovery"
	"boxtui/runtime/mounts"
	"boxtui/runtime/privilege"

	"github.com/spf13/cobra"
)

// targetWords says what a TARGET is, for the errors of commands that take
// one.
const targetWords = "TARGET is a container's name (boxtui's or its engine's), ORIGIN:NAME, an engine ID prefix, or the host PID of a process in a container; see `boxtui ls`"

// exactArgs is cobra.ExactArgs with a message that shows the usage line,
// so a missing argument says which one, and what a TARGET is.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			words := "arguments"
			if n == 1 {
				words = "argument"
			}
			msg := fmt.Sprintf("%s takes %d %s, got %d: usage: boxtui %s", cmd.Name(), n, words, len(args), cmd.Use)
			if strings.Contains(cmd.Use, "TARGET") {
				msg += " (" + targetWords + ")"
			}
			return errors.New(msg)
		}
		return nil
	}
}

func init() {
	var ro, mkdir bool
	mount := &cobra.Command{
		Use:   "mount [--ro] [--mkdir] TARGET HOSTPATH CTRPATH",
		Short: "Bind-mount a host directory or file into a running container",
		Long: `Bind-mount HOSTPATH (a directory or a file) at CTRPATH inside a running
container. TARGET is a container's name (boxtui's
or its engine's; ORIGIN:NAME; an engine ID prefix) or the host PID of any process in
a container, boxtui's or not (unshare, docker, ...). A name or the init's PID
means the init's mount namespace and root; any other host PID means that
process's own (as nsenter -t PID), which differ from the init's for a shell
started with a mount namespace of its own. The mount is recorded as the
container's, with the mount namespace it went into.

The mount appears inside the container's own mount namespace; a container
that shares the host's (a plain unshare --pid chroot) gets it at its root's
path on the host. With --ro it is read-only from the moment it appears: not a
single write can slip in while it is being set up. It is always nosuid and
nodev. CTRPATH is resolved inside the container's root, so symlinks in the
container cannot lead it (or --mkdir) onto the host. /, /dev, and /proc, /sys,
/dev/pts, /dev/shm, /dev/mqueue and anything under them are refused as CTRPATH.
HOSTPATH may not be on one of the host's kernel filesystems (proc, sysfs,
cgroup, debugfs, tracefs, bpf, devpts, mqueue, namespace files, ...) nor hold
one mounted below it (such as /): the mount would bring it along.`,
		Example: `  boxtui mount --ro web ./gojek /var/gojek
  boxtui mount --mkdir 4242 /etc/resolv.conf /etc/resolv.conf`,
		Args: exactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := privilege.RequireRoot("mount"); err != nil {
				return err
			}
			c, err := discovery.FindContainer(args[0])
			if err != nil {
				return err
			}
			return logged("mount.add", actedOn(c)+" "+args[1]+" -> "+args[2]+" "+roOrRW(ro), mounts.Add(c, args[1], args[2], mounts.AddOptions{ReadOnly: ro, Mkdir: mkdir}))
		},
	}
	mount.Flags().BoolVar(&ro, "ro", false, "mount read-only")
	mount.Flags().BoolVar(&mkdir, "mkdir", false, "create CTRPATH inside the container if missing (an empty file for a file)")
	rootCmd.AddCommand(mount)

	var toRO, toRW bool
	remount := &cobra.Command{
		Use:   "remount (--ro|--rw) TARGET CTRPATH",
		Short: "Flip a mount inside a running container between read-only and read-write",
		Long: `Flip the mount at CTRPATH inside a running container between read-only and
read-write, in place and atomically (mounts below it flip too). TARGET is a
container's name (boxtui's or its engine's; ORIGIN:NAME; an engine ID prefix) or the host PID of a process in a container: the mount
is looked up in that process's mount namespace and root (the init's for a
name).`,
		Example: `  boxtui remount --rw web /var/gojek`,
		Args:    exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if toRO == toRW {
				return fmt.Errorf("remount needs exactly one of --ro or --rw")
			}
			if err := privilege.RequireRoot("remount"); err != nil {
				return err
			}
			c, err := discovery.FindContainer(args[0])
			if err != nil {
				return err
			}
			return logged("mount.flip", actedOn(c)+" "+args[1]+" "+roOrRW(toRO), mounts.Remount(c, args[1], toRO))
		},
	}
	remount.Flags().BoolVar(&toRO, "ro", false, "make it read-only")
	remount.Flags().BoolVar(&toRW, "rw", false, "make it read-write")
	rootCmd.AddCommand(remount)

	umount := &cobra.Command{
		Use:   "umount TARGET CTRPATH",
		Short: "Remove a mount from a running container",
		Long: `Detach the mount at CTRPATH inside a running container (lazily, like
umount -l: a process still using it keeps it until it lets go). TARGET is a
container's name (boxtui's or its engine's; ORIGIN:NAME; an engine ID prefix) or the host PID of a process in a container: the mount
is looked up in that process's mount namespace and root (the init's for a
name). A mount
that boxtui added is removed wherever it is; the container's own /, /proc,
/sys, /dev (and the other paths mount refuses) are not.`,
		Example: `  boxtui umount web /var/gojek`,
		Args:    exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := privilege.RequireRoot("umount"); err != nil {
				return err
			}
			c, err := discovery.FindContainer(args[0])
			if err != nil {
				return err
			}
			return logged("mount.remove", actedOn(c)+" "+args[1], mounts.Remove(c, args[1]))
		},
	}
	rootCmd.AddCommand(umount)

	var asJSON bool
	list := &cobra.Command{
		Use:   "mounts [--json] TARGET",
		Short: "List a container's mounts as it sees them, marking those boxtui added",
		Long: `List the mount table of a running container from its own mountinfo, with
mount points as seen inside. MANAGED marks mounts added with boxtui mount
(or run -v) in that mount namespace. TARGET is a container's name (boxtui's
or its engine's; ORIGIN:NAME; an engine ID prefix) or the
host PID of a process in a container: the table is that process's, as it sees
it (the init's for a name or the init's PID).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := privilege.RequireRoot("mounts"); err != nil {
				return err
			}
			c, err := discovery.FindContainer(args[0])
			if err != nil {
				return err
			}
			ms, err := mounts.List(c)
			if err != nil {
				return err
			}
			if asJSON {
				if ms == nil {
					ms = []mounts.Mount{}
				}
				return writeJSON(cmd.OutOrStdout(), ms)
			}
			return writeMountTable(cmd.OutOrStdout(), ms)
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, `print a JSON array of {"source","target","fstype","readonly","managed"}`)
	rootCmd.AddCommand(list)
}

// writeMountTable prints the mounts as a table. A container names its
// mount points and chooses the source and type of what it mounts, so every
// cell is escaped (see termsafe).
func writeMountTable(w io.Writer, ms []mounts.Mount) error {
	rows := [][]string{{"TARGET", "SOURCE", "FSTYPE", "MODE", "MANAGED"}}
	for _, m := range ms {
		mode, managed := "rw", "-"
		if m.ReadOnly {
			mode = "ro"
		}
		if m.Managed {
			managed = "yes"
		}
		rows = append(rows, []string{m.Target, m.Source, m.FSType, mode, managed})
	}
	return writeTable(w, rows)
}

// actedOn names in the action log what a mount command acted in: the
// container, and the process a host PID named when that was not its init.
func actedOn(c discovery.Container) string {
	if c.Named.PID > 0 {
		return c.Target() + " pid:" + strconv.Itoa(c.Named.PID)
	}
	return c.Target()
}
