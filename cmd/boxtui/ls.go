package main

import (
	"fmt"
	"io"
	"strconv"

	"boxtui/internal/lscmd"
	"boxtui/internal/termsafe"
	"boxtui/runtime/discovery"
	"boxtui/runtime/namespace"

	"github.com/spf13/cobra"
)

// tableNS are the namespace columns of the tables, the same as ls's.
var tableNS = lscmd.TableNS

func init() {
	var asJSON, all bool
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List every running container on the host, with its namespace inodes",
		Long: `List every process tree in a PID namespace other than boxtui's own, whoever
made it (boxtui, docker, podman, lxc, nspawn, bwrap, kubernetes, else
unshare). NAME is boxtui's name for the container, else its engine's, read
from the engine's own state (--json adds engine_id, the engine's container
ID). Namespace inodes marked with * are shared with the host (boxtui's own
namespaces).`,
		Args: cobra.NoArgs,
		// `boxtui ls` normally runs from lscmd's package init, before the
		// UI libraries initialise; this runs it when that path left it to
		// cobra (help, a bad flag, a flag before `ls`) and in tests.
		RunE: func(cmd *cobra.Command, _ []string) error {
			return lscmd.Run(lscmd.Flags{JSON: asJSON, All: all}, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	ls.Flags().BoolVar(&asJSON, "json", false, "print a JSON array, one object per container")
	ls.Flags().BoolVarP(&all, "all", "a", false, "also list exited boxtui containers with their exit status")
	rootCmd.AddCommand(ls)

	var psJSON bool
	ps := &cobra.Command{
		Use:   "ps TARGET",
		Short: "List the processes of a container with host and in-container PIDs and their namespaces",
		Long: `List the processes of one container: TARGET is its name (boxtui's or its
engine's), ORIGIN:NAME, an engine ID prefix or the host PID of any process
inside it. Each process shows its host PID, its PID
inside the container and its own namespace inodes (* = shared with the host),
so a process that entered with its own mount namespace stands out.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			snap, err := discovery.Scan(discovery.ScanOptions{ProcessNamespaces: true})
			if err != nil {
				return err
			}
			warn(cmd, snap.Warnings)
			c, err := snap.Find(args[0])
			if err != nil {
				return err
			}
			if psJSON {
				return writeJSON(cmd.OutOrStdout(), c.Procs)
			}
			return writeProcessTable(cmd.OutOrStdout(), snap.Host, c)
		},
	}
	ps.Flags().BoolVar(&psJSON, "json", false, "print a JSON array, one object per process")
	rootCmd.AddCommand(ps)

	var nsJSON bool
	ns := &cobra.Command{
		Use:   "ns PID",
		Short: "Show one process's namespace links beside boxtui's own",
		Long: `Like ls -l /proc/PID/ns, with boxtui's own namespaces beside each link and
"shared with host" or "own" spelled out. A link the kernel will not let us
read shows as unknown.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pid, err := strconv.Atoi(args[0])
			if err != nil || pid <= 0 {
				return fmt.Errorf("invalid PID %q: give the host PID of a process", args[0])
			}
			set, err := namespace.Read(pid)
			if err != nil {
				return err
			}
			host := namespace.Host()
			if nsJSON {
				type link struct {
					Type   string `json:"type"`
					Inode  uint64 `json:"inode"`
					Host   uint64 `json:"host"`
					Shared bool   `json:"shared"`
				}
				out := []link{}
				for _, t := range namespace.All() {
					out = append(out, link{t.String(), set[t], host[t], set[t] != 0 && set[t] == host[t]})
				}
				return writeJSON(cmd.OutOrStdout(), out)
			}
			rows := [][]string{{"TYPE", "INODE", "HOST", ""}}
			for _, t := range namespace.All() {
				rows = append(rows, []string{t.String(), inode(set[t]), inode(host[t]), sharing(set[t], host[t])})
			}
			return writeTable(cmd.OutOrStdout(), rows)
		},
	}
	ns.Flags().BoolVar(&nsJSON, "json", false, "print a JSON array, one object per namespace type")
	ns.AddCommand(nsDiffCmd(), nsTreeCmd())
	rootCmd.AddCommand(ns)
}

func sharing(ino, host uint64) string {
	switch {
	case ino == 0 || host == 0:
		return "unknown"
	case ino == host:
		return "shared with host"
	default:
		return "own"
	}
}

func inode(ino uint64) string { return lscmd.Inode(ino) }

// markedInode prints an inode with * when the host has the same one.
func markedInode(ino, host uint64) string { return lscmd.MarkedInode(ino, host) }

func writeProcessTable(w io.Writer, host namespace.Set, c discovery.Container) error {
	head := []string{"PID", "INNER", "PPID", "UID"}
	for _, t := range tableNS {
		head = append(head, lscmd.NSHeader(t))
	}
	head = append(head, "COMMAND")
	rows := [][]string{head}
	for _, p := range c.Procs {
		row := []string{strconv.Itoa(p.PID), strconv.Itoa(p.InnerPID), strconv.Itoa(p.PPID), strconv.Itoa(p.UID)}
		for _, t := range tableNS {
			row = append(row, markedInode(p.Namespaces[t], host[t]))
		}
		row = append(row, termsafe.Clip(p.Command, 60))
		rows = append(rows, row)
	}
	if err := writeTable(w, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "* = shared with the host")
	return err
}

// writeTable prints rows as aligned columns, every cell escaped: cells
// hold what containers chose (command lines, mount points, names), which
// must not reach the terminal as control characters (see termsafe).
func writeTable(w io.Writer, rows [][]string) error {
	_, err := w.Write(termsafe.AppendTable(nil, rows))
	return err
}

func writeJSON(w io.Writer, v any) error { return lscmd.WriteJSON(w, v) }

// warn prints scan warnings on stderr, one line each.
func warn(cmd *cobra.Command, ws []error) {
	lscmd.WriteWarnings(cmd.ErrOrStderr(), ws)
}
