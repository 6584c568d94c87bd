package ui

import (
	"fmt"
	"strings"

	"boxtui/internal/termsafe"
	"boxtui/runtime/namespace"
	"boxtui/ui/components/table"
	"boxtui/ui/styles"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

type rect struct{ x, y, w, h int }

// layout is where each part of the screen goes.
type layout struct {
	header int // lines above the body
	list   rect
	detail rect
	panes  []rect
	body   rect
}

func (m Model) layout() layout { return m.layoutFor(len(m.panes.all)) }

// layoutFor places the list, the detail panel and n panes.
func (m Model) layoutFor(n int) layout {
	var l layout
	l.header = 1
	if m.opts.ReadOnly {
		l.header++
	}
	bodyH := max(m.height-l.header-2, 3)
	l.body = rect{0, l.header, m.width, bodyH}
	top := bodyH
	if n > 0 {
		top = max(10, bodyH*2/5)
	}
	listH := max(3, min(len(m.list.rows)+1, top/2))
	if n == 0 {
		listH = max(4, min(len(m.list.rows)+1, top/2))
	}
	l.list = rect{0, l.header, m.width, listH}
	l.detail = rect{0, l.header + listH + 1, m.width, max(top-listH-1, 0)}
	if n == 0 {
		return l
	}
	area := rect{0, l.header + top, m.width, bodyH - top}
	cols := 1
	switch {
	case n == 2 && area.w >= 80:
		cols = 2
	case n > 2:
		cols = 2
	}
	rowsN := (n + cols - 1) / cols
	for i := 0; i < n; i++ {
		r, c := i/cols, i%cols
		inRow := cols
		if r == rowsN-1 && n%cols != 0 {
			inRow = n % cols
		}
		w := area.w / inRow
		x := area.x + c*w
		if c == inRow-1 {
			w = area.w - c*w
		}
		h := area.h / rowsN
		y := area.y + r*h
		if r == rowsN-1 {
			h = area.h - r*h
		}
		l.panes = append(l.panes, rect{x, y, w, h})
	}
	return l
}

// View draws the screen. It keeps what it drew in the model's caches (the
// screen around the panes, each pane's lines) and hands the view to the
// frame clock, which draws it at once when a person waits on it.
func (m Model) View() tea.View {
	return m.frames.view(m, m.view) // panedraw.go
}

func (m Model) view() tea.View {
	var v tea.View
	v.AltScreen = true
	v.MouseMode = m.mouseMode()
	v.WindowTitle = "boxtui"
	if m.quitting {
		return v
	}
	if m.width < MinWidth || m.height < MinHeight {
		msg := fmt.Sprintf("boxtui needs a terminal of at least %dx%d; this one is %dx%d.\nMake the window larger, or press q to quit.", MinWidth, MinHeight, m.width, m.height)
		v.SetContent(lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, msg))
		return v
	}
	l := m.layout()
	var out []string
	switch {
	case m.showHelp, m.forms.active != nil:
		out = append(out, m.headerLines()...)
		if m.showHelp {
			out = append(out, m.renderHelp(l.body.w, l.body.h))
		} else {
			title := m.st.Section.Render(table.Fit(m.forms.active.title, m.width, false))
			out = append(out, padLines(title+"\n\n"+m.forms.active.form.View(), l.body.w, l.body.h))
		}
	default:
		// The screen above the panes is drawn once per model state: a
		// pane's output redraws only the panes.
		c := m.chrome(l)
		out = append(out, c.top...)
		body := len(c.top) - c.header
		for _, line := range m.renderPanes(l) {
			if body >= l.body.h {
				break
			}
			out = append(out, line)
			body++
		}
		for ; body < l.body.h; body++ {
			out = append(out, strings.Repeat(" ", m.width))
		}
	}
	if m.confirm != nil {
		out = append(out, m.confirm.view(m.st, m.width))
	} else {
		// The status and help lines are drawn every time: keys for a
		// pane may change them (a dropped key, a mode of the pane).
		out = append(out, m.status.view(m.st, m.width), m.helpBar())
	}
	v.SetContent(strings.Join(out, "\n"))
	if p := m.panes.focused(); p != nil && m.focus == focusPane && p.cvis && !m.showHelp && m.forms.active == nil && p.copy == nil {
		if p.cx < p.rect.w-2 && p.cy < p.rect.h-2 {
			v.Cursor = tea.NewCursor(p.rect.x+1+p.cx, p.rect.y+1+p.cy)
		}
	}
	return v
}

// viewCache keeps the screen above the panes, as drawn for one model state.
type viewCache struct {
	next uint64 // the last gen handed out
	gen  uint64
	w, h int
	ok   bool
	c    chrome
}

