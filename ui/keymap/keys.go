// Package keymap holds every key binding of the terminal UI, grouped by the
// screen they act on. The help overlay, the help bar and docs/keybindings.md
// are all generated from these bindings, so they cannot drift apart.
package keymap

import "charm.land/bubbles/v2/key"

// List are the keys of the container list, the home screen.
type List struct {
	Up          key.Binding
	Down        key.Binding
	Launch      key.Binding
	Attach      key.Binding
	Exec        key.Binding
	Debug       key.Binding
	ExecEngine  key.Binding
	Kill        key.Binding
	Processes   key.Binding
	Mounts      key.Binding
	Tree        key.Binding
	Map         key.Binding
	Events      key.Binding
	ShowExited  key.Binding
	Filter      key.Binding
	Sort        key.Binding
	SortReverse key.Binding
	FocusPane   key.Binding
	ClosePane   key.Binding
	CopyMode    key.Binding
	Help        key.Binding
	Quit        key.Binding
}

// ShortHelp is the one-line help bar of the list.
func (k List) ShortHelp() []key.Binding {
	return []key.Binding{k.Launch, k.Attach, k.Exec, k.Kill, k.Mounts, k.Help, k.Quit, k.Processes}
}

// FullHelp lists every list key, in columns.
func (k List) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Filter, k.Sort, k.SortReverse},
		{k.Launch, k.Attach, k.Exec, k.ExecEngine, k.Debug, k.Kill},
		{k.Processes, k.Mounts, k.Tree, k.Map, k.Events, k.ShowExited},
		{k.FocusPane, k.ClosePane, k.CopyMode, k.Help, k.Quit},
	}
}

// Filter are the keys while typing a filter.
type Filter struct {
	Accept key.Binding
	Clear  key.Binding
}

// ShortHelp is the help bar while filtering.
func (k Filter) ShortHelp() []key.Binding { return []key.Binding{k.Accept, k.Clear} }

// FullHelp lists every filter key.
func (k Filter) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// Processes are the keys of the process view.
type Processes struct {
	Up   key.Binding
	Down key.Binding
	Kill key.Binding
	// Mark marks a process for the namespace diff (two at most); marking a
	// marked one unmarks it.
	Mark   key.Binding
	Unmark key.Binding
	Back   key.Binding
}

// ShortHelp is the help bar of the process view.
// (Up and down go without saying, and would push back off an 80-column
// bar.)
func (k Processes) ShortHelp() []key.Binding {
	return []key.Binding{k.Kill, k.Mark, k.Unmark, k.Back}
}

// FullHelp lists every process view key.
func (k Processes) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Kill, k.Mark, k.Unmark, k.Back}}
}

// Tree are the keys of the namespace tree: PID namespaces nested by parent,
// the containers hung on them.
type Tree struct {
	Up     key.Binding
	Down   key.Binding
	Select key.Binding
	Back   key.Binding
}

// ShortHelp is the help bar of the namespace tree.
func (k Tree) ShortHelp() []key.Binding { return []key.Binding{k.Up, k.Down, k.Select, k.Back} }

// FullHelp lists every namespace tree key.
func (k Tree) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// Map are the keys of the namespace map: every container (and, expanded,
// its processes) against every namespace type, a cursor on one cell.
type Map struct {
	Up    key.Binding
	Down  key.Binding
	Left  key.Binding
	Right key.Binding
	// Expand shows or hides the processes of the container under the
	// cursor.
	Expand key.Binding
	Back   key.Binding
}

// ShortHelp is the help bar of the namespace map.
func (k Map) ShortHelp() []key.Binding { return []key.Binding{k.Left, k.Right, k.Expand, k.Back} }

// FullHelp lists every namespace map key.
func (k Map) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Left, k.Right, k.Expand, k.Back}}
}

// Events are the keys of the event history panel.
type Events struct {
	Up   key.Binding
	Down key.Binding
	Back key.Binding
}

// ShortHelp is the help bar of the event history.
func (k Events) ShortHelp() []key.Binding { return []key.Binding{k.Up, k.Down, k.Back} }

// FullHelp lists every event history key.
func (k Events) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// Mounts are the keys of the mounts panel.
type Mounts struct {
	Up     key.Binding
	Down   key.Binding
	Add    key.Binding
	Flip   key.Binding
	Remove key.Binding
	Back   key.Binding
}

// ShortHelp is the help bar of the mounts panel.
func (k Mounts) ShortHelp() []key.Binding {
	return []key.Binding{k.Add, k.Flip, k.Remove, k.Back}
}

// FullHelp lists every mounts panel key.
func (k Mounts) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Add, k.Flip, k.Remove, k.Back}}
}

// Pane are the keys while a terminal pane has the focus: every other key
// goes to the shell in it.
type Pane struct {
	Release  key.Binding
	CopyMode key.Binding
}

// ShortHelp is the help bar of a focused pane.
func (k Pane) ShortHelp() []key.Binding { return []key.Binding{k.Release, k.CopyMode} }

