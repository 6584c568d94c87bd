// Package backend adapts boxtui's runtime and pty packages to the UI's
// Backend interface. It is the only part of the UI that touches the system,
// and it is only ever called from tea.Cmds.
package backend

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"sync"
	"syscall"
	"time"

	"boxtui/pty"
	"boxtui/runtime/actionlog"
	"boxtui/runtime/debug"
	"boxtui/runtime/discovery"
	"boxtui/runtime/enter"
	"boxtui/runtime/events"
	"boxtui/runtime/launch"
	"boxtui/runtime/mounts"
	"boxtui/runtime/rootfs"
	"boxtui/runtime/signals"
	"boxtui/runtime/state"
	"boxtui/ui"

	"golang.org/x/sys/unix"
)

// Runtime is the real backend.
type Runtime struct {
	mu      sync.Mutex
	scanner *discovery.Scanner // reused: it caches what does not change
	// meter turns each scan's stat lines into usage; one for the life of
	// the UI, since CPU use is the difference between two scans.
	meter  *discovery.UsageMeter
	users  map[int]string
	rootfs string

	evMu    sync.Mutex
	evCache map[string]eventsEntry
}

// eventsEntry is a history file as last read, with what stat said then.
type eventsEntry struct {
	size   int64
	mtime  time.Time
	events []events.Event
}

// Option configures the backend.
type Option func(*Runtime)

// WithDefaultRootfs sets the rootfs the launch form offers (from the
// config file); empty keeps launch's default.
func WithDefaultRootfs(dir string) Option {
	return func(r *Runtime) {
		if dir != "" {
			r.rootfs = dir
		}
	}
}

// New returns the real backend.
func New(opts ...Option) *Runtime {
	r := &Runtime{
		scanner: discovery.NewScanner(), meter: discovery.NewUsageMeter(), users: map[int]string{},
		rootfs: launch.DefaultRootfs, evCache: map[string]eventsEntry{},
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

var _ ui.Backend = (*Runtime)(nil)

// Scan runs one discovery pass with every process's namespaces and feeds
// it to the usage meter.
func (r *Runtime) Scan() (discovery.Snapshot, map[int]discovery.Usage, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	snap, err := r.scanner.Scan(discovery.ScanOptions{ProcessNamespaces: true, Exited: true})
	if err != nil {
		return snap, nil, err
	}
	return snap, r.meter.Observe(snap, time.Now()), nil
}

// NamespaceTree nests the snapshot's PID namespaces (NS_GET_PARENT,
// NS_GET_USERNS on each container's init).
func (r *Runtime) NamespaceTree(snap discovery.Snapshot) *discovery.PIDNamespaceNode {
	return discovery.NamespaceTree(snap)
}

// Events reads a container's history, or answers from the last read when
// a stat of the file shows the same size and mtime: the UI asks every
// second while the history is on screen, and the file only ever grows by
// appends (or is rewritten whole when trimmed, which changes both).
func (r *Runtime) Events(key string) ([]events.Event, error) {
	path := eventsPath(key)
	var fi os.FileInfo
	if path != "" {
		var err error
		if fi, err = os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
	}
	r.evMu.Lock()
	defer r.evMu.Unlock()
	// The file as written is cached; an exec whose client died is shown
	// closed from /proc each time, since that changes no file.
	withOrphans := func(evs []events.Event) []events.Event {
		if orphans := events.OrphanedExecs(evs); len(orphans) > 0 {
			return append(evs[:len(evs):len(evs)], orphans...)
		}
		return evs
	}
	if e, ok := r.evCache[key]; ok && fi != nil && e.size == fi.Size() && e.mtime.Equal(fi.ModTime()) {
		return withOrphans(e.events), nil
	}
	evs, err := events.ReadAsWritten(key)
	if err != nil {
		return nil, err
	}
	if fi != nil {
		// One entry per container looked at: the cache stays as small as
		// the set of containers a person has opened the history of.
		r.evCache[key] = eventsEntry{size: fi.Size(), mtime: fi.ModTime(), events: evs}
	}
	return withOrphans(evs), nil
}

// eventsPath is where runtime keeps the history of key (see
// events.Key), for the stat that decides whether to re-read it; ""
// when it cannot tell, and the history is then read every time.
func eventsPath(key string) string {
	path, err := events.Path(key)
	if err != nil {
		return ""
	}
	return path
}

// UserNames looks uids up once each and remembers them.
func (r *Runtime) UserNames(uids []int) map[int]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[int]string, len(uids))
	for _, uid := range uids {
		name, ok := r.users[uid]
		if !ok {
			if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
				name = u.Username
			}
			r.users[uid] = name
		}
		if name != "" {
			out[uid] = name
		}
	}
	return out
}

// DefaultRootfs is launch's default rootfs.
func (r *Runtime) DefaultRootfs() string { return r.rootfs }

