package ui

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"boxtui/internal/termsafe"
	"boxtui/runtime/discovery"
	"boxtui/runtime/state"
	"boxtui/ui/components/table"
	"boxtui/ui/keymap"
	"boxtui/ui/styles"
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

// columns are the container list's columns at width; titles carry the
// sort mark.
func (l containerList) columns(width int) []table.Column {
	mark := func(title string, col sortColumn) string {
		if l.sortCol != col || (col == sortStarted && !l.sortRev) {
			return title
		}
		if l.sortRev {
			return title + "↓"
		}
		return title + "↑"
	}
	if width < 100 {
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

// cells turns a container into the list's cells; uptimes are counted to
// now.
func (l containerList) cells(c discovery.Container, now time.Time) []table.Cell {
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
		dim := func(s string) table.Cell { return table.Cell{Text: s, Style: &l.st.Muted} }
		return []table.Cell{
			dim(name), dim(strconv.Itoa(c.PID)), dim(string(c.Origin)), dim("-"), dim("-"), dim("-"),
			dim(exitText(c) + "  " + c.Command), dim("-"), dim(mounts),
		}
	}
	cpu, mem := usageCells(l.usage, c)
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
	keys       keymap.List
	filterKeys keymap.Filter
	st         *styles.Styles
	// all and usage are the last scan's, as given to apply.
	all   []discovery.Container
	usage map[int]discovery.Usage

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

func newContainerList(keys keymap.List, filterKeys keymap.Filter, st *styles.Styles) containerList {
	fi := textinput.New()
	fi.Prompt = "/"
	fi.Placeholder = "filter by name, PID, origin or command"
	return containerList{keys: keys, filterKeys: filterKeys, st: st, filter: fi}
}

func (l containerList) help() help.KeyMap { return l.keys }

// selected returns the highlighted container.
func (l containerList) selected() (discovery.Container, bool) {
	if l.cursor < 0 || l.cursor >= len(l.rows) {
		return discovery.Container{}, false
	}
	return l.rows[l.cursor], true
}

// apply shows a new scan: the containers and their usage (for sorting and
// the CPU and memory columns).
func (l *containerList) apply(all []discovery.Container, usage map[int]discovery.Usage) {
	l.all, l.usage = all, usage
	l.refresh()
}

// refresh recomputes the visible rows and puts the cursor back on the
// container it was on (by init PID), so a refresh never moves the
// selection.
func (l *containerList) refresh() {
	l.rows = visibleContainers(l.all, l.filter.Value(), l.sortCol, l.sortRev, l.usage, l.showExited)
	if l.selName != "" {
		for _, c := range l.rows {
			if c.Name == l.selName {
				l.selPID, l.selName = c.PID, ""
				break
			}
		}
	}
	l.cursor = 0
	for i, c := range l.rows {
		if c.PID == l.selPID {
			l.cursor = i
			break
		}
	}
	if len(l.rows) == 0 {
		l.cursor = -1
		return
	}
	l.selPID = l.rows[l.cursor].PID
}

// selectPID puts the cursor on the container with init pid; false when it
// is not among the rows (filtered out, or none).
func (l *containerList) selectPID(pid int) bool {
	if pid == 0 {
		return false
	}
	for i, c := range l.rows {
		if c.PID == pid {
			l.cursor, l.selPID = i, pid
			return true
		}
	}
	return false
}

// selectFirst puts the cursor on the first row (after the filter changed
// what is listed).
func (l *containerList) selectFirst() {
	if len(l.rows) > 0 {
		l.cursor, l.selPID = 0, l.rows[0].PID
	}
}

// update moves the cursor (keyMoved) and sorts; the list's other keys act
// on the whole UI and are the root's.
func (l containerList) update(msg tea.KeyPressMsg) (containerList, keyResult) {
	switch {
	case key.Matches(msg, l.keys.Up):
		return l.move(-1)
	case key.Matches(msg, l.keys.Down):
		return l.move(1)
	case key.Matches(msg, l.keys.Sort):
		l.sortCol = (l.sortCol + 1) % numSortColumns
		l.refresh()
	case key.Matches(msg, l.keys.SortReverse):
		l.sortRev = !l.sortRev
		l.refresh()
	case key.Matches(msg, l.keys.ShowExited):
		l.showExited = !l.showExited
		l.refresh()
	default:
		return l, keyIgnored
	}
	return l, keyHandled
}

func (l containerList) move(d int) (containerList, keyResult) {
	if len(l.rows) == 0 {
		return l, keyHandled
	}
	l.cursor = max(0, min(len(l.rows)-1, l.cursor+d))
	l.selPID = l.rows[l.cursor].PID
	return l, keyMoved
}

// filterResult is what a key did in the filter line.
type filterResult int

const (
	filterTyped    filterResult = iota // the filter changed (or not): stay in it
	filterAccepted                     // enter: keep it, back to the list
	filterCleared                      // esc: clear it, back to the list
)

// updateFilter edits the filter line; the rows follow as it is typed.
func (l containerList) updateFilter(msg tea.Msg) (containerList, tea.Cmd, filterResult) {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(k, l.filterKeys.Accept):
			l.filter.Blur()
			l.refresh()
			l.selectFirst()
			return l, nil, filterAccepted
		case key.Matches(k, l.filterKeys.Clear):
			l.filter.Blur()
			l.filter.SetValue("")
			l.refresh()
			return l, nil, filterCleared
		}
	}
	var cmd tea.Cmd
	l.filter, cmd = l.filter.Update(msg)
	l.refresh()
	return l, cmd, filterTyped
}

// view draws the list in r; focused marks the cursor as the keys' place.
// Before the first scan it says it is scanning; now is the scan's time,
// for the uptimes.
func (l containerList) view(r rect, focused, scanned bool, now time.Time) string {
	if !scanned {
		return padLines(l.st.Muted.Render("scanning /proc…"), r.w, r.h)
	}
	rows := make([][]table.Cell, len(l.rows))
	for i, c := range l.rows {
		rows[i] = l.cells(c, now)
	}
	sel := l.st.Selected
	if !focused {
		sel = l.st.SelectedBlur
	}
	t := table.Table{Columns: l.columns(r.w), Rows: rows, Width: r.w, Height: r.h, ShowPosition: true, Cursor: l.cursor,
		Styles: table.Styles{Header: l.st.Header, Cell: l.st.Cell, Selected: sel}}
	out := t.Render()
	if len(l.rows) == 0 {
		msg := "no containers: press n to launch one, or start one with unshare --pid --fork"
		if l.filter.Value() != "" {
			msg = "no container matches the filter (esc clears it)"
		}
		lines := strings.Split(out, "\n")
		if len(lines) > 1 {
			lines[1] = l.st.Muted.Render(table.Fit(msg, r.w, false))
		}
		out = strings.Join(lines, "\n")
	}
	return out
}

// filterView is the filter line, blank unless it has the focus or a value.
func (l containerList) filterView(focused bool, width int) string {
	if !focused && l.filter.Value() == "" {
		return strings.Repeat(" ", width)
	}
	return l.st.Filter.Render(table.Fit(l.filter.View(), width, false))
}
