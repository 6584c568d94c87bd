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
)

// protectedTargets are the container's own pseudo-filesystems and its root.
// Over-mounting them breaks the container, and under /proc and /sys runtimes
// mask sensitive files with mounts of their own (runc's maskedPaths): a bind
// mount there could undo that masking, so the whole of /proc and /sys is
// refused. Under /dev only /dev itself is: binding a device node or a
// socket into /dev is a legitimate use.
var protectedTargets = []string{"/", "/proc", "/sys", "/dev"}

var protectedTrees = []string{"/proc/", "/sys/"}

// CleanTarget checks a path inside the container, as a user typed it, and
// returns it cleaned. It must be absolute, and it must not be /, /proc,
// /sys, /dev, nor anything under /proc or /sys. The check is lexical; the
// mount engine repeats it on the handle it resolves, so a symlink inside the
// container (var/p -> /proc) does not get around it.
//
// action says what was refused ("mount over", "unmount", "remount").
func CleanTarget(action, unsafePath string) (string, error) {
	if unsafePath == "" {
		return "", fmt.Errorf("no path inside the container given: name one such as /var/data")
	}
	if strings.IndexByte(unsafePath, 0) >= 0 {
		return "", fmt.Errorf("invalid path inside the container %q: contains a NUL byte", unsafePath)
	}
	if !strings.HasPrefix(unsafePath, "/") {
		return "", fmt.Errorf("invalid path inside the container %q: it must be absolute, such as /%s", unsafePath, unsafePath)
	}
	clean := path.Clean(unsafePath)
	if isProtected(clean) {
		return "", protectedError(action, clean)
	}
	return clean, nil
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
	return fmt.Errorf("refusing to %s %s inside the container: %w (/, /proc, /sys, /dev and anything under /proc or /sys belong to the container itself; pick another path)",
		action, target, ErrProtectedTarget)
}