// FullHelp lists every pane key.
func (k Pane) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// CopyMode are the keys of a pane's copy mode: its scrollback and screen,
// frozen as they were when it began, to scroll, search, select and copy
// (as tmux's copy mode in vi keys). The program goes on running.
type CopyMode struct {
	Up         key.Binding
	Down       key.Binding
	Left       key.Binding
	Right      key.Binding
	PageUp     key.Binding
	PageDown   key.Binding
	HalfUp     key.Binding
	HalfDown   key.Binding
	Top        key.Binding
	Bottom     key.Binding
	LineStart  key.Binding
	LineEnd    key.Binding
	Search     key.Binding
	SearchBack key.Binding
	Next       key.Binding
	Prev       key.Binding
	Select     key.Binding
	Copy       key.Binding
	Quit       key.Binding
}

// ShortHelp is the help bar in copy mode.
func (k CopyMode) ShortHelp() []key.Binding {
	return []key.Binding{k.Search, k.Next, k.Select, k.Copy, k.Quit, k.PageUp, k.Top}
}

// FullHelp lists the copy mode keys the help overlay shows.
func (k CopyMode) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.PageUp, k.PageDown, k.Top},
		{k.Search, k.SearchBack, k.Next},
		{k.Select, k.Copy, k.Quit},
	}
}

// MoreHelp are the copy mode keys only docs/keybindings.md lists: the
// overlay has no room for them at 80x24 (and arrows go without saying).
func (k CopyMode) MoreHelp() []key.Binding {
	return []key.Binding{k.Prev, k.Up, k.Down, k.Left, k.Right, k.HalfUp, k.HalfDown, k.Bottom, k.LineStart, k.LineEnd}
}

// Confirm are the keys of a yes/no question, with a signal to choose when
// killing.
type Confirm struct {
	Yes        key.Binding
	No         key.Binding
	NextSignal key.Binding
	PrevSignal key.Binding
}

// ShortHelp is the help bar of a question.
func (k Confirm) ShortHelp() []key.Binding {
	return []key.Binding{k.Yes, k.No, k.PrevSignal, k.NextSignal}
}

// FullHelp lists every question key.
func (k Confirm) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// Form are the keys of the launch and mount forms (on top of the form
// fields' own keys).
type Form struct {
	Next   key.Binding
	Prev   key.Binding
	Cancel key.Binding
}

// ShortHelp is the help bar of a form.
func (k Form) ShortHelp() []key.Binding { return []key.Binding{k.Next, k.Prev, k.Cancel} }

// FullHelp lists every form key.
func (k Form) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// HelpScreen are the keys of the help overlay.
type HelpScreen struct {
	Close key.Binding
}

// ShortHelp is the help bar of the help overlay.
func (k HelpScreen) ShortHelp() []key.Binding { return []key.Binding{k.Close} }

// FullHelp lists every help overlay key.
func (k HelpScreen) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// KeyMap is every binding of the UI.
type KeyMap struct {
	List      List
	Filter    Filter
	Processes Processes
	Mounts    Mounts
	Tree      Tree
	Map       Map
	Events    Events
	Pane      Pane
	CopyMode  CopyMode
	Confirm   Confirm
	Form      Form
	Help      HelpScreen
}