// RootfsExists reports whether path is a directory with something in it.
func (r *Runtime) RootfsExists(path string) (bool, error) {
	entries, err := os.ReadDir(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return len(entries) > 0, nil
}

// CreateRootfs builds a rootfs from the host's binaries.
func (r *Runtime) CreateRootfs(path string) error {
	_, err := rootfs.Create(path, rootfs.Options{})
	return logged("rootfs.create", path, err)
}

// Launch starts a container through its holder; its bind mounts are added
// before the command starts.
func (r *Runtime) Launch(req ui.LaunchRequest) (string, error) {
	opts := launch.Options{
		Name:     req.Name,
		Rootfs:   req.Rootfs,
		Command:  req.Command,
		Hostname: req.Hostname,
		Net:      req.Net,
		Rows:     24,
		Cols:     80,
	}
	// Launch-time mounts go through the same engine as `run -v`.
	for _, m := range req.Mounts {
		target, err := mounts.CleanTarget("mount over", m.Target)
		if err != nil {
			return "", err
		}
		opts.Mounts = append(opts.Mounts, state.MountRecord{Source: m.Source, Target: target, ReadOnly: m.ReadOnly})
	}
	if len(opts.Mounts) > 0 {
		opts.Prepare = mounts.AtLaunch(opts.Mounts)
	}
	c, err := launch.Run(opts)
	target := req.Name + " rootfs " + req.Rootfs
	if c != nil && c.Name != "" {
		target = c.Name
	}
	if err := logged("launch", target, err); err != nil {
		return "", err
	}
	return c.Name, nil
}

// OpenConsole connects a terminal to the holder's console socket.
func (r *Runtime) OpenConsole(name string, cols, rows int) (ui.Terminal, error) {
	con, err := launch.DialConsole(name)
	if err != nil {
		return nil, err
	}
	ct := &consoleTerminal{con: con, notices: make(chan string, 4)}
	// A pane is a screen client: the holder draws the current screen for
	// it now and whenever it falls behind, and it reconnects by itself.
	if err := con.Screen(rows, cols, true, ct.notice); err != nil {
		con.Close()
		return nil, err
	}
	ct.Terminal = pty.New(cols, rows)
	if err := ct.Terminal.Attach(consoleConn{con}); err != nil {
		con.Close()
		return nil, err
	}
	return ct, nil
}

// consoleConn turns the console's Resize(rows, cols) into pty.Conn's.
type consoleConn struct{ *launch.Console }

func (c consoleConn) Resize(cols, rows int) error { return c.Console.Resize(rows, cols) }

type consoleTerminal struct {
	*pty.Terminal
	con     *launch.Console
	notices chan string
}

// notice reports a connection that broke and was dialled again.
func (t *consoleTerminal) notice(why error) {
	select {
	case t.notices <- why.Error() + "; reconnected":
	default:
	}
}

// Notices says when the console's connection broke and came back.
func (t *consoleTerminal) Notices() <-chan string { return t.notices }

func (t *consoleTerminal) Resize(cols, rows int) error {
	t.Terminal.Resize(cols, rows)
	return nil
}

// Err says how the container ended when its console closed.
func (t *consoleTerminal) Err() error {
	if st := t.con.ExitStatus(); st != nil {
		if st.Code == 0 && st.Signal == "" {
			return nil
		}
		// The same type an exec pane's shell reports: an ending, not a fault.
		if st.Signal != "" {
			return &pty.ExitError{Code: -1, Signal: unix.SignalNum("SIG" + st.Signal)}
		}
		return &pty.ExitError{Code: st.Code}
	}
	return t.Terminal.Err()
}

// Exec starts a shell in c's namespaces on a PTY the pane owns.
func (r *Runtime) Exec(c discovery.Container, cols, rows int) (ui.Terminal, error) {
	return r.exec(c, cols, rows, false)
}

// ExecAsEngine is Exec as the container's engine would (exec --as-engine).
func (r *Runtime) ExecAsEngine(c discovery.Container, cols, rows int) (ui.Terminal, error) {
	return r.exec(c, cols, rows, true)
}

func (r *Runtime) exec(c discovery.Container, cols, rows int, asEngine bool) (ui.Terminal, error) {
	p, err := enter.Start(c, enter.Options{
		TTY:      true,
		Rows:     uint16(rows),
		Cols:     uint16(cols),
		Env:      []string{"TERM=" + pty.TERM},
		AsEngine: asEngine,
	})
	what := c.Target() + " shell"
	if c.Named.PID > 0 {
		what = c.Target() + " pid:" + strconv.Itoa(c.Named.PID) + " shell"
	}
	if asEngine {
		what += " (as engine)"
	}
	if err := logged("exec", what, err); err != nil {
		return nil, err
	}
	return shellPane(p, p.Master, cols, rows)
}

// shellPane renders the shell p on its PTY master in a pane's terminal.
// The pane ends when the shell has exited and its output is read.
func shellPane(p shellProcess, master *os.File, cols, rows int) (ui.Terminal, error) {
	t := pty.New(cols, rows)
	if err := t.Attach(pty.NewPTYConn(master)); err != nil {
		p.Signal(syscall.SIGKILL)
		master.Close()
		return nil, err
	}
	et := &execTerminal{Terminal: t, proc: p, done: make(chan struct{})}
	go func() {
		<-t.Done()
		<-p.Done()
		close(et.done)
	}()
	return et, nil
}

type execTerminal struct {
	*pty.Terminal
	proc shellProcess
	done chan struct{}
}

// shellProcess is what a pane needs of the shell behind it (an exec's or a
// debug shell's *enter.Process).
type shellProcess interface {
	Wait() (enter.ExitStatus, error)
	Done() <-chan struct{}
	Signal(os.Signal) error
}

// Debug starts a shell in c's namespaces, with c's files at /target
// (boxtui debug), on a PTY the pane owns. Its toolbox is the rootfs the
// launch form offers: boxtui's default rootfs unless the config names one.
func (r *Runtime) Debug(c discovery.Container, cols, rows int) (ui.Terminal, error) {
	p, err := debug.Start(c, debug.Options{
		Tools: r.rootfs,
		TTY:   true,
		Rows:  uint16(rows),
		Cols:  uint16(cols),
		Env:   []string{"TERM=" + pty.TERM},
	})
	if err := logged("debug", c.Target()+" shell", err); err != nil {
		return nil, err
	}
	return shellPane(p, p.Master, cols, rows)
}

func (t *execTerminal) Resize(cols, rows int) error {
	t.Terminal.Resize(cols, rows)
	return nil
}

func (t *execTerminal) Done() <-chan struct{} { return t.done }

// Err is the shell's exit status when it was not a clean exit.
func (t *execTerminal) Err() error {
	st, err := t.proc.Wait()
	if err != nil {
		return err
	}
	if st.Code == 0 && st.Signal == 0 {
		return nil
	}
	return errors.New(st.String())
}

// Close hangs up the shell; one that ignores the hangup is killed.
func (t *execTerminal) Close() error {
	err := t.Terminal.Close()
	select {
	case <-t.proc.Done():
	case <-time.After(2 * time.Second):
		t.proc.Signal(syscall.SIGKILL)
	}
	return err
}

// Kill signals a process named by PID and start time.
func (r *Runtime) Kill(pid int, startTime uint64, sig syscall.Signal) error {
	return logged("signal", "pid:"+strconv.Itoa(pid)+" "+signals.Name(sig), signals.Send(pid, startTime, sig))
}

// Stop stops a container: its stop signal, grace, SIGKILL; it returns the
// stop line.
func (r *Runtime) Stop(c discovery.Container, grace time.Duration) (string, error) {
	res, err := launch.StopReport(c, grace)
	if err != nil {
		return "", logged("stop", c.Target(), err)
	}
	return res.String(), logged("stop", c.Target(), nil)
}

// CheckHostPath stats a host path for the forms.
func (r *Runtime) CheckHostPath(p string) error {
	if _, err := os.Stat(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s does not exist on the host: create it first, or give another path", p)
		}
		return fmt.Errorf("host path %s: %w", p, errors.Unwrap(err))
	}
	return nil
}

