// Package mounts hot-plugs bind mounts into running containers: it adds a
// host directory or file at a path inside a container, flips an existing
// mount between read-only and read-write, removes it, and lists the
// container's mount table as the container sees it.
//
// It uses the kernel's mount API throughout. The host path is cloned with
// open_tree in boxtui's own mount namespace, made read-only (and nosuid,
// nodev, private) with mount_setattr while the clone is still detached, and
// only then attached with move_mount inside the container's mount namespace,
// so a read-only mount is never writable, not even for a moment. The path
// inside the container is resolved with openat2(RESOLVE_IN_ROOT) against the
// container's root and the mount attached to the resolved handle, so a
// symlink planted in the container can never steer a mkdir or a mount onto
// the host.
//
// A host path on one of the host's kernel filesystems (proc, sysfs,
// cgroups, ...: kernelfs.go), or holding one below it, is refused, and so
// are the container's own /, /proc, /sys, /dev and the kernel filesystems it
// keeps (paths.go). A mount boxtui added is removed or flipped wherever it
// is.
//
// Mounts boxtui added are recorded: in the container's state for boxtui
// containers, and in RunDir()/mounts/pidns-INODE.json for any other
// container (see records.go).
//
// The package must never change the calling thread's namespaces or root:
// everything that runs inside a container runs on one dedicated, locked OS
// thread that proves it is back home after each visit or dies (worker.go).
// It must never import the UI.
package mounts
