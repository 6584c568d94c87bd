package mounts

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// CloneRoot returns a detached copy of the whole mount tree at the root of
// process pid (started at startTime; 0 skips the check), as that process
// sees it: the mount the root is on and every mount below it, each with its
// own flags. It is how `boxtui debug` shows a container's files at /target
// in a mount namespace of its own.
//
// The copy is made by open_tree(OPEN_TREE_CLONE|AT_RECURSIVE) of the root
// handle, opened from the host (/proc/PID/root) and never looked up by a
// path the container controls, on the mount worker thread while it is in
// the process's mount namespace: the mirror image of an attach, which
// clones on the host and attaches inside. Every mount of the copy is made a
// slave (mount_setattr) before it is handed out, so a mount made below it
// later never propagates back to the container or the host, while mounts the
// container makes in shared parts of its tree still show in the copy; with
// readOnly every mount of the copy is also read-only (the container's own
// mounts are untouched: the flag is per mount).
//
// The copy belongs to the returned file: attach it with move_mount in
// another mount namespace, or close the file and the kernel dissolves it.
// Nothing is ever attached in the process's or boxtui's mount table.
func CloneRoot(pid int, startTime uint64, readOnly bool) (*os.File, error) {
	tree := -1
	err := enterProcess(pid, startTime, true, func(in inside) error {
		fd, err := openTree(in.root, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE|unix.AT_EMPTY_PATH)
		if err != nil {
			return fmt.Errorf("copy the mount tree of process %d: %w", pid, err)
		}
		tree = fd
		return nil
	})
	if err != nil {
		closeFD(tree)
		return nil, err
	}
	attr := unix.MountAttr{Propagation: unix.MS_SLAVE}
	if readOnly {
		attr.Attr_set = unix.MOUNT_ATTR_RDONLY
	}
	if err := mountSetattr(tree, unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
		closeFD(tree)
		return nil, fmt.Errorf("detach the copy of process %d's mount tree from its peers: %w", pid, err)
	}
	return os.NewFile(uintptr(tree), fmt.Sprintf("root tree of process %d", pid)), nil
}
