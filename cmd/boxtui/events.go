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
	"boxtui/runtime/events"
	"boxtui/runtime/state"

	"github.com/spf13/cobra"
)

func init() {
	var asJSON, follow bool
	events := &cobra.Command{
		Use:   "events [TARGET]",
		Short: "Show what happened to containers: started, exited, killed, exec, mounts, holder lost",
		Long: `Print the event history boxtui keeps per container (bounded to the last 500
events): started, exited (with status), killed (by boxtui or by another),
exec opened and closed, mount added/flipped/removed, holder lost. Without
TARGET, every container's. -f keeps following new events.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			load := events.All
			if len(args) == 1 {
				key, err := eventKeyOf(args[0])
				if err != nil {
					return err
				}
				load = func() ([]events.Event, error) { return events.Read(key) }
			}
			evs, err := load()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if err := writeEvents(out, evs, asJSON); err != nil {
				return err
			}
			if !follow {
				return nil
			}
			seen := len(evs)
			for range time.Tick(250 * time.Millisecond) {
				evs, err := load()
				if err != nil {
					return err
				}
				if len(evs) < seen { // trimmed: show what is new by time
					seen = 0
				}
				if len(evs) > seen {
					if err := writeEvents(out, evs[seen:], asJSON); err != nil {
						return err
					}
					seen = len(evs)
				}
			}
			return nil
		},
	}
	events.Flags().BoolVar(&asJSON, "json", false, "one JSON object per event, one per line")
	events.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new events as they happen")
	rootCmd.AddCommand(events)
}

// eventKeyOf resolves TARGET to a history key. A boxtui name works even
// after its container exited; a PID must be in a running container.
func eventKeyOf(target string) (string, error) {
	if _, err := strconv.Atoi(target); err != nil {
		if _, err := state.Load(target); err == nil {
			return target, nil
		}
	}
	c, err := discovery.FindContainer(target)
	if err != nil {
		return "", err
	}
	return events.Key(c), nil
}

func writeEvents(w io.Writer, evs []events.Event, asJSON bool) error {
	for _, e := range evs {
		if asJSON {
			if err := lscmd.WriteJSONLine(w, e); err != nil {
				return err
			}
			continue
		}
		// Details quote command lines, process names and mount points:
		// every field is escaped (see termsafe) and padded by its width.
		line := e.Time.Local().Format("2006-01-02 15:04:05") + "  " + pad(termsafe.String(e.Container), 14) +
			" " + pad(termsafe.String(e.Kind), 13) + " " + termsafe.String(e.Detail)
		if e.By != "" {
			line += "  (by " + termsafe.String(e.By) + ")"
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

// pad is %-*s for terminal columns: s followed by spaces up to n columns.
func pad(s string, n int) string {
	if w := termsafe.Width(s); w < n {
		return s + strings.Repeat(" ", n-w)
	}
	return s
}
