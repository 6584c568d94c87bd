package ui

import (
	"syscall"
	"time"

	"boxtui/runtime/discovery"
	"boxtui/runtime/events"

	uv "github.com/charmbracelet/ultraviolet"
)

// Backend is everything the UI asks of the system. The UI makes no syscalls
// itself: it calls these from tea.Cmds only, so views can be tested against
// a fake (see fake.go) and the real one (NewRuntimeBackend) adapts the
// runtime and pty packages.
type Backend interface {
	// Scan discovers the containers, with every process's namespaces, and
	// boxtui's exited ones (Status exited, with their exit status), and
	// measures each running container's usage since the previous Scan
	// (keyed by init PID) from the same pass's stat lines: no second scan.
	Scan() (discovery.Snapshot, map[int]discovery.Usage, error)
	// NamespaceTree nests the snapshot's PID namespaces by parent, with
	// each one's owning user namespace. It costs two ioctls per container,
	// so the UI asks only while the tree is on screen.
	NamespaceTree(snap discovery.Snapshot) *discovery.PIDNamespaceNode
	// Events returns the history of the container with the given key
	// (events.Key), oldest first. The UI calls it on every refresh
	// while the history is on screen, so it should answer from memory
	// while the file is unchanged.
	Events(key string) ([]events.Event, error)
	// UserNames maps the given uids to user names (missing ones are left out).
	UserNames(uids []int) map[int]string

	// Launch starts a boxtui container and returns its name.
	Launch(req LaunchRequest) (string, error)
	// DefaultRootfs is the rootfs the launch form offers.
	DefaultRootfs() string
	// RootfsExists reports whether path holds a usable rootfs.
	RootfsExists(path string) (bool, error)
	// CreateRootfs builds a small rootfs at path (host binaries).
	CreateRootfs(path string) error

	// OpenConsole attaches to the console of a boxtui container's holder.
	OpenConsole(name string, cols, rows int) (Terminal, error)
	// Exec starts a shell in c's namespaces on a PTY rendered by a terminal.
	Exec(c discovery.Container, cols, rows int) (Terminal, error)
	// Debug starts a shell from the toolbox in c's namespaces, with c's
	// files at /target (boxtui debug), on a PTY rendered by a terminal.
	Debug(c discovery.Container, cols, rows int) (Terminal, error)

	// Kill sends sig to the process pid, if it still has startTime.
	Kill(pid int, startTime uint64, sig syscall.Signal) error
	// Stop ends a container: its stop signal (SIGTERM, or SIGRTMIN+3 for
	// systemd) to its init, then SIGKILL after grace. It returns what
	// happened in the words of `boxtui kill`'s stop line ("sent SIGTERM
	// (handled), exited after 0.1 s").
	Stop(c discovery.Container, grace time.Duration) (string, error)

	// CheckHostPath says why a host path cannot be bind-mounted (it does
	// not exist, or cannot be reached), nil when it can: a stat, for the
	// forms to say so in the field.
	CheckHostPath(path string) error

	// Remove removes an exited boxtui container: its state and history
	// (boxtui rm NAME).
	Remove(name string) error

	// Mounts lists c's mounts, boxtui's own marked Managed.
	Mounts(c discovery.Container) ([]Mount, error)
	// AddMount binds the host path source onto target inside c.
	AddMount(c discovery.Container, source, target string, readOnly bool) error
	// SetMountReadOnly flips a mount of c between read-only and read-write.
	SetMountReadOnly(c discovery.Container, target string, readOnly bool) error
	// RemoveMount unmounts target inside c.
	RemoveMount(c discovery.Container, target string) error
}

// LaunchRequest is what the launch form asks for.
type LaunchRequest struct {
	Name     string
	Rootfs   string
	Command  []string
	Hostname string
	Net      bool // own network namespace
	Mounts   []MountSpec
}

// MountSpec is a bind mount to set up at launch.
type MountSpec struct {
	Source   string
	Target   string
	ReadOnly bool
}

// Mount is one mount of a container, as the mounts panel shows it.
type Mount struct {
	Source   string
	Target   string
	FSType   string
	ReadOnly bool
	// Managed marks a bind mount boxtui added (it can flip and remove it).
	Managed bool
}

// Terminal is a terminal pane's emulator and the process behind it: the
// subset of pty.Terminal the UI uses, so panes can be tested with a fake.
type Terminal interface {
	// SendKey encodes a key press for the program in the terminal.
	SendKey(k uv.KeyPressEvent)
	// Paste sends text, bracketed if the program asked for it.
	Paste(s string)
	// Resize changes the emulator's and the PTY's size.
	Resize(cols, rows int) error
	// Render returns exactly rows lines of cols cells, with SGR styles.
	Render() string
	// Cursor is the cursor position inside the terminal.
	Cursor() (x, y int, visible bool)
	// Title is the window title the program set.
	Title() string
	// Updates receives (coalesced) when the screen changed.
	Updates() <-chan struct{}
	// Done is closed when the program or connection ended.
	Done() <-chan struct{}
	// Err says how it ended: nil for a clean exit.
	Err() error
	// Close ends the connection (and the exec shell).
	Close() error
}
