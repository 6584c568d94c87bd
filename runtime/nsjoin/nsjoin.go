package nsjoin

import (
	"errors"
	"fmt"
	"runtime"

	"boxtui/runtime/namespace"
	"boxtui/runtime/procfs"

	"golang.org/x/sys/unix"
)

// ErrUserNamespace is returned when asked to join a user namespace without
// Options.UserTime: the kernel refuses setns(CLONE_NEWUSER) to a
// multithreaded process, and a Go program always is. The C enter stage
// (runtime/enter/stage) joins it; a binary built without cgo has no stage.
var ErrUserNamespace = errors.New("joining a user namespace needs boxtui built with cgo (the kernel refuses it to multithreaded programs, and this boxtui has no C enter stage); containers with their own user namespace can be listed and killed but not entered")

// ErrTimeNamespace is the time-namespace twin of ErrUserNamespace: the kernel
// allows setns(CLONE_NEWTIME) only to single-threaded processes.
var ErrTimeNamespace = errors.New("joining a time namespace needs boxtui built with cgo (the kernel refuses it to multithreaded programs, and this boxtui has no C enter stage)")

// joinOrder is the order setns is called in. mnt comes last: it resets the
// root and working directory, and joining it needs CLONE_FS unshared first;
// pid only applies to children, so its place does not matter for us.
var joinOrder = []namespace.Type{namespace.Cgroup, namespace.IPC, namespace.UTS, namespace.Net, namespace.PID, namespace.Mnt}

func init() {
	// Keep the main goroutine on the main thread for the life of the
	// program. A thread that joined a container is locked and thrown away
	// when its goroutine ends, but the main thread cannot be thrown away:
	// the Go runtime would park it instead, and /proc/self/ns (which is the
	// main thread's) would then show the container's namespaces as
	// boxtui's own. Locked here, the main thread never runs Entry.Do.
	runtime.LockOSThread()
}

var nsCloneFlag = map[namespace.Type]int{
	namespace.Cgroup: unix.CLONE_NEWCGROUP,
	namespace.IPC:    unix.CLONE_NEWIPC,
	namespace.UTS:    unix.CLONE_NEWUTS,
	namespace.Net:    unix.CLONE_NEWNET,
	namespace.PID:    unix.CLONE_NEWPID,
	namespace.Mnt:    unix.CLONE_NEWNS,
	namespace.User:   unix.CLONE_NEWUSER,
	namespace.Time:   unix.CLONE_NEWTIME,
}

// Entry holds, opened from the host, everything needed to enter a process's
// namespaces: one fd per namespace to join, and O_PATH fds on its root and
// working directory. Opening all of them before any setns means nothing is
// looked up by path once we are half inside.
type Entry struct {
	PID       int
	StartTime uint64
	nsFD      map[namespace.Type]int
	rootFD    int
	cwdFD     int
}

// Options says what Open opens.
type Options struct {
	// Namespaces to join. Empty means every namespace of the target that
	// differs from boxtui's own (cgroup, ipc, uts, net, pid, mnt).
	Namespaces []namespace.Type
	// Root chroots into the target's root (like nsenter -r); Cwd also
	// changes into its working directory (nsenter -w).
	Root, Cwd bool
	// UserTime says the entry is joined by a single-threaded process (the
	// C enter stage, via StageNamespaces), which can join user and time
	// namespaces: the default set then includes them when they differ from
	// boxtui's, and a list may name them. Without it they are refused
	// (ErrUserNamespace, ErrTimeNamespace): Do cannot join them.
	UserTime bool
}

// stageOrder is the order the enter stage is given namespaces in: Go's, with
// time next to mnt as nsenter has it, and the user namespace, which the
// stage joins last anyway (runtime/enter/stage/join.h says why).
var stageOrder = []namespace.Type{namespace.Cgroup, namespace.IPC, namespace.UTS, namespace.Net, namespace.PID, namespace.Mnt, namespace.Time, namespace.User}

// readTargetNamespaces reads the namespaces of the process to enter; tests
// replace it to make one link unreadable.
var readTargetNamespaces = namespace.Read