// Remove removes an exited boxtui container, as `boxtui rm NAME` does: a
// running one is refused (it is stopped with x first).
func (r *Runtime) Remove(name string) error {
	return logged("rm", name, launch.Remove(name, false, 0))
}

// Mounts lists c's mounts from its own mountinfo.
func (r *Runtime) Mounts(c discovery.Container) ([]ui.Mount, error) {
	ms, err := mounts.List(c)
	if err != nil {
		return nil, err
	}
	out := make([]ui.Mount, len(ms))
	for i, m := range ms {
		out[i] = ui.Mount{Source: m.Source, Target: m.Target, FSType: m.FSType, ReadOnly: m.ReadOnly, Managed: m.Managed}
	}
	return out, nil
}

// AddMount binds source onto target inside c, creating a missing target.
func (r *Runtime) AddMount(c discovery.Container, source, target string, readOnly bool) error {
	err := mounts.Add(c, source, target, mounts.AddOptions{ReadOnly: readOnly, Mkdir: true})
	return logged("mount.add", c.Target()+" "+source+" -> "+target+" "+roOrRW(readOnly), err)
}

// SetMountReadOnly flips a mount between ro and rw.
func (r *Runtime) SetMountReadOnly(c discovery.Container, target string, readOnly bool) error {
	return logged("mount.flip", c.Target()+" "+target+" "+roOrRW(readOnly), mounts.Remount(c, target, readOnly))
}

// RemoveMount unmounts target inside c.
func (r *Runtime) RemoveMount(c discovery.Container, target string) error {
	return logged("mount.remove", c.Target()+" "+target, mounts.Remove(c, target))
}

// logged records a privileged action in boxtui's action log (as the CLI
// does, with the same action names) and passes err on.
var logged = actionlog.Logged

func roOrRW(readOnly bool) string {
	if readOnly {
		return "ro"
	}
	return "rw"
}