// chrome is the screen above the panes: header lines and the body down to
// the panes (or the bottom), each exactly the screen's width.
type chrome struct {
	top    []string
	header int // how many of top are header lines
}

// newGen returns a gen no model had before.
func (c *viewCache) newGen() uint64 {
	if c == nil {
		return 0
	}
	c.next++
	return c.next
}

// chrome returns the screen above the panes, from the cache when the model
// state is the one it was drawn for.
func (m Model) chrome(l layout) chrome {
	vc := m.cache
	if vc != nil && vc.ok && vc.gen == m.gen && m.gen != 0 && vc.w == m.width && vc.h == m.height {
		return vc.c
	}
	top := m.headerLines()
	header := len(top)
	for _, line := range m.renderTop(l) {
		top = append(top, table.Fit(line, m.width, false))
	}
	c := chrome{top: top, header: header}
	if vc != nil {
		vc.gen, vc.w, vc.h, vc.ok, vc.c = m.gen, m.width, m.height, true, c
	}
	return c
}

// headerLines are the title line and, when not root, the banner.
func (m Model) headerLines() []string {
	out := []string{m.headerLine()}
	if m.opts.ReadOnly {
		out = append(out, m.st.Banner.Render(table.Fit(" not root: read-only list — launch, attach, exec, kill, mount need sudo", m.width, false)))
	}
	return out
}

func (m Model) headerLine() string {
	left := m.st.Title.Render("boxtui")
	n, gone := 0, 0
	for _, c := range m.scan.snap.Containers {
		if exited(c) {
			gone++
		} else {
			n++
		}
	}
	info := fmt.Sprintf("  %d container(s)", n)
	if gone > 0 {
		if m.list.showExited {
			info += fmt.Sprintf(" + %d exited", gone)
		} else {
			info += fmt.Sprintf(" · %d exited (%s shows)", gone, m.keys.List.ShowExited.Help().Key)
		}
	}
	shown := n
	if m.list.showExited {
		shown += gone
	}
	if len(m.list.rows) != shown {
		info += fmt.Sprintf(", %d shown", len(m.list.rows))
	}
	if len(m.panes.all) > 0 {
		info += fmt.Sprintf(" · %d pane(s)", len(m.panes.all))
	}
	if !m.scan.done {
		info = "  scanning…"
	}
	return table.Fit(left+m.st.Muted.Render(info), m.width, false)
}

// renderTop draws the list, the filter line and the detail panel, and
// blank lines down to where the panes start (or the bottom), at most the
// body's height.
func (m Model) renderTop(l layout) []string {
	lines := make([]string, 0, l.body.h)
	top := l.body.h
	if len(l.panes) > 0 {
		top = l.panes[0].y - l.body.y
	}
	if m.detail == detailMap {
		return m.renderMapTop(top) // the map takes the list's place too
	}
	listFocused := m.focus == focusList || m.focus == focusFilter
	lines = append(lines, strings.Split(m.list.view(l.list, listFocused, m.scan.done, m.scan.at), "\n")...)
	lines = append(lines, m.list.filterView(m.focus == focusFilter, m.width))
	if l.detail.h > 0 {
		lines = append(lines, strings.Split(m.renderDetail(l.detail), "\n")...)
	}
	for len(lines) < top {
		lines = append(lines, strings.Repeat(" ", m.width))
	}
	if len(lines) > l.body.h {
		lines = lines[:l.body.h]
	}
	return lines
}

// renderDetail draws the detail component on screen in r: the namespaces
// of the selection (with its usage when there is room), or the view the
// root's detail mode names. A detail view shows its cursor only while it
// has the focus.
func (m Model) renderDetail(r rect) string {
	focused := m.focus == focusDetail
	if m.detail == detailTree {
		return padLines(m.tree.view(m.scan.snap.Host[namespace.User], focused, r.w, r.h), r.w, r.h)
	}
	c, ok := m.selected()
	if !ok {
		return emptyPanel(m.st, "namespaces", "select a container to see its namespaces", r.w, r.h)
	}
	if exited(c) && m.detail != detailEvents {
		k := m.keys.List
		return emptyPanel(m.st, "exited", fmt.Sprintf("%s has %s: no processes or namespaces left (%s: its history, %s: remove it)",
			shortLabel(c), exitText(c), k.Events.Help().Key, k.Kill.Help().Key), r.w, r.h)
	}
	switch m.detail {
	case detailProcesses:
		return padLines(m.procs.view(c, m.scan.snap, m.scan.users, focused, r.w, r.h), r.w, r.h)
	case detailMounts:
		return padLines(m.mounts.view(c, focused, r.w, r.h), r.w, r.h)
	case detailEvents:
		return padLines(m.events.view(c, m.scan.at, r.w, r.h), r.w, r.h)
	}
	ns := renderNamespaces(m.st, m.scan.snap.Host, c, r.w, r.h)
	// The usage sparklines go under the namespaces when there is room:
	// charts of 3 rows, or 2 when tight; none beside open panes' squeeze.
	if left := r.h - strings.Count(ns, "\n") - 2; left >= usageBlockHeight(2) {
		rows := 2
		if left >= usageBlockHeight(3) {
			rows = 3
		}
		ns += "\n\n" + m.usage.view(m.st, c, m.opts.Refresh, r.w, rows)
	}
	return padLines(ns, r.w, r.h)
}

