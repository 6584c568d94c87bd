package mounts

import (
	"errors"
	"fmt"
	"strings"

	"boxtui/runtime/procfs"

	"golang.org/x/sys/unix"
)

// inside is what a function running "inside" a container gets: the thread
// it runs on is in the container's mount namespace and chrooted into the
// container's root, and may change its working directory freely (it has its
// own fs_struct, and is brought home or destroyed afterwards: worker.go).
type inside struct {
	pid int
	// root is an O_PATH handle on the container's root directory: every
	// path inside the container is resolved against it, never as a string.
	root int
	// proc is an O_PATH handle on boxtui's own /proc, opened in the host
	// before entering. Inside, the container's /proc (if any) belongs to its
	// PID namespace, where this thread does not exist, so /proc/thread-self
	// there would not name us.
	proc int
}

// procSuperMagic is PROC_SUPER_MAGIC, the f_type of a procfs.
const procSuperMagic = 0x9fa0

// enter runs fn inside the container whose init is pid (started at
// startTime; 0 skips the check), on the mount worker thread. A container with
// its own mount namespace is entered with setns; one that shares boxtui's
// (a plain `unshare --pid --fork chroot ROOTFS`) is only chrooted into, so
// what fn does happens in the host's mount table at the root's path, as the
// seed's `mount --bind` does.
//
// This is nsjoin.Open + Entry.Do cut down to the mount namespace and
// the root: the general entry reads every namespace link of the target and
// of boxtui, and the process's start time twice, and starts a fresh thread;
// on a small VM that cost about 0.5 ms, half the budget of an attach+detach. Here the identity
// of the process is checked once by start time, then held with a pidfd: if
// the process dies (and its PID is reused) while its files are being
// opened, the pidfd says so afterwards.
func enter(pid int, startTime uint64, fn func(in inside) error) error {
	return enterProcess(pid, startTime, false, fn)
}

// enterProcess is enter; with hostRootOK it also enters a process that lives
// in boxtui's own mount namespace and root (CloneRoot only reads there).
func enterProcess(pid int, startTime uint64, hostRootOK bool, fn func(in inside) error) error {
	if pid <= 0 {
		return fmt.Errorf("invalid container init pid %d", pid)
	}
	gone := func() error { return fmt.Errorf("container %d: %w (it exited)", pid, procfs.ErrNoProcess) }
	pidfd, err := procfs.OpenPidfd(pid, startTime)
	if errors.Is(err, procfs.ErrNoProcess) {
		return gone()
	} else if err != nil {
		return fmt.Errorf("container %d: %w", pid, err)
	}
	defer closeFD(pidfd)
	proc, err := openHostProc()
	if err != nil {
		return err
	}
	defer closeFD(proc)
	mnt, err := unix.Open(fmt.Sprintf("/proc/%d/ns/mnt", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return openErr(pid, "its mount namespace", err)
	}
	defer closeFD(mnt)
	root, err := unix.Open(fmt.Sprintf("/proc/%d/root", pid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return openErr(pid, "its root", err)
	}
	defer closeFD(root)
	if err := unix.PidfdSendSignal(pidfd, 0, nil, 0); err != nil {
		return gone()
	}
	var st unix.Stat_t
	if err := unix.Fstat(mnt, &st); err != nil {
		return fmt.Errorf("container %d: stat its mount namespace: %w", pid, err)
	}
	separateNS := st.Ino != ownMountNS()
	if !separateNS && !hostRootOK && sameAsOwnRoot(root) {
		// A process in a container's PID namespace but in the host's
		// mount namespace and root (one that joined only the PID
		// namespace, as nsenter --pid does): a mount "inside" it would be
		// a mount on the host's own paths.
		return fmt.Errorf("process %d is in the host's mount namespace and root, not in a container's filesystem: boxtui changes no host mounts (use mount(8) on the host)", pid)
	}

	return workerDo(request{separateNS: separateNS, mnt: mnt, root: root, fn: func() error {
		return fn(inside{pid: pid, root: root, proc: proc})
	}})
}

func openErr(pid int, what string, err error) error {
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("container %d: %w (it exited)", pid, procfs.ErrNoProcess)
	}
	return fmt.Errorf("container %d: open %s: %w", pid, what, err)
}

// ownMountNS returns the inode of the mount namespace of the calling
// thread. Not /proc/self: that is the main thread's, and in a program whose
// main goroutine is not locked to it (any test binary) the main thread may
// be one that entered a container and was parked rather than destroyed.
// The calling goroutine is unlocked, so its thread is a clean one.
func ownMountNS() uint64 {
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/mnt", &st); err != nil {
		return 0
	}
	return st.Ino
}

func openHostProc() (int, error) {
	fd, err := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open /proc: %w", err)
	}
	if t, err := fstatfsType(fd); err != nil || t != procSuperMagic {
		closeFD(fd)
		return -1, fmt.Errorf("open /proc: not a procfs (is /proc mounted?)")
	}
	return fd, nil
}

// fdPath returns the path the kernel reports for fd, as the calling thread
// sees it: inside the container, the path inside the container. It is for
// checks and messages only; nothing is ever opened by it.
func (in inside) fdPath(fd int) (string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Readlinkat(in.proc, fmt.Sprintf("thread-self/fd/%d", fd), buf)
	if err != nil {
		return "", fmt.Errorf("read path of handle: %w", err)
	}
	return string(buf[:n]), nil
}

// pathOr is fdPath, or fallback when the kernel cannot tell.
func (in inside) pathOr(fd int, fallback string) string {
	if p, err := in.fdPath(fd); err == nil && strings.HasPrefix(p, "/") {
		return p
	}
	return fallback
}

// sameAsOwnRoot reports whether fd is the root directory of the calling
// thread (boxtui's own: the calling goroutine is not in a container).
func sameAsOwnRoot(fd int) bool {
	var a, b unix.Stat_t
	if unix.Fstat(fd, &a) != nil || unix.Stat("/", &b) != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}
