package mounts

import (
	"errors"
	"fmt"
	goruntime "runtime"

	"boxtui/runtime"

	"golang.org/x/sys/unix"
)

// inside is what a function running "inside" a container gets: the thread
// it runs on is in the container's mount namespace and chrooted into the
// container's root, and may change its working directory freely (it has its
// own fs_struct and is thrown away afterwards).
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
// startTime; 0 skips the check), on a throwaway OS thread. A container with
// its own mount namespace is entered with setns; one that shares boxtui's
// (a plain `unshare --pid --fork chroot ROOTFS`) is only chrooted into, so
// what fn does happens in the host's mount table at the root's path, as the
// seed's `mount --bind` does.
func enter(pid int, startTime uint64, fn func(in inside) error) error {
	if pid <= 0 {
		return fmt.Errorf("invalid container init pid %d", pid)
	}
	proc, err := openHostProc()
	if err != nil {
		return err
	}
	defer closeFD(proc)

	ns, err := runtime.ReadNamespaces(pid)
	if err != nil {
		return fmt.Errorf("container %d: %w (it exited)", pid, err)
	}
	hostMnt := ownMountNS()
	if ns[runtime.NSMnt] == 0 || hostMnt == 0 {
		return fmt.Errorf("container %d: cannot read its mount namespace (run boxtui as root)", pid)
	}
	if ns[runtime.NSMnt] == hostMnt {
		return enterSharedNS(pid, startTime, proc, fn)
	}

	e, err := runtime.OpenEntry(pid, startTime, runtime.EntryOptions{Namespaces: []runtime.NSType{runtime.NSMnt}, Root: true})
	if err != nil {
		return err
	}
	defer e.Close()
	return e.Do(func() error {
		// Do has made "/" the container's root for this thread.
		root, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("container %d: open its root: %w", pid, err)
		}
		defer closeFD(root)
		return fn(inside{pid: pid, root: root, proc: proc})
	})
}

// enterSharedNS is enter for a container in boxtui's own mount namespace:
// no setns, only a chroot of the throwaway thread, so that paths the kernel
// reports for our handles (readlink of /proc/thread-self/fd/N) read as the
// container sees them.
func enterSharedNS(pid int, startTime uint64, proc int, fn func(in inside) error) error {
	root, err := unix.Open(fmt.Sprintf("/proc/%d/root", pid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("container %d: open its root: %w", pid, noProcess(pid, err))
	}
	defer closeFD(root)
	// The PID may have been reused between reading its namespaces and
	// opening its root: the start time tells.
	st, err := runtime.ProcessStartTime(pid)
	if err != nil || (startTime != 0 && st != startTime) {
		return fmt.Errorf("container %d: %w (it exited)", pid, runtime.ErrNoProcess)
	}
	errc := make(chan error, 1)
	go func() {
		goruntime.LockOSThread()
		// No UnlockOSThread: the thread's root changes below, so it must die
		// with this goroutine rather than go back to the scheduler.
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			errc <- fmt.Errorf("container %d: unshare fs: %w", pid, err)
			return
		}
		if err := unix.Fchdir(root); err != nil {
			errc <- fmt.Errorf("container %d: change to its root: %w", pid, err)
			return
		}
		if err := unix.Chroot("."); err != nil {
			errc <- fmt.Errorf("container %d: chroot to its root: %w", pid, err)
			return
		}
		errc <- fn(inside{pid: pid, root: root, proc: proc})
	}()
	return <-errc
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

func noProcess(pid int, err error) error {
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("%w (it exited)", runtime.ErrNoProcess)
	}
	return err
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
