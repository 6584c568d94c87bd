package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"boxtui/internal/lscmd"
	"boxtui/internal/termsafe"
	"boxtui/runtime/discovery"
	"boxtui/runtime/namespace"
	"boxtui/runtime/state"

	"github.com/spf13/cobra"
)

func init() {
	var asJSON bool
	var interval time.Duration
	var count int
	stats := &cobra.Command{
		Use:   "stats [TARGET]",
		Short: "Stream CPU, memory and process counts of containers",
		Long: `Print each container's CPU use (100% = one core), resident memory and
process count every interval, summed over its processes from /proc/PID/stat.
With --json, one JSON object per container and interval, one per line.
TARGET limits the output to one container (name or host PID).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if interval < 100*time.Millisecond {
				return fmt.Errorf("invalid --interval %v: use at least 100ms", interval)
			}
			return streamStats(cmd, args, asJSON, interval, count)
		},
	}
	stats.Flags().BoolVar(&asJSON, "json", false, "one JSON object per container and interval, one per line")
	stats.Flags().DurationVarP(&interval, "interval", "i", time.Second, "time between samples")
	stats.Flags().IntVarP(&count, "count", "n", 0, "stop after this many samples (0: until interrupted)")
	rootCmd.AddCommand(stats)
}

type statsLine struct {
	Time       time.Time `json:"time"`
	Name       string    `json:"name"`
	PID        int       `json:"pid"`
	CPUPercent float64   `json:"cpu_percent"`
	RSSBytes   int64     `json:"rss_bytes"`
	Processes  int       `json:"processes"`
}

func streamStats(cmd *cobra.Command, args []string, asJSON bool, interval time.Duration, count int) error {
	scanner := discovery.NewScanner()
	meter := discovery.NewUsageMeter()
	out := cmd.OutOrStdout()
	target := ""
	if len(args) == 1 {
		target = args[0]
	}
	// The first scan only primes the meter: CPU use needs two samples.
	snap, err := scanner.Scan(discovery.ScanOptions{ProcessNamespaces: true})
	if err != nil {
		return err
	}
	warn(cmd, snap.Warnings)
	want := 0
	if target != "" {
		c, err := snap.Find(target)
		if err != nil {
			return err
		}
		want = c.PID
	}
	meter.Observe(snap, time.Now())
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for n := 0; count == 0 || n < count; n++ {
		<-ticker.C
		snap, err := scanner.Scan(discovery.ScanOptions{ProcessNamespaces: true})
		if err != nil {
			return err
		}
		now := time.Now()
		usage := meter.Observe(snap, now)
		var lines []statsLine
		for _, c := range snap.Containers {
			if c.Status != state.StatusRunning || (want != 0 && c.PID != want) {
				continue
			}
			u := usage[c.PID]
			lines = append(lines, statsLine{now, c.Name, c.PID, u.CPUPercent, u.RSSBytes, u.Processes})
		}
		if want != 0 && len(lines) == 0 {
			return fmt.Errorf("container %s: %w (it exited)", target, discovery.ErrNotRunning)
		}
		if err := writeStats(out, lines, asJSON); err != nil {
			return err
		}
	}
	return nil
}

func writeStats(w io.Writer, lines []statsLine, asJSON bool) error {
	if asJSON {
		for _, l := range lines {
			if err := lscmd.WriteJSONLine(w, l); err != nil {
				return err
			}
		}
		return nil
	}
	rows := [][]string{{"NAME", "PID", "CPU%", "MEM", "PROCS"}}
	for _, l := range lines {
		name := l.Name
		if name == "" {
			name = "-"
		}
		rows = append(rows, []string{name, strconv.Itoa(l.PID), strconv.FormatFloat(l.CPUPercent, 'f', 1, 64),
			humanBytes(l.RSSBytes), strconv.Itoa(l.Processes)})
	}
	return writeTable(w, rows)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + "B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// nsDiffCmd is `boxtui ns diff PID1 PID2`.
func nsDiffCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "diff PID1 PID2",
		Short: "Compare two processes' namespaces type by type",
		Long: `Show, for each namespace type, whether two processes share it. The seed's two
shells (the first container's init and a second shell entered with nsenter
--pid ... unshare --mount-proc) share pid but differ in mnt.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var sets [2]namespace.Set
			for i, a := range args {
				pid, err := strconv.Atoi(a)
				if err != nil || pid <= 0 {
					return fmt.Errorf("invalid PID %q: give the host PID of a process", a)
				}
				if sets[i], err = namespace.Read(pid); err != nil {
					return err
				}
			}
			diff := namespace.Compare(sets[0], sets[1])
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), diff)
			}
			rows := [][]string{{"TYPE", "PID " + args[0], "PID " + args[1], ""}}
			for _, d := range diff {
				verdict := "differ"
				switch {
				case d.A == 0 || d.B == 0:
					verdict = "unknown"
				case d.Shared:
					verdict = "shared"
				}
				rows = append(rows, []string{d.Type, inode(d.A), inode(d.B), verdict})
			}
			return writeTable(cmd.OutOrStdout(), rows)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON array, one object per namespace type")
	return c
}

// nsTreeCmd is `boxtui ns tree`.
func nsTreeCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "tree",
		Short: "Show PID namespaces as a tree, with their containers and owning user namespaces",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			snap, err := discovery.Scan(discovery.ScanOptions{})
			if err != nil {
				return err
			}
			warn(cmd, snap.Warnings)
			tree := discovery.NamespaceTree(snap)
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), tree)
			}
			return writeTree(cmd.OutOrStdout(), tree, snap.Host[namespace.User])
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the tree as nested JSON objects")
	return c
}

// writeTree draws the tree, one namespace a line; names and command lines
// are escaped (see termsafe).
func writeTree(w io.Writer, root *discovery.PIDNamespaceNode, hostUser uint64) error {
	label := func(n *discovery.PIDNamespaceNode) string {
		var b strings.Builder
		fmt.Fprintf(&b, "pid:[%d]", n.Inode)
		if n.Container == 0 {
			b.WriteString(" boxtui's own (host)")
		} else {
			name := n.Name
			if name == "" {
				name = "-"
			}
			fmt.Fprintf(&b, " %s init %d %s", termsafe.String(name), n.Container, termsafe.String(termsafe.Clip(n.Command, 40)))
		}
		if n.Owner != 0 {
			if n.Owner == hostUser {
				fmt.Fprintf(&b, "  user:[%d] (host)", n.Owner)
			} else {
				fmt.Fprintf(&b, "  user:[%d] (own)", n.Owner)
			}
		}
		return b.String()
	}
	var b strings.Builder
	b.WriteString(label(root) + "\n")
	var walk func(n *discovery.PIDNamespaceNode, prefix string)
	walk = func(n *discovery.PIDNamespaceNode, prefix string) {
		for i, c := range n.Children {
			branch, next := "├─ ", "│  "
			if i == len(n.Children)-1 {
				branch, next = "└─ ", "   "
			}
			b.WriteString(prefix + branch + label(c) + "\n")
			walk(c, prefix+next)
		}
	}
	walk(root, "")
	_, err := io.WriteString(w, b.String())
	return err
}
