package ui

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"

	"boxtui/internal/termsafe"
	"boxtui/runtime/discovery"
	"boxtui/runtime/state"
	"boxtui/ui/components/table"
)

// sortColumn is a column of the container list the rows can be sorted by.
type sortColumn int

const (
	sortStarted sortColumn = iota // discovery order: oldest first
	sortName
	sortPID
	sortOrigin
	sortProcs
	sortCommand
	sortMounts
	sortCPU
	sortMem
	numSortColumns
)

var sortNames = [numSortColumns]string{"started", "name", "pid", "origin", "procs", "command", "mounts", "cpu", "memory"}

// listColumns are the container list's columns; titles carry the sort mark.
func (m Model) listColumns() []table.Column {
	mark := func(title string, col sortColumn) string {
		if m.list.sortCol != col || (col == sortStarted && !m.list.sortRev) {
			return title
		}
		if m.list.sortRev {
			return title + "↓"
		}
		return title + "↑"
	}
	if m.width < 100 {
		// 80 columns: narrower fixed columns leave the command ~20 cells.
		return []table.Column{
			{Title: mark("NAME", sortName), Width: 9},
			{Title: mark("PID", sortPID), Width: 7, Right: true},
			{Title: mark("ORIGIN", sortOrigin), Width: 7},
			{Title: mark("PROCS", sortProcs), Width: 6, Right: true},
			{Title: mark("CPU%", sortCPU), Width: 5, Right: true},
			{Title: mark("MEM", sortMem), Width: 6, Right: true},
			{Title: mark("COMMAND", sortCommand), Width: 10, Flex: true},
			{Title: mark("UPTIME", sortStarted), Width: 6, Right: true},
			{Title: mark("MNT", sortMounts), Width: 4, Right: true},
		}
	}
	return []table.Column{
		{Title: mark("NAME", sortName), Width: 12},
		{Title: mark("PID", sortPID), Width: 7, Right: true},
		{Title: mark("ORIGIN", sortOrigin), Width: 8},
		{Title: mark("PROCS", sortProcs), Width: 6, Right: true},
		{Title: mark("CPU%", sortCPU), Width: 6, Right: true},
		{Title: mark("MEM", sortMem), Width: 7, Right: true},
		{Title: mark("COMMAND", sortCommand), Width: 10, Flex: true},
		{Title: mark("UPTIME", sortStarted), Width: 8, Right: true},
		{Title: mark("MOUNTS", sortMounts), Width: 6, Right: true},
	}
}

// visibleContainers applies the filter and the sort to the snapshot; exited
// containers only when showExited (the list's `a`, as `ls -a`).
func visibleContainers(all []discovery.Container, filter string, col sortColumn, rev bool, usage map[int]discovery.Usage, showExited bool) []discovery.Container {
	out := make([]discovery.Container, 0, len(all))
	f := strings.ToLower(strings.TrimSpace(filter))
	for _, c := range all {
		if exited(c) && !showExited {
			continue
		}
		if f == "" || matchesFilter(c, f) {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b discovery.Container) int {
		var r int
		switch col {
		case sortName:
			r = cmp.Compare(a.DisplayName(), b.DisplayName())
		case sortPID:
			r = cmp.Compare(a.PID, b.PID)
		case sortOrigin:
			r = cmp.Compare(a.Origin, b.Origin)
		case sortProcs:
			r = cmp.Compare(a.Processes, b.Processes)
		case sortCommand:
			r = cmp.Compare(a.Command, b.Command)
		case sortMounts:
			r = cmp.Compare(len(a.Mounts), len(b.Mounts))
		case sortCPU:
			r = cmp.Compare(usage[a.PID].CPUPercent, usage[b.PID].CPUPercent)
		case sortMem:
			r = cmp.Compare(usage[a.PID].RSSBytes, usage[b.PID].RSSBytes)
		default:
			r = cmp.Compare(a.StartTime, b.StartTime)
		}
		if r == 0 {
			r = cmp.Compare(a.PID, b.PID)
		}
		if rev {
			r = -r
		}
		return r
	})
	return out
}

