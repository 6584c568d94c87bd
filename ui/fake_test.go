package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"boxtui/runtime/discovery"
	"boxtui/runtime/events"
	"boxtui/runtime/namespace"
	"boxtui/runtime/state"

	uv "github.com/charmbracelet/ultraviolet"
)

// fakeNow is the fixed clock of the golden tests.
var fakeNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// The event history prints local times; the goldens must not depend on the
// machine's time zone.
func init() { time.Local = time.UTC }

func makeNS(cgroup, ipc, mnt, net, pid, time_, user, uts uint64) namespace.Set {
	var s namespace.Set
	s[namespace.Cgroup], s[namespace.IPC], s[namespace.Mnt], s[namespace.Net] = cgroup, ipc, mnt, net
	s[namespace.PID], s[namespace.Time], s[namespace.User], s[namespace.UTS] = pid, time_, user, uts
	s[namespace.PIDForChildren], s[namespace.TimeForChildren] = pid, time_
	return s
}

var (
	fakeHost = makeNS(4026531835, 4026531839, 4026531841, 4026531840, 4026531836, 4026531834, 4026531837, 4026531838)
	// web: the seed's container, with an nsenter'd shell in its own mnt.
	webNS    = makeNS(4026531835, 4026532201, 4026532199, 4026531840, 4026532202, 4026531834, 4026531837, 4026532200)
	webExec  = makeNS(4026531835, 4026532201, 4026532210, 4026531840, 4026532202, 4026531834, 4026531837, 4026532200)
	sleeperN = makeNS(4026531835, 4026531839, 4026532300, 4026531840, 4026532301, 4026531834, 4026531837, 4026531838)
	nginxNS  = makeNS(4026532400, 4026532401, 4026532402, 4026532403, 4026532404, 4026531834, 4026531837, 4026532405)
	// nested: a container started inside the sleeper's, in a user
	// namespace of its own.
	nestedNS = makeNS(4026531835, 4026531839, 4026532311, 4026531840, 4026532310, 4026531834, 4026532309, 4026531838)
)

// fakeParents and fakeOwners are the NS_GET_PARENT and NS_GET_USERNS
// answers of the fake's PID namespaces (the host's parent is none).
var (
	fakeParents = map[uint64]uint64{4026532310: 4026532301}
	fakeOwners  = map[uint64]uint64{4026532310: 4026532309}
)

// fakeUsage is what the fake measures at its n-th scan: figures that move,
// so the sparklines have a shape.
func fakeUsage(n int) map[int]discovery.Usage {
	wave := []float64{0, 10, 35, 80, 100, 95, 60, 20, 5, 0, 0, 12}
	return map[int]discovery.Usage{
		4242: {CPUPercent: wave[n%len(wave)], RSSBytes: int64(8<<20 + (n%5)*(1<<20)), Processes: 3},
		5100: {CPUPercent: 0, RSSBytes: 512 << 10, Processes: 1},
		5150: {CPUPercent: 99.7, RSSBytes: 1100 << 10, Processes: 1},
		6200: {CPUPercent: 0.3, RSSBytes: 14 << 20, Processes: 2},
	}
}

// fakeEvents is the history of web, in the words boxtui records (compare
// `boxtui events` of a real container).
func fakeEvents() map[string][]events.Event {
	at := func(d time.Duration) time.Time { return fakeNow.Add(-d) }
	return map[string][]events.Event{
		"web": {
			{Time: at(3*time.Minute + 12*time.Second), Container: "web", Kind: events.Started, Detail: "init pid 4242: /bin/bash", By: "boxtui run"},
			{Time: at(2*time.Minute + 30*time.Second), Container: "web", Kind: events.MountAdded, Detail: "/srv/data at /data (ro)", By: "boxtui"},
			{Time: at(2 * time.Minute), Container: "web", Kind: events.ExecOpened, Detail: "host pid 4300: /bin/bash", By: "boxtui exec"},
			{Time: at(40 * time.Second), Container: "web", Kind: events.Killed, Detail: "SIGTERM to process 3 inside (host pid 4302, top)", By: "boxtui"},
		},
	}
}

