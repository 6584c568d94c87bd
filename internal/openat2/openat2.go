// Package openat2 is boxtui's one wrapper around the openat2 system call.
//
// A lookup scoped with RESOLVE_IN_ROOT or RESOLVE_BENEATH fails with EAGAIN
// when it crosses ".." while any rename or mount happens anywhere on the
// host (the kernel cannot then be sure ".." did not step out of the root, so
// it gives up rather than guess: fs/namei.c checks rename_lock's and
// mount_lock's sequence counts). On a busy host that is routine, and the
// openat2(2) man page says to retry. Open retries such a lookup up to
// MaxRetries times, as libpathrs and pathrs-lite do (128): an unrelated
// rename or mount never survives that many fresh lookups, while a process
// that renames in a tight loop on purpose still cannot make boxtui spin
// forever. When the retries run out, the error is still EAGAIN.
//
// It imports only x/sys, so runtime/launch/stage0 may use it (see
// docs/architecture.md).
package openat2

import (
	"errors"

	"golang.org/x/sys/unix"
)

// MaxRetries bounds the retries of a scoped lookup that failed with EAGAIN.
// The C init stage (initstage.c) uses the same bound.
const MaxRetries = 128

// Open is unix.Openat2 that retries EINTR, and EAGAIN of a lookup scoped
// with RESOLVE_IN_ROOT or RESOLVE_BENEATH up to MaxRetries times. It returns
// the bare errno, as unix.Openat2 does.
func Open(dirfd int, path string, how *unix.OpenHow) (int, error) {
	scoped := how.Resolve&(unix.RESOLVE_IN_ROOT|unix.RESOLVE_BENEATH) != 0
	for tries := 0; ; {
		fd, err := unix.Openat2(dirfd, path, how)
		switch {
		case err == nil:
			return fd, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN) && scoped && tries < MaxRetries:
			tries++
			continue
		}
		return -1, err
	}
}
