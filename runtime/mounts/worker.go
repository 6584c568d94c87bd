package mounts

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Entering a container on a fresh OS thread each time (what
// nsjoin.Entry.Do does) costs a thread creation and destruction, about
// 0.2 ms on a small VM: with two entries per attach+detach, that alone
// would be a third of the 1 ms budget. Instead one thread is kept for the
// purpose: it has its own fs_struct (unshare CLONE_FS), is locked to its
// goroutine and never runs anything else, enters a container for one
// request, and goes back to boxtui's mount namespace and root afterwards.
// If it cannot prove it is back (namespace and root checked by inode), it
// exits, and the runtime destroys the thread with it, as with Entry.Do.
// It also exits after workerIdle without work, so an idle TUI holds no
// extra thread.

const workerIdle = 10 * time.Second

// request is one visit inside a container.
type request struct {
	separateNS bool // the container has its own mount namespace: setns
	mnt, root  int  // its mount namespace and root, opened from the host
	fn         func() error
	done       chan error
}

type worker struct {
	reqs chan request
	dead chan struct{} // closed when the worker stops taking requests
}

var workers struct {
	mu sync.Mutex
	w  *worker
}

// workerDo runs req on the worker thread, starting one if needed.
func workerDo(req request) error {
	req.done = make(chan error, 1)
	for {
		w, err := currentWorker()
		if err != nil {
			return err
		}
		select {
		case w.reqs <- req:
			return <-req.done
		case <-w.dead:
			// It exited (idle, or could not return home) before taking
			// the request: start another.
		}
	}
}

func currentWorker() (*worker, error) {
	workers.mu.Lock()
	defer workers.mu.Unlock()
	if w := workers.w; w != nil {
		select {
		case <-w.dead:
		default:
			return w, nil
		}
	}
	w := &worker{reqs: make(chan request), dead: make(chan struct{})}
	ready := make(chan error, 1)
	go w.loop(ready)
	if err := <-ready; err != nil {
		return nil, err
	}
	workers.w = w
	return w, nil
}

// home is what the worker thread returns to after each request.
type home struct {
	mnt, root        int // boxtui's mount namespace and root directory
	mntIno           uint64
	rootDev, rootIno uint64
}

func (w *worker) loop(ready chan<- error) {
	runtime.LockOSThread()
	// Never unlocked: when loop returns, the thread is destroyed with it.
	defer close(w.dead)
	h, err := leaveHome()
	if err != nil {
		ready <- err
		return
	}
	defer unix.Close(h.mnt)
	defer unix.Close(h.root)
	ready <- nil

	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		select {
		case <-idle.C:
			return
		case req := <-w.reqs:
			err := req.run()
			back := h.restore(req.separateNS)
			if err == nil && back != nil {
				err = back
			}
			req.done <- err
			if back != nil {
				return
			}
			idle.Reset(workerIdle)
		}
	}
}

// leaveHome gives the locked thread an fs_struct of its own, so that
// setns(mnt) is allowed and chroot affects no other thread, and records
// where home is.
func leaveHome() (home, error) {
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return home{}, fmt.Errorf("prepare mount thread: unshare fs: %w", err)
	}
	mnt, err := unix.Open("/proc/thread-self/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return home{}, fmt.Errorf("prepare mount thread: open own mount namespace: %w", err)
	}
	root, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(mnt)
		return home{}, fmt.Errorf("prepare mount thread: open own root: %w", err)
	}
	h := home{mnt: mnt, root: root}
	var st unix.Stat_t
	if err := unix.Fstat(mnt, &st); err == nil {
		h.mntIno = st.Ino
	}
	if err := unix.Fstat(root, &st); err == nil {
		h.rootDev, h.rootIno = st.Dev, st.Ino
	}
	if h.mntIno == 0 || h.rootIno == 0 {
		unix.Close(mnt)
		unix.Close(root)
		return home{}, fmt.Errorf("prepare mount thread: cannot stat own namespace and root")
	}
	return h, nil
}

func (req request) run() error {
	if req.separateNS {
		if err := unix.Setns(req.mnt, unix.CLONE_NEWNS); err != nil {
			return fmt.Errorf("join the container's mount namespace: %w", err)
		}
	}
	// setns put us at the namespace's root, which for a chroot container
	// is not its root; the root opened from the host is, in both cases.
	// Being chrooted makes the paths the kernel reports for our handles
	// read as the container sees them.
	if err := unix.Fchdir(req.root); err != nil {
		return fmt.Errorf("change to the container's root: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot to the container's root: %w", err)
	}
	return req.fn()
}

// restore brings the thread back to boxtui's namespace and root and checks
// that it got there.
func (h home) restore(joined bool) error {
	if joined {
		if err := unix.Setns(h.mnt, unix.CLONE_NEWNS); err != nil {
			return fmt.Errorf("return from the container's mount namespace: %w", err)
		}
	}
	if err := unix.Fchdir(h.root); err != nil {
		return fmt.Errorf("return to boxtui's root: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("return to boxtui's root: %w", err)
	}
	var ns, root unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/mnt", &ns); err != nil || ns.Ino != h.mntIno {
		return fmt.Errorf("return from the container: mount namespace not restored")
	}
	if err := unix.Stat("/", &root); err != nil || root.Dev != h.rootDev || root.Ino != h.rootIno {
		return fmt.Errorf("return from the container: root not restored")
	}
	return nil
}