// Open opens the handles to enter pid, which must still be the process
// that started at startTime (0 skips the check).
func Open(pid int, startTime uint64, opts Options) (*Entry, error) {
	e := &Entry{PID: pid, StartTime: startTime, nsFD: map[namespace.Type]int{}, rootFD: -1, cwdFD: -1}
	ok := false
	defer func() {
		if !ok {
			e.Close()
		}
	}()
	// Hold the process with a pidfd while we open its files, so a PID reused
	// meanwhile is noticed below.
	pidfd, err := procfs.OpenPidfd(pid, startTime)
	if err != nil {
		return nil, err
	}
	defer unix.Close(pidfd)

	types := opts.Namespaces
	host := namespace.Host()
	target, err := readTargetNamespaces(pid)
	if err != nil {
		return nil, fmt.Errorf("process %d: %w (it exited while being entered)", pid, procfs.ErrNoProcess)
	}
	if len(types) == 0 {
		for _, t := range joinOrder {
			// A link that cannot be read would silently leave that
			// namespace unjoined: a partial entry nobody asked for. Only a
			// namespace type this kernel does not have (no link on either
			// side) may be skipped. fastexec.c declines the same way.
			if (target[t] == 0) != (host[t] == 0) {
				if procfs.LiveStartTime(pid) == 0 { // gone, or a zombie: no links
					return nil, fmt.Errorf("process %d: %w (it exited while being entered)", pid, procfs.ErrNoProcess)
				}
				return nil, fmt.Errorf("enter process %d: cannot read its %s namespace or ours: refusing to join only the others", pid, t)
			}
			if target[t] != 0 && target[t] != host[t] {
				types = append(types, t)
			}
		}
		for _, t := range []namespace.Type{namespace.User, namespace.Time} {
			if (target[t] == 0) != (host[t] == 0) {
				if procfs.LiveStartTime(pid) == 0 {
					return nil, fmt.Errorf("process %d: %w (it exited while being entered)", pid, procfs.ErrNoProcess)
				}
				return nil, fmt.Errorf("enter process %d: cannot read its %s namespace or ours: refusing to join only the others", pid, t)
			}
			if target[t] == 0 || target[t] == host[t] {
				continue
			}
			if !opts.UserTime && t == namespace.User {
				return nil, fmt.Errorf("enter process %d: %w", pid, ErrUserNamespace)
			}
			if !opts.UserTime {
				return nil, fmt.Errorf("enter process %d: %w", pid, ErrTimeNamespace)
			}
			types = append(types, t)
		}
	}
	for _, t := range types {
		switch t {
		case namespace.User:
			if !opts.UserTime {
				return nil, fmt.Errorf("enter process %d: %w", pid, ErrUserNamespace)
			}
		case namespace.Time, namespace.TimeForChildren:
			if !opts.UserTime {
				return nil, fmt.Errorf("enter process %d: %w", pid, ErrTimeNamespace)
			}
			t = namespace.Time
		case namespace.PIDForChildren:
			t = namespace.PID
		}
		if _, dup := e.nsFD[t]; dup {
			continue
		}
		if t == namespace.User && target[namespace.User] != 0 && target[namespace.User] == host[namespace.User] {
			// The kernel refuses to "join" the user namespace one is in
			// (it would grant its capabilities afresh); nsenter -U skips it.
			continue
		}
		if _, ok := nsCloneFlag[t]; !ok {
			return nil, fmt.Errorf("enter process %d: cannot join namespace type %s", pid, t)
		}
		fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/%s", pid, t), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, e.procErr(pid, "open namespace "+t.String(), err)
		}
		e.nsFD[t] = fd
	}
	if opts.Root {
		fd, err := unix.Open(fmt.Sprintf("/proc/%d/root", pid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, e.procErr(pid, "open root", err)
		}
		e.rootFD = fd
	}
	if opts.Cwd {
		fd, err := unix.Open(fmt.Sprintf("/proc/%d/cwd", pid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, e.procErr(pid, "open working directory", err)
		}
		e.cwdFD = fd
	}
	// The process may have exited, and its PID been reused, while we opened
	// its files by /proc/PID path. A pidfd does not pin the number, but it
	// does tell whether the process it names is still unreaped: if so, the
	// number was still its own while we opened them. The start time checks
	// that it is the process the caller meant.
	if err := unix.PidfdSendSignal(pidfd, 0, nil, 0); err != nil {
		return nil, fmt.Errorf("process %d: %w (it exited while being entered)", pid, procfs.ErrNoProcess)
	}
	if _, err := procfs.StartTime(pid); err != nil || (startTime != 0 && procfs.LiveStartTime(pid) != startTime) {
		return nil, fmt.Errorf("process %d: %w (it exited while being entered)", pid, procfs.ErrNoProcess)
	}
	ok = true
	return e, nil
}

func (e *Entry) procErr(pid int, what string, err error) error {
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("process %d: %w (it exited while being entered)", pid, procfs.ErrNoProcess)
	}
	return fmt.Errorf("enter process %d: %s: %w", pid, what, err)
}