// DefaultKeyMap returns the default bindings. Help texts use the plain words
// launch, attach, exec, kill and mount so a person scanning the help finds
// them.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		List: List{
			Up:          key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
			Down:        key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
			Launch:      key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "launch")),
			Attach:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "attach")),
			Exec:        key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "exec shell")),
			Debug:       key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "debug shell")),
			ExecEngine:  key.NewBinding(key.WithKeys("E"), key.WithHelp("E", "exec as engine")),
			Kill:        key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "kill")),
			Processes:   key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "processes")),
			Mounts:      key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "mounts")),
			Tree:        key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "namespace tree")),
			Map:         key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "namespace map")),
			Events:      key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "event history")),
			ShowExited:  key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "show/hide exited (x removes one)")),
			Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
			Sort:        key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort column")),
			SortReverse: key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "reverse sort")),
			FocusPane:   key.NewBinding(key.WithKeys("1", "2", "3", "4", "5", "6", "7", "8", "9"), key.WithHelp("1-9", "focus pane N")),
			ClosePane:   key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "close pane")),
			CopyMode:    key.NewBinding(key.WithKeys("["), key.WithHelp("[", "scroll back")),
			Help:        key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
			Quit:        key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		},
		Filter: Filter{
			Accept: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep filter")),
			Clear:  key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		},
		Processes: Processes{
			Up:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
			Down:   key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
			Kill:   key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "kill process")),
			Mark:   key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "mark to diff")),
			Unmark: key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "clear marks")),
			Back:   key.NewBinding(key.WithKeys("esc", "p"), key.WithHelp("esc", "back")),
		},
		Mounts: Mounts{
			Up:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
			Down:   key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
			Add:    key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "add mount")),
			Flip:   key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "mount ro/rw")),
			Remove: key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "unmount")),
			Back:   key.NewBinding(key.WithKeys("esc", "m"), key.WithHelp("esc", "back")),
		},
		Tree: Tree{
			Up:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
			Down:   key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
			Select: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "select container")),
			Back:   key.NewBinding(key.WithKeys("esc", "t"), key.WithHelp("esc", "back")),
		},
		Map: Map{
			Up:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
			Down:   key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
			Left:   key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "namespace left")),
			Right:  key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "namespace right")),
			Expand: key.NewBinding(key.WithKeys("enter", "space"), key.WithHelp("enter", "show processes")),
			Back:   key.NewBinding(key.WithKeys("esc", "N"), key.WithHelp("esc", "back")),
		},
		Events: Events{
			Up:   key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "older")),
			Down: key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "newer")),
			Back: key.NewBinding(key.WithKeys("esc", "v"), key.WithHelp("esc", "back")),
		},
		Pane: Pane{
			Release:  key.NewBinding(key.WithKeys("ctrl+]"), key.WithHelp("ctrl+]", "back to list")),
			CopyMode: key.NewBinding(key.WithKeys("shift+pgup"), key.WithHelp("shift+pgup", "scroll back")),
		},
		CopyMode: CopyMode{
			Up:         key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
			Down:       key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
			Left:       key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "left")),
			Right:      key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "right")),
			PageUp:     key.NewBinding(key.WithKeys("pgup", "ctrl+b", "shift+pgup"), key.WithHelp("pgup", "page up")),
			PageDown:   key.NewBinding(key.WithKeys("pgdown", "ctrl+f", "shift+pgdown"), key.WithHelp("pgdn", "page down")),
			HalfUp:     key.NewBinding(key.WithKeys("ctrl+u"), key.WithHelp("ctrl+u", "half up")),
			HalfDown:   key.NewBinding(key.WithKeys("ctrl+d"), key.WithHelp("ctrl+d", "half down")),
			Top:        key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "top")),
			Bottom:     key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "bottom")),
			LineStart:  key.NewBinding(key.WithKeys("0"), key.WithHelp("0", "line start")),
			LineEnd:    key.NewBinding(key.WithKeys("$"), key.WithHelp("$", "line end")),
			Search:     key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search down")),
			SearchBack: key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "search up")),
			Next:       key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next match")),
			Prev:       key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "prev match")),
			Select:     key.NewBinding(key.WithKeys("v", "space"), key.WithHelp("v", "select")),
			Copy:       key.NewBinding(key.WithKeys("enter", "y"), key.WithHelp("enter/y", "copy")),
			Quit:       key.NewBinding(key.WithKeys("q", "esc", "ctrl+c"), key.WithHelp("q", "leave")),
		},
		Confirm: Confirm{
			Yes:        key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes")),
			No:         key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "no")),
			NextSignal: key.NewBinding(key.WithKeys("right", "l", "tab"), key.WithHelp("→", "next signal")),
			PrevSignal: key.NewBinding(key.WithKeys("left", "h", "shift+tab"), key.WithHelp("←", "prev signal")),
		},
		Form: Form{
			Next:   key.NewBinding(key.WithKeys("enter", "tab"), key.WithHelp("enter", "next/submit")),
			Prev:   key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "prev field")),
			Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		},
		Help: HelpScreen{
			Close: key.NewBinding(key.WithKeys("?", "esc", "q"), key.WithHelp("?/esc", "close help")),
		},
	}
}

// Section is one titled group of bindings, for the help overlay and docs.
type Section struct {
	Title    string
	Screen   string // the prefix of its bindings' config names ("list" for none)
	Bindings []key.Binding
	// More are listed in the docs after Bindings, not in the overlay.
	More []key.Binding
}

// Sections lists every binding by screen, in the order a person meets them.
func (k KeyMap) Sections() []Section {
	flat := func(groups [][]key.Binding) []key.Binding {
		var out []key.Binding
		for _, g := range groups {
			out = append(out, g...)
		}
		return out
	}
	return []Section{
		{"Container list", "list", flat(k.List.FullHelp()), nil},
		{"Filter", "filter", flat(k.Filter.FullHelp()), nil},
		{"Processes (p)", "processes", flat(k.Processes.FullHelp()), nil},
		{"Mount panel (m)", "mounts", flat(k.Mounts.FullHelp()), nil},
		{"Namespace tree (t)", "tree", flat(k.Tree.FullHelp()), nil},
		{"Namespace map (N)", "map", flat(k.Map.FullHelp()), nil},
		{"Event history (v)", "events", flat(k.Events.FullHelp()), nil},
		{"Terminal pane", "pane", flat(k.Pane.FullHelp()), nil},
		{"Copy mode (scrollback)", "copy_mode", flat(k.CopyMode.FullHelp()), k.CopyMode.MoreHelp()},
		{"Questions (kill, remove, quit)", "confirm", flat(k.Confirm.FullHelp()), nil},
		{"Forms (launch, add mount)", "form", flat(k.Form.FullHelp()), nil},
		{"Help", "help", flat(k.Help.FullHelp()), nil},
	}
}