func fakeSnapshot() discovery.Snapshot {
	return discovery.Snapshot{
		Host: fakeHost,
		Containers: []discovery.Container{
			{
				Name: "web", PID: 4242, Origin: discovery.OriginBoxtui, Command: "/bin/bash", Comm: "bash",
				Processes: 3, Namespaces: webNS, StartTime: 100, Started: fakeNow.Add(-3*time.Minute - 12*time.Second),
				Status: state.StatusRunning, HolderPID: 4241,
				Mounts: []state.MountRecord{{Source: "/srv/data", Target: "/data", ReadOnly: true}},
				Procs: []discovery.Process{
					{PID: 4242, InnerPID: 1, UID: 0, Comm: "bash", Command: "/bin/bash", StartTime: 100, Namespaces: webNS},
					{PID: 4300, InnerPID: 6, UID: 0, Comm: "bash", Command: "/bin/bash", StartTime: 150, Namespaces: webExec},
					{PID: 4301, InnerPID: 7, UID: 1000, Comm: "top", Command: "top", StartTime: 160, Namespaces: webExec},
				},
			},
			{
				PID: 5100, Origin: discovery.OriginUnshare, Command: "sleep 1000", Comm: "sleep",
				Processes: 1, Namespaces: sleeperN, StartTime: 200, Started: fakeNow.Add(-2*time.Hour - 5*time.Minute),
				Status: state.StatusRunning,
				Procs: []discovery.Process{
					{PID: 5100, InnerPID: 1, UID: 0, Comm: "sleep", Command: "sleep 1000", StartTime: 200, Namespaces: sleeperN},
				},
			},
			{
				PID: 5150, Origin: discovery.OriginUnshare, Command: "sh -c busy", Comm: "sh",
				Processes: 1, Namespaces: nestedNS, StartTime: 250, Started: fakeNow.Add(-time.Hour),
				Status: state.StatusRunning,
				Procs: []discovery.Process{
					{PID: 5150, InnerPID: 1, UID: 0, Comm: "sh", Command: "sh -c busy", StartTime: 250, Namespaces: nestedNS},
				},
			},
			{
				PID: 6200, Origin: discovery.OriginDocker, Command: "nginx: master process nginx -g daemon off;", Comm: "nginx",
				Processes: 2, Namespaces: nginxNS, StartTime: 300, Started: fakeNow.Add(-50 * time.Hour),
				Status: state.StatusRunning,
				Procs: []discovery.Process{
					{PID: 6200, InnerPID: 1, UID: 0, Comm: "nginx", Command: "nginx: master process nginx -g daemon off;", StartTime: 300, Namespaces: nginxNS},
					{PID: 6230, InnerPID: 29, UID: 101, Comm: "nginx", Command: "nginx: worker process", StartTime: 310, Namespaces: nginxNS},
				},
			},
		},
	}
}

// fakeBackend records what the UI asked for and answers from memory.
type fakeBackend struct {
	mu        sync.Mutex
	snap      discovery.Snapshot
	calls     []string
	mounts    map[int][]Mount
	rootfs    bool
	launchErr error
	terms     []*fakeTerminal
	scans     int
	events    map[string][]events.Event
	// eventReads and treeReads count what a view asked for, to check the
	// UI reads them only while on screen.
	eventReads int
	treeReads  int
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{
		snap:   fakeSnapshot(),
		rootfs: true,
		events: fakeEvents(),
		mounts: map[int][]Mount{
			4242: {
				{Source: "/dev/sda1", Target: "/", FSType: "ext4"},
				{Source: "proc", Target: "/proc", FSType: "proc"},
				{Source: "/srv/data", Target: "/data", FSType: "ext4", ReadOnly: true, Managed: true},
			},
		},
	}
}

func (f *fakeBackend) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeBackend) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeBackend) Scan() (discovery.Snapshot, map[int]discovery.Usage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := fakeUsage(f.scans)
	f.scans++
	usage := map[int]discovery.Usage{}
	for _, c := range f.snap.Containers {
		if x, ok := u[c.PID]; ok {
			usage[c.PID] = x
		}
	}
	return f.snap, usage, nil
}

