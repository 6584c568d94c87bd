package mounts

import (
	"errors"
	"fmt"
	"os"

	scoped "boxtui/internal/openat2"

	"golang.org/x/sys/unix"
)

// The syscalls below are thin wrappers: they retry EINTR (which the Go
// runtime's preemption signals make routine) and return errors that name
// the operation, in the os.SyscallError style.

func retry(fn func() error) error {
	for {
		err := fn()
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

func openTree(dirfd int, path string, flags uint) (int, error) {
	var fd int
	err := retry(func() (err error) { fd, err = unix.OpenTree(dirfd, path, flags); return err })
	if err != nil {
		return -1, os.NewSyscallError("open_tree", err)
	}
	return fd, nil
}

func mountSetattr(fd int, flags uint, attr *unix.MountAttr) error {
	return os.NewSyscallError("mount_setattr", retry(func() error { return unix.MountSetattr(fd, "", flags, attr) }))
}

func moveMount(fromFD, toFD int) error {
	return os.NewSyscallError("move_mount", retry(func() error {
		return unix.MoveMount(fromFD, "", toFD, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH)
	}))
}

// openat2 retries EAGAIN of scoped lookups too, which any rename or mount
// elsewhere on the host causes (see package boxtui/internal/openat2).
func openat2(dirfd int, path string, how *unix.OpenHow) (int, error) {
	fd, err := scoped.Open(dirfd, path, how)
	if err != nil {
		return -1, os.NewSyscallError("openat2", err)
	}
	return fd, nil
}

func openat(dirfd int, path string, flags int, mode uint32) (int, error) {
	var fd int
	err := retry(func() (err error) { fd, err = unix.Openat(dirfd, path, flags, mode); return err })
	if err != nil {
		return -1, os.NewSyscallError("openat", err)
	}
	return fd, nil
}

func mkdirat(dirfd int, name string, mode uint32) error {
	return os.NewSyscallError("mkdirat", retry(func() error { return unix.Mkdirat(dirfd, name, mode) }))
}

func unlinkat(dirfd int, name string, flags int) error {
	return os.NewSyscallError("unlinkat", retry(func() error { return unix.Unlinkat(dirfd, name, flags) }))
}

func unmount(path string, flags int) error {
	return os.NewSyscallError("umount2", retry(func() error { return unix.Unmount(path, flags) }))
}

// statFD is what boxtui needs to know about an open handle: its kind, its
// identity, its mount, and whether it is the root of that mount.
type statFD struct {
	mode      uint32 // S_IFMT bits only
	dev, ino  uint64
	mntID     uint64 // the ID that /proc/PID/mountinfo shows
	mountRoot bool
}

func (s statFD) isDir() bool     { return s.mode == unix.S_IFDIR }
func (s statFD) isSymlink() bool { return s.mode == unix.S_IFLNK }

func fstatx(fd int) (statFD, error) {
	var stx unix.Statx_t
	err := retry(func() error {
		return unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW|unix.AT_STATX_DONT_SYNC,
			unix.STATX_TYPE|unix.STATX_INO|unix.STATX_MNT_ID, &stx)
	})
	if err != nil {
		return statFD{}, os.NewSyscallError("statx", err)
	}
	if stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT == 0 {
		// Linux < 5.8: we cannot tell mount roots apart, and refusing is
		// safer than guessing.
		return statFD{}, fmt.Errorf("statx: kernel does not report mount roots (needs Linux 5.8 or later)")
	}
	return statFD{
		mode:      uint32(stx.Mode) & unix.S_IFMT,
		dev:       unix.Mkdev(stx.Dev_major, stx.Dev_minor),
		ino:       stx.Ino,
		mntID:     stx.Mnt_id,
		mountRoot: stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0,
	}, nil
}

func fstatfsType(fd int) (int64, error) {
	var st unix.Statfs_t
	if err := retry(func() error { return unix.Fstatfs(fd, &st) }); err != nil {
		return 0, os.NewSyscallError("fstatfs", err)
	}
	return st.Type, nil
}

func closeFD(fd int) {
	if fd >= 0 {
		unix.Close(fd)
	}
}
