// Package ui is boxtui's terminal UI: the container list, the namespace,
// process and mount views, the launch and mount forms and terminal panes.
// It makes no syscalls: everything that touches the system goes through the
// Backend interface, called from tea.Cmds only, so Update and View never do
// I/O and every view can be tested against a fake backend.
package ui

import (
	"slices"
	"time"

	"boxtui/internal/termsafe"
	"boxtui/runtime/discovery"
	"boxtui/runtime/events"
	"boxtui/ui/keymap"
	"boxtui/ui/styles"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// Options tune the UI.
type Options struct {
	// NoColor spells out what colour would say (NO_COLOR, --no-color).
	NoColor bool
	// ReadOnly is set when boxtui is not root: launch, exec, kill and
	// mounts are disabled and a banner says why.
	ReadOnly bool
	// Refresh is the list's refresh interval (default 1s).
	Refresh time.Duration
	// StopGrace is how long a stop waits between SIGTERM and SIGKILL.
	StopGrace time.Duration
	// Keys overrides the default key map (from a config file).
	Keys *keymap.KeyMap
	// Now is the clock for uptimes (tests fix it).
	Now func() time.Time
}

// MinWidth and MinHeight are the smallest terminal the layout supports.
const (
	MinWidth  = 80
	MinHeight = 24
)

type focusArea int

const (
	focusList focusArea = iota
	focusFilter
	focusDetail
	focusPane
)

type detailMode int

const (
	detailNamespaces detailMode = iota
	detailProcesses
	detailMounts
	detailTree
	detailEvents
	detailMap // the namespace map (nsmap.go): drawn over the list
)

// Model is the whole UI. Settings are exported through Options; state is not.
type Model struct {
	backend Backend
	opts    Options
	keys    keymap.KeyMap
	st      styles.Styles
	help    help.Model

	width, height int

	snap     discovery.Snapshot
	snapAt   time.Time
	scanned  bool
	users    map[int]string
	scanning bool
	tickID   int

	rows   []discovery.Container
	cursor int
	selPID int // the selected container's init PID: selection survives refreshes
	// selName, when set, selects the container of that name as soon as a
	// scan shows it (the one just launched).
	selName string
	filter  textinput.Model
	// showExited lists boxtui's exited containers too (a, as ls -a).
	showExited bool
	sortCol    sortColumn
	sortRev    bool
	focus      focusArea
	detail     detailMode
	procCur    int
	procPID    int
	mounts     []Mount
	mountsOf   int // init PID the mounts belong to
	mountCur   int

	// usage is the last scan's figures by init PID; history keeps the
	// recent ones of each running container for the sparklines.
	usage   map[int]discovery.Usage
	history map[procKey]*usageHistory
	// marks are the processes marked for the namespace diff, oldest
	// first, at most two.
	marks []procKey
	// tree is the PID namespace nesting, flattened to rows for the cursor;
	// it is only asked for while on screen.
	tree     []treeRow
	treeCur  int
	treeNode uint64 // the PID namespace the tree cursor is on: it survives refreshes
	// events is the selected container's history (eventsOf is its key);
	// eventsOff is how many events the view is scrolled back from the newest.
	events    []events.Event
	eventsOf  string
	eventsOff int

	// nsmap is the namespace map's cursor, expansions and colour slots.
	nsmap nsMapState

	// lastLaunch is the launch form as last submitted, until a launch
	// succeeds: reopening the form after a failure starts from it.
	lastLaunch *formState

	confirm  *confirmState
	form     *formState
	showHelp bool

	panes      []*pane
	nextPaneID int
	paneFocus  int // index into panes of the focused (or last focused) pane, -1 none

	status    string
	statusErr bool

	quitting bool
	// Summary is what to print after the UI exits.
	summary string

	// The render path (view.go, frame.go): gen names the state of the
	// screen above the panes (Update gives it a new value unless only a
	// pane changed), cache keeps what View drew for it, and frames draws a
	// changed view at once.
	gen    uint64
	cache  *viewCache
	frames *frameClock
}

// New returns the UI model driving backend.
func New(backend Backend, opts Options) Model {
	if opts.Refresh <= 0 {
		opts.Refresh = time.Second
	}
	if opts.StopGrace <= 0 {
		opts.StopGrace = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	keys := keymap.DefaultKeyMap()
	if opts.Keys != nil {
		keys = *opts.Keys
	}
	if opts.ReadOnly {
		for _, b := range []*key.Binding{
			&keys.List.Launch, &keys.List.Attach, &keys.List.Exec, &keys.List.Debug, &keys.List.Kill,
			&keys.Processes.Kill, &keys.Mounts.Add, &keys.Mounts.Flip, &keys.Mounts.Remove,
		} {
			b.SetEnabled(false)
		}
	}
	st := styles.New(opts.NoColor)
	h := help.New()
	if opts.NoColor {
		h.Styles = help.Styles{}
	}
	fi := textinput.New()
	fi.Prompt = "/"
	fi.Placeholder = "filter by name, PID, origin or command"
	return Model{
		backend:   backend,
		opts:      opts,
		keys:      keys,
		st:        st,
		help:      h,
		filter:    fi,
		paneFocus: -1,
		width:     100,
		height:    30,
		cache:     &viewCache{},
	}
}

// Init starts the first scan.
func (m Model) Init() tea.Cmd {
	m.scanning = true
	return m.scanCmd()
}

// Summary is the line to print once the program has ended.
func (m Model) Summary() string { return m.summary }

// Messages.
type (
	scanMsg struct {
		snap  discovery.Snapshot
		usage map[int]discovery.Usage
		users map[int]string
		at    time.Time
		err   error
		// tree and events ride along when their view is on screen.
		tree   *discovery.PIDNamespaceNode
		events *eventsMsg
	}
	treeMsg   struct{ tree *discovery.PIDNamespaceNode }
	eventsMsg struct {
		key    string
		events []events.Event
		err    error
	}
	tickMsg struct{ id int }
	// errMsg carries a failure to the status line.
	errMsg struct{ err error }
	// doneMsg reports a finished action; rescan asks for a fresh list.
	doneMsg struct {
		text   string
		rescan bool
	}
	mountsMsg struct {
		pid    int
		mounts []Mount
		err    error
		// focus, when set, is the mount point the cursor goes to (the
		// mount just added or flipped), when it is listed.
		focus string
	}
)

func (m Model) scanCmd() tea.Cmd {
	b, now := m.backend, m.opts.Now
	wantTree := m.detail == detailTree
	evKey := m.eventsKeyShown()
	return func() tea.Msg {
		snap, usage, err := b.Scan()
		var uids []int
		for _, c := range snap.Containers {
			for _, p := range c.Procs {
				if !slices.Contains(uids, p.UID) {
					uids = append(uids, p.UID)
				}
			}
		}
		msg := scanMsg{snap: snap, usage: usage, users: b.UserNames(uids), at: now(), err: err}
		if err == nil && wantTree {
			msg.tree = b.NamespaceTree(snap)
		}
		if err == nil && evKey != "" {
			ev := readEvents(b, evKey)
			msg.events = &ev
		}
		return msg
	}
}

func (m Model) tickCmd() tea.Cmd {
	id := m.tickID
	return tea.Tick(m.opts.Refresh, func(time.Time) tea.Msg { return tickMsg{id: id} })
}

// selected returns the highlighted container.
func (m Model) selected() (discovery.Container, bool) {
	if m.cursor < 0 || m.cursor >= len(m.rows) {
		return discovery.Container{}, false
	}
	return m.rows[m.cursor], true
}

// applyRows recomputes the visible rows and puts the cursor back on the
// container it was on (by init PID), so a refresh never moves the selection.
func (m *Model) applyRows() {
	m.rows = visibleContainers(m.snap.Containers, m.filter.Value(), m.sortCol, m.sortRev, m.usage, m.showExited)
	if m.selName != "" {
		for _, c := range m.rows {
			if c.Name == m.selName {
				m.selPID, m.selName = c.PID, ""
				break
			}
		}
	}
	m.cursor = 0
	for i, c := range m.rows {
		if c.PID == m.selPID {
			m.cursor = i
			break
		}
	}
	if len(m.rows) == 0 {
		m.cursor = -1
		return
	}
	m.selPID = m.rows[m.cursor].PID
}

func (m *Model) moveCursor(d int) {
	if len(m.rows) == 0 {
		return
	}
	m.cursor = max(0, min(len(m.rows)-1, m.cursor+d))
	m.selPID = m.rows[m.cursor].PID
	m.procCur = 0
	m.mountCur = 0
	m.eventsOff = 0
}

func (m *Model) setStatus(text string, isErr bool) {
	// Statuses and errors quote what containers chose (names, paths).
	m.status, m.statusErr = termsafe.Message(text), isErr
}