// NamespaceTree nests the snapshot the way discovery.NamespaceTree does, from
// the fake's parent and owner tables instead of ioctls.
func (f *fakeBackend) NamespaceTree(snap discovery.Snapshot) *discovery.PIDNamespaceNode {
	f.mu.Lock()
	f.treeReads++
	f.mu.Unlock()
	root := &discovery.PIDNamespaceNode{Inode: snap.Host[namespace.PID], Owner: snap.Host[namespace.User]}
	nodes := map[uint64]*discovery.PIDNamespaceNode{root.Inode: root}
	var order []*discovery.PIDNamespaceNode
	for _, c := range snap.Containers {
		ino := c.Namespaces[namespace.PID]
		owner, ok := fakeOwners[ino]
		if !ok {
			owner = snap.Host[namespace.User]
		}
		n := &discovery.PIDNamespaceNode{Inode: ino, Parent: fakeParents[ino], Owner: owner, Container: c.PID, Name: c.Name, Command: c.Command}
		if n.Parent == 0 {
			n.Parent = root.Inode
		}
		nodes[ino] = n
		order = append(order, n)
	}
	for _, n := range order {
		p := nodes[n.Parent]
		if p == nil {
			p = root
		}
		p.Children = append(p.Children, n)
	}
	return root
}

func (f *fakeBackend) Events(key string) ([]events.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.eventReads++
	return append([]events.Event(nil), f.events[key]...), nil
}

func (f *fakeBackend) UserNames(uids []int) map[int]string {
	names := map[int]string{0: "root", 1000: "alice"}
	out := map[int]string{}
	for _, u := range uids {
		if n, ok := names[u]; ok {
			out[u] = n
		}
	}
	return out
}

func (f *fakeBackend) Launch(req LaunchRequest) (string, error) {
	f.record("launch %s rootfs=%s cmd=%s host=%s net=%v mounts=%v", req.Name, req.Rootfs, strings.Join(req.Command, " "), req.Hostname, req.Net, req.Mounts)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.launchErr != nil {
		return "", f.launchErr
	}
	return req.Name, nil
}
func (f *fakeBackend) DefaultRootfs() string { return "/var/lib/boxtui/rootfs" }
func (f *fakeBackend) RootfsExists(path string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rootfs, nil
}
func (f *fakeBackend) CreateRootfs(path string) error {
	f.record("create-rootfs %s", path)
	return nil
}
func (f *fakeBackend) OpenConsole(name string, cols, rows int) (Terminal, error) {
	f.record("console %s %dx%d", name, cols, rows)
	return f.newTerm(cols, rows, "root@"+name+":/# "), nil
}
func (f *fakeBackend) Exec(c discovery.Container, cols, rows int) (Terminal, error) {
	if c.Named.PID > 0 {
		f.record("exec %d/%d@%d %dx%d", c.PID, c.Named.PID, c.Named.StartTime, cols, rows)
	} else {
		f.record("exec %d %dx%d", c.PID, cols, rows)
	}
	return f.newTerm(cols, rows, "exec# "), nil
}
func (f *fakeBackend) Debug(c discovery.Container, cols, rows int) (Terminal, error) {
	f.record("debug %d %dx%d", c.PID, cols, rows)
	return f.newTerm(cols, rows, "debug# "), nil
}
func (f *fakeBackend) Kill(pid int, start uint64, sig syscall.Signal) error {
	f.record("kill %d %d %s", pid, start, sig)
	return nil
}
func (f *fakeBackend) Stop(c discovery.Container, grace time.Duration) (string, error) {
	f.record("stop %d %s", c.PID, grace)
	return "sent SIGTERM (handled), exited after 0.01 s", nil
}

// CheckHostPath: on the fake host, paths under /missing do not exist.
func (f *fakeBackend) CheckHostPath(p string) error {
	if strings.HasPrefix(p, "/missing") {
		return fmt.Errorf("%s does not exist on the host: create it first, or give another path", p)
	}
	return nil
}

func (f *fakeBackend) Remove(name string) error {
	f.record("rm %s", name)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snap.Containers = slices.DeleteFunc(slices.Clone(f.snap.Containers), func(c discovery.Container) bool {
		return c.Name == name && c.Status == state.StatusExited
	})
	return nil
}

