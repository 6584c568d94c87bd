// Package ui is boxtui's terminal UI: the container list, the namespace,
// process and mount views, the launch and mount forms and terminal panes.
// Everything that touches the system goes through the Backend interface,
// called from tea.Cmds only, so Update never does I/O and every view can be
// tested against a fake backend. The terminal itself is the exception, for
// a keystroke's sake: the key tap reads it (keytap.go), and a frame the
// renderer would write anyway may be written from View by fastDraw, or
// from a pane's reader by the pane drawer, under the renderer's lock
// (fastdraw.go, panedraw.go).
package ui

import (
	"time"

	"boxtui/runtime/discovery"
	"boxtui/runtime/events"
	"boxtui/ui/keymap"
	"boxtui/ui/styles"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
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

// Model is the root of the UI: it holds the host's last scan, routes
// messages and keys to the component that has the focus, and lays the
// components out. Each component owns its state, key map and help (the
// component tree is in docs/architecture.md). Settings are exported
// through Options; state is not.
type Model struct {
	backend Backend
	opts    Options
	keys    keymap.KeyMap
	st      *styles.Styles
	help    help.Model

	width, height int

	// scan is the last look at the host; usage the CPU and memory seen.
	scan  scanState
	usage usageStore

	// focus is the one place keys go; detail is what the panel under the
	// list shows (or the map, over the list).
	focus  focusArea
	detail detailMode

	list    containerList
	procs   procView
	mounts  mountsView
	tree    treeView
	events  eventsView
	nsmap   nsMap
	panes   paneSet
	forms   formHost
	confirm *confirmState
	status  statusLine

	showHelp bool
	quitting bool
	// summary is what to print after the UI exits.
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
	st := new(styles.New(opts.NoColor)) // shared, read-only: every component points at it
	h := help.New()
	if opts.NoColor {
		h.Styles = help.Styles{}
	}
	return Model{
		backend: backend,
		opts:    opts,
		keys:    keys,
		st:      st,
		help:    h,
		list:    newContainerList(keys.List, keys.Filter, st),
		procs:   newProcView(keys.Processes, st),
		mounts:  newMountsView(keys.Mounts, st),
		tree:    newTreeView(keys.Tree, st),
		events:  newEventsView(keys.Events, st),
		nsmap:   newNSMap(keys.Map, st),
		panes:   newPaneSet(keys.Pane, keys.CopyMode, st),
		width:   100,
		height:  30,
		cache:   &viewCache{},
	}
}

// Init starts the first scan.
func (m Model) Init() tea.Cmd {
	m.scan.busy = true
	return m.scanCmd()
}

// Summary is the line to print once the program has ended.
func (m Model) Summary() string { return m.summary }

// Messages.
type (
	treeMsg   struct{ tree *discovery.PIDNamespaceNode }
	eventsMsg struct {
		key    string
		events []events.Event
		err    error
	}
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

// selected returns the highlighted container.
func (m Model) selected() (discovery.Container, bool) { return m.list.selected() }

// selectionMoved starts the detail views over for a new selection.
func (m *Model) selectionMoved() {
	m.procs.cur, m.mounts.cur, m.events.off = 0, 0, 0
}

func (m *Model) setStatus(text string, isErr bool) { m.status.set(text, isErr) }