func matchesFilter(c discovery.Container, f string) bool {
	// The name is boxtui's or the engine's; an engine's ID matches by its
	// prefix, as a TARGET does.
	if c.EngineID != "" && strings.HasPrefix(c.EngineID, f) {
		return true
	}
	for _, s := range []string{c.DisplayName(), strconv.Itoa(c.PID), string(c.Origin), c.Command} {
		if strings.Contains(strings.ToLower(s), f) {
			return true
		}
	}
	return false
}

// exited says whether c is a boxtui container that has exited (listed with
// `a`, removed with x).
func exited(c discovery.Container) bool { return c.Status == state.StatusExited }

// exitText is how an exited container ended, as `boxtui ls -a` says it.
func exitText(c discovery.Container) string {
	switch {
	case c.ExitCode != nil:
		return fmt.Sprintf("exited(%d)", *c.ExitCode)
	case c.ExitSignal != "":
		return "exited(" + termsafe.String(c.ExitSignal) + ")"
	}
	return "exited"
}

// containerCells turns a container into the list's cells.
func (m Model) containerCells(c discovery.Container, now time.Time) []table.Cell {
	name := c.DisplayName() // boxtui's, else the engine's
	if name == "" {
		name = "-"
	}
	mounts := "-"
	if len(c.Mounts) > 0 {
		mounts = strconv.Itoa(len(c.Mounts))
	}
	up := "-"
	if !c.Started.IsZero() && !now.IsZero() {
		up = formatUptime(now.Sub(c.Started))
	}
	if exited(c) {
		// Nothing runs: no processes, usage or uptime; dim, and how it
		// ended before its command (the one column wide enough).
		dim := func(s string) table.Cell { return table.Cell{Text: s, Style: &m.st.Muted} }
		return []table.Cell{
			dim(name), dim(strconv.Itoa(c.PID)), dim(string(c.Origin)), dim("-"), dim("-"), dim("-"),
			dim(exitText(c) + "  " + c.Command), dim("-"), dim(mounts),
		}
	}
	cpu, mem := m.usageCells(c)
	return []table.Cell{
		{Text: name},
		{Text: strconv.Itoa(c.PID)},
		{Text: string(c.Origin)},
		{Text: strconv.Itoa(c.Processes)},
		cpu, mem,
		{Text: c.Command},
		{Text: up},
		{Text: mounts},
	}
}

// formatUptime prints a duration the way `ps` and docker do: seconds for
// the first minute, then the two most significant units from minutes up.
// Past the first minute the text changes at most once a minute, so an idle
// list has nothing to repaint between refreshes.
func formatUptime(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm", s/60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	default:
		return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
	}
}

// containerLabel names a container for titles and messages.
func containerLabel(c discovery.Container) string {
	if n := c.DisplayName(); n != "" {
		return fmt.Sprintf("%s (PID %d)", termsafe.String(n), c.PID)
	}
	return fmt.Sprintf("PID %d", c.PID)
}

// shortLabel is the container's name, or its init PID.
func shortLabel(c discovery.Container) string {
	if n := c.DisplayName(); n != "" {
		return termsafe.String(n)
	}
	return strconv.Itoa(c.PID)
}

// containerList is the list of containers: the rows the filter and sort
// let through, the cursor, and the selection, kept by init PID so that a
// refresh never moves it.
type containerList struct {
	rows   []discovery.Container
	cursor int
	selPID int // the selected container's init PID
	// selName, when set, selects the container of that name as soon as a
	// scan shows it (the one just launched).
	selName string
	filter  textinput.Model
	// showExited lists boxtui's exited containers too (a, as ls -a).
	showExited bool
	sortCol    sortColumn
	sortRev    bool
}
