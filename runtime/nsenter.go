package runtime

import (
	"errors"
	"fmt"
	goruntime "runtime"

	"golang.org/x/sys/unix"
)

// ErrUserNamespace is returned when asked to join a user namespace: the
// kernel refuses setns(CLONE_NEWUSER) from a multithreaded process, and a Go
// program always is. Doing it properly needs a C constructor that runs before
// the Go runtime starts threads (runc's nsexec); boxtui refuses instead.
var ErrUserNamespace = errors.New("joining a user namespace is not supported (the kernel refuses it to multithreaded programs such as boxtui); containers with their own user namespace can be listed and killed but not entered")

// ErrTimeNamespace is the time-namespace twin of ErrUserNamespace: the kernel
// allows setns(CLONE_NEWTIME) only to single-threaded processes.
var ErrTimeNamespace = errors.New("joining a time namespace is not supported (the kernel refuses it to multithreaded programs such as boxtui)")

// joinOrder is the order setns is called in. mnt comes last: it resets the
// root and working directory, and joining it needs CLONE_FS unshared first;
// pid only applies to children, so its place does not matter for us.
var joinOrder = []NSType{NSCgroup, NSIPC, NSUTS, NSNet, NSPID, NSMnt}

func init() {
	// Keep the main goroutine on the main thread for the life of the
	// program. A thread that joined a container is locked and thrown away
	// when its goroutine ends, but the main thread cannot be thrown away:
	// the Go runtime would park it instead, and /proc/self/ns (which is the
	// main thread's) would then show the container's namespaces as
	// boxtui's own. Locked here, the main thread never runs Entry.Do.
	goruntime.LockOSThread()
}

var nsCloneFlag = map[NSType]int{
	NSCgroup: unix.CLONE_NEWCGROUP,
	NSIPC:    unix.CLONE_NEWIPC,
	NSUTS:    unix.CLONE_NEWUTS,
	NSNet:    unix.CLONE_NEWNET,
	NSPID:    unix.CLONE_NEWPID,
	NSMnt:    unix.CLONE_NEWNS,
	NSUser:   unix.CLONE_NEWUSER,
	NSTime:   unix.CLONE_NEWTIME,
}

// Entry holds, opened from the host, everything needed to enter a process's
// namespaces: one fd per namespace to join, and O_PATH fds on its root and
// working directory. Opening all of them before any setns means nothing is
// looked up by path once we are half inside.
type Entry struct {
	PID       int
	StartTime uint64
	nsFD      map[NSType]int
	rootFD    int
	cwdFD     int
}

// EntryOptions says what OpenEntry opens.
type EntryOptions struct {
	// Namespaces to join. Empty means every namespace of the target that
	// differs from boxtui's own (cgroup, ipc, uts, net, pid, mnt).
	Namespaces []NSType
	// Root chroots into the target's root (like nsenter -r); Cwd also
	// changes into its working directory (nsenter -w).
	Root, Cwd bool
}

// readTargetNamespaces reads the namespaces of the process to enter; tests
// replace it to make one link unreadable.
var readTargetNamespaces = ReadNamespaces

// OpenEntry opens the handles to enter pid, which must still be the process
// that started at startTime (0 skips the check).
func OpenEntry(pid int, startTime uint64, opts EntryOptions) (*Entry, error) {
	e := &Entry{PID: pid, StartTime: startTime, nsFD: map[NSType]int{}, rootFD: -1, cwdFD: -1}
	ok := false
	defer func() {
		if !ok {
			e.Close()
		}
	}()
	// Hold the process with a pidfd while we open its files, so a PID reused
	// meanwhile is noticed below.
	pidfd, err := openPidfd(pid, startTime)
	if err != nil {
		return nil, err
	}
	defer unix.Close(pidfd)

	types := opts.Namespaces
	host := HostNamespaces()
	target, err := readTargetNamespaces(pid)
	if err != nil {
		return nil, fmt.Errorf("process %d: %w (it exited while being entered)", pid, ErrNoProcess)
	}
	if len(types) == 0 {
		for _, t := range joinOrder {
			// A link that cannot be read would silently leave that
			// namespace unjoined: a partial entry nobody asked for. Only a
			// namespace type this kernel does not have (no link on either
			// side) may be skipped. fastexec.c declines the same way.
			if (target[t] == 0) != (host[t] == 0) {
				if processStartTime(pid) == 0 { // gone, or a zombie: no links
					return nil, fmt.Errorf("process %d: %w (it exited while being entered)", pid, ErrNoProcess)
				}
				return nil, fmt.Errorf("enter process %d: cannot read its %s namespace or ours: refusing to join only the others", pid, t)
			}
			if target[t] != 0 && target[t] != host[t] {
				types = append(types, t)
			}
		}
		if target[NSUser] != 0 && host[NSUser] != 0 && target[NSUser] != host[NSUser] {
			return nil, fmt.Errorf("enter process %d: %w", pid, ErrUserNamespace)
		}
		if target[NSTime] != 0 && host[NSTime] != 0 && target[NSTime] != host[NSTime] {
			return nil, fmt.Errorf("enter process %d: %w", pid, ErrTimeNamespace)
		}
	}
	for _, t := range types {
		switch t {
		case NSUser:
			return nil, fmt.Errorf("enter process %d: %w", pid, ErrUserNamespace)
		case NSTime, NSTimeForChildren:
			return nil, fmt.Errorf("enter process %d: %w", pid, ErrTimeNamespace)
		case NSPIDForChildren:
			t = NSPID
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
		return nil, fmt.Errorf("process %d: %w (it exited while being entered)", pid, ErrNoProcess)
	}
	if _, err := ProcessStartTime(pid); err != nil || (startTime != 0 && processStartTime(pid) != startTime) {
		return nil, fmt.Errorf("process %d: %w (it exited while being entered)", pid, ErrNoProcess)
	}
	ok = true
	return e, nil
}

func (e *Entry) procErr(pid int, what string, err error) error {
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("process %d: %w (it exited while being entered)", pid, ErrNoProcess)
	}
	return fmt.Errorf("enter process %d: %s: %w", pid, what, err)
}

// Joins reports whether the entry joins namespace type t.
func (e *Entry) Joins(t NSType) bool { _, ok := e.nsFD[t]; return ok }

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
		goruntime.LockOSThread()
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
			if errors.Is(err, unix.EINVAL) && t == NSPID {
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
