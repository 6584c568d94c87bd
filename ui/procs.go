package ui

import (
	"fmt"
	"slices"
	"strconv"

	"boxtui/runtime/discovery"
	"boxtui/runtime/namespace"
	"boxtui/ui/components/table"
	"boxtui/ui/keymap"
	"boxtui/ui/styles"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// procView is the process view of the selected container: its cursor,
// kept on a process by PID across refreshes, and the processes marked for
// the namespace diff (oldest first, at most two, in any containers).
type procView struct {
	keys  keymap.Processes
	st    *styles.Styles
	cur   int
	pid   int
	marks []procKey
}

func newProcView(keys keymap.Processes, st *styles.Styles) procView {
	return procView{keys: keys, st: st}
}

func (v procView) help() help.KeyMap { return v.keys }

// open starts the view on c's first process.
func (v *procView) open(c discovery.Container) { v.cur, v.pid = 0, c.PID }

// update moves through c's processes; killing, exec and marking are the
// root's (they ask, open panes or set the status).
func (v procView) update(msg tea.KeyPressMsg, c discovery.Container) (procView, keyResult) {
	switch {
	case key.Matches(msg, v.keys.Back):
		return v, keyBack
	case key.Matches(msg, v.keys.Up):
		v.move(c, -1)
	case key.Matches(msg, v.keys.Down):
		v.move(c, 1)
	default:
		return v, keyIgnored
	}
	return v, keyHandled
}

// selected is the process under the cursor.
func (v procView) selected(c discovery.Container) (discovery.Process, bool) {
	if v.cur < 0 || v.cur >= len(c.Procs) {
		return discovery.Process{}, false
	}
	return c.Procs[v.cur], true
}

// move moves the cursor and remembers the process by PID, so a refresh
// that adds or drops processes keeps it on the same one.
func (v *procView) move(c discovery.Container, d int) {
	if len(c.Procs) == 0 {
		return
	}
	v.cur = max(0, min(len(c.Procs)-1, v.cur+d))
	v.pid = c.Procs[v.cur].PID
}

// follow puts the cursor back on the remembered process of c.
func (v *procView) follow(c discovery.Container) {
	for i, p := range c.Procs {
		if p.PID == v.pid {
			v.cur = i
			return
		}
	}
	v.cur = max(0, min(v.cur, len(c.Procs)-1))
}

// maxMarks is how many processes the namespace diff compares.
const maxMarks = 2

// findProc looks a marked process up in the snapshot, in any container, so
// a mark survives moving to another container's process view.
func findProc(snap discovery.Snapshot, k procKey) (discovery.Process, bool) {
	for _, c := range snap.Containers {
		for _, p := range c.Procs {
			if p.PID == k.pid && p.StartTime == k.start {
				if p.Namespaces == (namespace.Set{}) {
					p.Namespaces = c.Namespaces
				}
				return p, true
			}
		}
	}
	return discovery.Process{}, false
}

// toggleMark marks the process under the cursor, or unmarks it, and says
// what the status line should say (ok is false when there is no process
// under the cursor). A third mark drops the oldest, so the diff is always
// of the last two picked.
func (v *procView) toggleMark(c discovery.Container) (status string, ok bool) {
	p, ok := v.selected(c)
	if !ok {
		return "", false
	}
	k := procKey{p.PID, p.StartTime}
	if i := slices.Index(v.marks, k); i >= 0 {
		v.marks = slices.Delete(v.marks, i, i+1)
		return fmt.Sprintf("unmarked PID %d", p.PID), true
	}
	if len(v.marks) == maxMarks {
		v.marks = v.marks[1:]
	}
	v.marks = append(v.marks, k)
	if len(v.marks) == 1 {
		return fmt.Sprintf("marked PID %d: mark another (in any container) to compare", p.PID), true
	}
	return "", true // the diff says it
}

// pruneMarks forgets marked processes that have exited.
func (v *procView) pruneMarks(snap discovery.Snapshot) {
	v.marks = slices.DeleteFunc(v.marks, func(k procKey) bool {
		_, ok := findProc(snap, k)
		return !ok
	})
}

// markLabel is the mark column of process p: "A" or "B" for the diff's
// rows, blank when unmarked.
func (v procView) markLabel(p discovery.Process) string {
	switch slices.Index(v.marks, procKey{p.PID, p.StartTime}) {
	case 0:
		return "A"
	case 1:
		return "B"
	}
	return ""
}

// view draws c's processes, the users named by users, and under them the
// namespace diff of the marked processes, looked up in snap.
func (v procView) view(c discovery.Container, snap discovery.Snapshot, users map[int]string, focused bool, width, height int) string {
	sets := namespaceSets(c)
	cols := []table.Column{
		{Title: "", Width: 1},
		{Title: "PID", Width: 7, Right: true},
		{Title: "INSIDE", Width: 6, Right: true},
		{Title: "USER", Width: 8},
		{Title: "NS SET", Width: 7},
		{Title: "COMMAND", Width: 10, Flex: true},
	}
	rows := make([][]table.Cell, 0, len(c.Procs))
	for _, p := range c.Procs {
		user := users[p.UID]
		if user == "" {
			user = strconv.Itoa(p.UID)
		}
		rows = append(rows, []table.Cell{
			{Text: v.markLabel(p)},
			{Text: strconv.Itoa(p.PID)}, {Text: strconv.Itoa(p.InnerPID)}, {Text: user},
			{Text: setLabelOf(sets, p.PID)}, {Text: p.Command},
		})
	}
	cur := -1
	if focused {
		cur = min(v.cur, len(rows)-1)
	}
	title := v.st.Section.Render(table.Fit(fmt.Sprintf("processes of %s — %d, seen from the host and from inside", containerLabel(c), len(c.Procs)), width, false))
	// The diff goes right under the processes, so it stays in view
	// whatever the panel's height; the table gives up rows for it.
	diffH := v.diffHeight()
	tableH := max(min(height-1-diffH, len(rows)+1), 2)
	t := table.Table{Columns: cols, Rows: rows, Width: width, Height: tableH, ShowPosition: true, Cursor: cur,
		Styles: table.Styles{Header: v.st.Header, Cell: v.st.Cell, Selected: v.st.Selected}}
	out := title + "\n" + t.Render()
	if diffH > 0 {
		out += "\n" + v.renderDiff(snap, width)
	}
	return out
}