// withExited adds to the fake host an exited boxtui container, "old",
// which ended with status 3 (as Scan lists it from its state).
func (d *driver) withExited() {
	code := 3
	d.b.mu.Lock()
	d.b.snap.Containers = append(slices.Clone(d.b.snap.Containers), discovery.Container{
		Name: "old", PID: 3900, Origin: discovery.OriginBoxtui, Command: "/bin/sh -c exit 3",
		Root: "/var/lib/boxtui/rootfs/default", Status: state.StatusExited, ExitCode: &code,
		StartTime: 50, Started: fakeNow.Add(-3 * time.Hour),
	})
	d.b.mu.Unlock()
	d.send(tickMsg{id: d.m.scan.tickID})
}

func (f *fakeBackend) Mounts(c discovery.Container) ([]Mount, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Mount(nil), f.mounts[c.PID]...), nil
}
func (f *fakeBackend) AddMount(c discovery.Container, src, dst string, ro bool) error {
	f.record("mount-add %d %s %s ro=%v", c.PID, src, dst, ro)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mounts[c.PID] = append(f.mounts[c.PID], Mount{Source: src, Target: dst, ReadOnly: ro, Managed: true, FSType: "ext4"})
	return nil
}
func (f *fakeBackend) SetMountReadOnly(c discovery.Container, dst string, ro bool) error {
	f.record("mount-ro %d %s ro=%v", c.PID, dst, ro)
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.mounts[c.PID] {
		if f.mounts[c.PID][i].Target == dst {
			f.mounts[c.PID][i].ReadOnly = ro
		}
	}
	return nil
}
func (f *fakeBackend) RemoveMount(c discovery.Container, dst string) error {
	f.record("mount-rm %d %s", c.PID, dst)
	return errors.New("fake: not removed")
}

func (f *fakeBackend) newTerm(cols, rows int, prompt string) *fakeTerminal {
	t := &fakeTerminal{cols: cols, rows: rows, prompt: prompt, updates: make(chan struct{}, 1), done: make(chan struct{})}
	f.mu.Lock()
	f.terms = append(f.terms, t)
	f.mu.Unlock()
	return t
}

// fakeTerminal shows a prompt followed by whatever text was typed.
type fakeTerminal struct {
	mu         sync.Mutex
	cols, rows int
	prompt     string
	typed      strings.Builder
	updates    chan struct{}
	done       chan struct{}
	closed     bool
	err        error
}

func (t *fakeTerminal) SendKey(k uv.KeyPressEvent) {
	t.mu.Lock()
	if k.Text != "" {
		t.typed.WriteString(k.Text)
	}
	t.mu.Unlock()
	t.notify()
}
func (t *fakeTerminal) Paste(s string) {
	t.mu.Lock()
	t.typed.WriteString(s)
	t.mu.Unlock()
	t.notify()
}
func (t *fakeTerminal) notify() {
	select {
	case t.updates <- struct{}{}:
	default:
	}
}
func (t *fakeTerminal) Resize(cols, rows int) error {
	t.mu.Lock()
	t.cols, t.rows = cols, rows
	t.mu.Unlock()
	return nil
}
func (t *fakeTerminal) Render() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := make([]string, t.rows)
	lines[0] = t.prompt + t.typed.String()
	for i, l := range lines {
		if n := len([]rune(l)); n < t.cols {
			lines[i] = l + strings.Repeat(" ", t.cols-n)
		} else {
			lines[i] = string([]rune(l)[:t.cols])
		}
	}
	return strings.Join(lines, "\n")
}
func (t *fakeTerminal) Cursor() (int, int, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.prompt) + t.typed.Len(), 0, true
}
func (t *fakeTerminal) Title() string            { return "" }
func (t *fakeTerminal) Updates() <-chan struct{} { return t.updates }
func (t *fakeTerminal) Done() <-chan struct{}    { return t.done }
func (t *fakeTerminal) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}
func (t *fakeTerminal) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.closed {
		t.closed = true
		close(t.done)
	}
	return nil
}

// exit ends the fake shell with err.
func (t *fakeTerminal) exit(err error) {
	t.mu.Lock()
	t.err = err
	t.mu.Unlock()
	t.Close()
}

// ExecAsEngine makes the fake an EngineExecer.
func (f *fakeBackend) ExecAsEngine(c discovery.Container, cols, rows int) (Terminal, error) {
	f.record("exec-as-engine %d %dx%d", c.PID, cols, rows)
	return f.newTerm(cols, rows, "engine# "), nil
}
