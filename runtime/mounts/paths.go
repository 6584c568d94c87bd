package mounts

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// Errors callers decide on with errors.Is.
var (
	// ErrProtectedTarget is returned for a path inside the container that
	// boxtui refuses to mount over, remount or unmount: see CleanTarget.
	ErrProtectedTarget = errors.New("protected path")
	// ErrNotMount is returned by Remount and Remove for a path that is not
	// the root of a mount inside the container.
	ErrNotMount = errors.New("not a mount")
	// ErrKindMismatch is returned when a directory would go onto a file or
	// a file onto a directory.
	ErrKindMismatch = errors.New("kind mismatch")
	// ErrSymlink is returned when the last component of the path inside the
	// container is a symlink: boxtui will not guess whether the mount was
	// meant for the link or for what it points to.
	ErrSymlink = errors.New("is a symlink")
	// ErrSourceMissing is returned when the host path does not exist.
	ErrSourceMissing = errors.New("host path does not exist")
	// ErrTargetMissing is returned when the path inside the container does
	// not exist (and --mkdir was not given).
	ErrTargetMissing = errors.New("path does not exist inside the container")
	// ErrKernelFS is returned for a host path that is, or holds below it,
	// one of the host's kernel filesystems (proc, sysfs, cgroup, ...).
	ErrKernelFS = errors.New("kernel filesystem")
)

// protectedTargets are the container's own root and pseudo-filesystems.
// Over-mounting them breaks the container, and under /proc and /sys runtimes
// mask sensitive files with mounts of their own (runc's maskedPaths): a bind
// mount there could undo that masking, so the whole of /proc and /sys is
// refused. /dev itself is refused, and so are the kernel's filesystems a
// container keeps below it (its terminals, shared memory and message queues)
// with everything under them; elsewhere in /dev, binding a device node or a
// socket (/dev/log) is a legitimate use.
//
// A mount boxtui added is exempt when it is removed or flipped, wherever it
// is (one added by an older boxtui at /dev/shm, say): see Remove.
var protectedTargets = []string{"/", "/proc", "/sys", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue"}

var protectedTrees = []string{"/proc/", "/sys/", "/dev/pts/", "/dev/shm/", "/dev/mqueue/"}

// CleanTarget checks a path inside the container, as a user typed it, and
// returns it cleaned. It must be absolute, and it must not be a protected
// path: /, /proc, /sys, /dev, /dev/pts, /dev/shm, /dev/mqueue, nor anything
// under those but /dev. The check is lexical; the mount engine repeats it
// on the handle it resolves, so a symlink inside the container
// (var/p -> /proc) does not get around it.
//
// action says what was refused ("mount over", "unmount", "remount").
func CleanTarget(action, unsafePath string) (string, error) {
	clean, err := cleanPath(unsafePath)
	if err != nil {
		return "", err
	}
	if isProtected(clean) {
		return "", protectedError(action, clean)
	}
	return clean, nil
}

// cleanPath is CleanTarget without the protected paths.
func cleanPath(unsafePath string) (string, error) {
	if unsafePath == "" {
		return "", fmt.Errorf("no path inside the container given: name one such as /var/data")
	}
	if strings.IndexByte(unsafePath, 0) >= 0 {
		return "", fmt.Errorf("invalid path inside the container %q: contains a NUL byte", unsafePath)
	}
	if !strings.HasPrefix(unsafePath, "/") {
		return "", fmt.Errorf("invalid path inside the container %q: it must be absolute, such as /%s", unsafePath, unsafePath)
	}
	return path.Clean(unsafePath), nil
}

func isProtected(clean string) bool {
	for _, p := range protectedTargets {
		if clean == p {
			return true
		}
	}
	for _, p := range protectedTrees {
		if strings.HasPrefix(clean, p) {
			return true
		}
	}
	return false
}

func protectedError(action, target string) error {
	return fmt.Errorf("refusing to %s %s inside the container: %w (/, /dev, and /proc, /sys, /dev/pts, /dev/shm, /dev/mqueue and anything under them belong to the container itself; pick another path)",
		action, target, ErrProtectedTarget)
}