// renderPanes draws the pane area, from the first pane's top to the
// bottom of the body.
func (m Model) renderPanes(l layout) []string {
	if len(l.panes) == 0 {
		return nil
	}
	y0 := l.panes[0].y
	return m.panes.view(l.panes, m.focus == focusPane, y0, l.body.y+l.body.h-y0, m.width, m.frames.border)
}

// helpBar is the one-line help of whatever has the focus.
func (m Model) helpBar() string {
	return m.frames.helpLine(m.focusedHelp().ShortHelp(), m.width, func(b []key.Binding) string { // viewmemo.go
		h := m.help
		h.SetWidth(m.width)
		return table.Fit(h.ShortHelpView(b), m.width, false)
	})
}

// focusedHelp is the key map of the component that has the keys.
func (m Model) focusedHelp() help.KeyMap {
	switch {
	case m.showHelp:
		return m.keys.Help
	case m.forms.active != nil:
		return m.keys.Form
	case m.focus == focusPane:
		return m.panes.help()
	case m.focus == focusFilter:
		return m.keys.Filter
	case m.focus == focusDetail:
		switch m.detail {
		case detailProcesses:
			return m.procs.help()
		case detailMounts:
			return m.mounts.help()
		case detailTree:
			return m.tree.help()
		case detailEvents:
			return m.events.help()
		case detailMap:
			return m.nsmap.help()
		}
	}
	return m.list.help()
}

// renderHelp is the help overlay: every key of every screen.
func (m Model) renderHelp(width, height int) string {
	var blocks []string
	for _, s := range m.keys.Sections() {
		var lines []string
		lines = append(lines, m.st.Section.Render(s.Title))
		for _, b := range s.Bindings {
			if !b.Enabled() {
				continue
			}
			lines = append(lines, fmt.Sprintf("  %-9s %s", b.Help().Key, b.Help().Desc))
		}
		blocks = append(blocks, strings.Join(lines, "\n"))
	}
	// Blocks flow down columns as tall as the screen, as many columns as
	// it takes, so every key is on screen even at 80x24; when that would
	// make the columns too narrow to read, the blank lines between blocks
	// go first (the bold titles still part them).
	flow := func(gap int) [][]string {
		var columns [][]string
		var col []string
		var split []string
		for _, b := range blocks {
			// A block taller than the screen goes on in the next column,
			// under its title again.
			bl := strings.Split(b, "\n")
			for len(bl) > height && height > 2 {
				split = append(split, strings.Join(bl[:height], "\n"))
				bl = append([]string{bl[0] + " (more)"}, bl[height:]...)
			}
			split = append(split, strings.Join(bl, "\n"))
		}
		for _, b := range split {
			bl := strings.Split(b, "\n")
			if len(col) > 0 && len(col)+gap+len(bl) > height {
				columns, col = append(columns, col), nil
			}
			if len(col) > 0 && gap > 0 {
				col = append(col, "")
			}
			col = append(col, bl...)
		}
		if len(col) > 0 {
			columns = append(columns, col)
		}
		return columns
	}
	const readableCol = 26
	columns := flow(1)
	if width/max(len(columns), 1) < readableCol {
		columns = flow(0)
	}
	colW := width / max(len(columns), 1)
	var out []string
	for i := 0; i < height; i++ {
		var b strings.Builder
		for _, c := range columns {
			line := ""
			if i < len(c) {
				line = c[i]
			}
			b.WriteString(table.Fit(line, colW-1, false) + " ")
		}
		out = append(out, b.String())
	}
	return padLines(strings.Join(out, "\n"), width, height)
}

// statusLine is the message under the panes: the outcome of the last
// action, or an error.
type statusLine struct {
	text  string
	isErr bool
}

// set shows text; statuses and errors quote what containers chose (names,
// paths), so it is made safe for the terminal.
func (s *statusLine) set(text string, isErr bool) {
	s.text, s.isErr = termsafe.Message(text), isErr
}

func (s statusLine) view(st *styles.Styles, width int) string {
	if s.text == "" {
		return strings.Repeat(" ", width)
	}
	style := st.Status
	text := s.text
	if s.isErr {
		style = st.StatusError
		text = "error: " + text
	}
	return style.Render(table.Fit(text, width, false))
}