// StageNS is a namespace the enter stage joins: its type, the fd the entry
// holds and its CLONE_NEW* flag.
type StageNS struct {
	Type namespace.Type
	FD   int
	Flag uint32
}

// StageNamespaces lists the namespaces to join but pid (which DoInPID
// joins for the stage's parent thread), in the order the stage is given
// them. The fds stay the entry's.
func (e *Entry) StageNamespaces() []StageNS {
	var out []StageNS
	for _, t := range stageOrder {
		if fd, ok := e.nsFD[t]; ok && t != namespace.PID {
			out = append(out, StageNS{Type: t, FD: fd, Flag: uint32(nsCloneFlag[t])})
		}
	}
	return out
}

// RootFD and CwdFD are the entry's O_PATH handles on the process's root
// and working directory (-1 when not opened).
func (e *Entry) RootFD() int { return e.rootFD }

// CwdFD: see RootFD.
func (e *Entry) CwdFD() int { return e.cwdFD }

// DoInPID runs fn on a fresh OS thread that has joined only the entry's PID
// namespace (if it has one to join), so that a process fn starts is born
// in it: the enter stage, which joins everything else itself. Like Do, the
// thread is thrown away when fn returns.
func (e *Entry) DoInPID(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread, on purpose: see Do.
		if fd, ok := e.nsFD[namespace.PID]; ok {
			if err := unix.Setns(fd, unix.CLONE_NEWPID); err != nil {
				errc <- fmt.Errorf("enter process %d: join pid namespace: %w", e.PID, err)
				return
			}
		}
		errc <- fn()
	}()
	return <-errc
}

// Joins reports whether the entry joins namespace type t.
func (e *Entry) Joins(t namespace.Type) bool { _, ok := e.nsFD[t]; return ok }

// Close releases the entry's handles.
func (e *Entry) Close() {
	for t, fd := range e.nsFD {
		unix.Close(fd)
		delete(e.nsFD, t)
	}
	if e.rootFD >= 0 {
		unix.Close(e.rootFD)
		e.rootFD = -1
	}
	if e.cwdFD >= 0 {
		unix.Close(e.cwdFD)
		e.cwdFD = -1
	}
}

// Do runs fn on a fresh OS thread that has joined the entry's namespaces and,
// if opened with Root, its root directory. Processes fn starts (os/exec)
// inherit all of it, and land in the target's PID namespace, since setns(pid)
// applies to the thread's children. The thread is never handed back to the
// Go scheduler: when fn returns it exits with the goroutine, so no other
// goroutine ever runs inside the container by accident.
func (e *Entry) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread, on purpose: see above.
		if err := e.join(); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

func (e *Entry) join() error {
	// A Go thread cannot join these (see ErrUserNamespace): an entry
	// opened with UserTime is for the enter stage, never for Do.
	if e.Joins(namespace.User) {
		return fmt.Errorf("enter process %d: %w", e.PID, ErrUserNamespace)
	}
	if e.Joins(namespace.Time) {
		return fmt.Errorf("enter process %d: %w", e.PID, ErrTimeNamespace)
	}
	// setns(mnt) refuses a thread that shares its fs_struct (root, cwd) with
	// others; every Go thread does until it unshares CLONE_FS.
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("enter process %d: unshare fs: %w", e.PID, err)
	}
	for _, t := range joinOrder {
		fd, ok := e.nsFD[t]
		if !ok {
			continue
		}
		if err := unix.Setns(fd, nsCloneFlag[t]); err != nil {
			if errors.Is(err, unix.EINVAL) && t == namespace.PID {
				return fmt.Errorf("enter process %d: join pid namespace: %w", e.PID, err)
			}
			return fmt.Errorf("enter process %d: join %s namespace: %w", e.PID, t, err)
		}
	}
	// setns(mnt) put us at the namespace's root: right for a pivot_root
	// container, wrong for a chroot one. Changing into the root we opened
	// from the host and chrooting there covers both.
	if e.rootFD >= 0 {
		if err := unix.Fchdir(e.rootFD); err != nil {
			return fmt.Errorf("enter process %d: change to its root: %w", e.PID, err)
		}
		if err := unix.Chroot("."); err != nil {
			return fmt.Errorf("enter process %d: chroot to its root: %w", e.PID, err)
		}
		if err := unix.Chdir("/"); err != nil {
			return fmt.Errorf("enter process %d: chdir /: %w", e.PID, err)
		}
	}
	if e.cwdFD >= 0 {
		if err := unix.Fchdir(e.cwdFD); err != nil {
			return fmt.Errorf("enter process %d: change to its working directory: %w", e.PID, err)
		}
	}
	return nil
}
