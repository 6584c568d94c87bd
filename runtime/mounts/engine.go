package mounts

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	scoped "boxtui/internal/openat2"

	"golang.org/x/sys/unix"
)

// AddOptions tunes Add and AddToProcess.
type AddOptions struct {
	// ReadOnly attaches the mount read-only. It is read-only from the
	// moment it appears in the container: the flag is set on the detached
	// clone, before it is attached.
	ReadOnly bool
	// Mkdir creates the path inside the container when it is missing: the
	// directories leading to it and, for a directory source, the last one
	// too; for a file source the last component becomes an empty file.
	Mkdir bool
}

// resolveFlags resolve a path inside the container the way the container
// itself would, with its root as "/" (absolute symlinks and ".." stop at
// the root), and refuse /proc magic links, which could point anywhere.
const resolveFlags = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// AddToProcess bind-mounts hostPath (a directory or a file) at ctrPath
// inside the container whose init is pid, started at startTime (0 skips the
// check). It records nothing: Add does that for a running container, and a
// launcher recording its own state calls this directly.
//
// The init's root (/proc/PID/root) must already be the container's root: a
// launcher calls it after its init stage has chrooted or pivoted and before
// it execs the command.
//
// Nothing is left behind on error: the clone of hostPath is detached until
// the last step and vanishes when its handle is closed, and directories or
// the file created for Mkdir are removed again.
func AddToProcess(pid int, startTime uint64, hostPath, ctrPath string, opts AddOptions) error {
	_, err := addToProcess(pid, startTime, hostPath, ctrPath, opts)
	return err
}

// addToProcess is AddToProcess that also returns where the mount landed
// inside the container, symlinks resolved (what mountinfo will show), for
// the record.
func addToProcess(pid int, startTime uint64, hostPath, ctrPath string, opts AddOptions) (landed string, err error) {
	target, err := CleanTarget("mount over", ctrPath)
	if err != nil {
		return "", err
	}
	tree, srcDir, err := cloneSource(hostPath, opts.ReadOnly)
	if err != nil {
		return "", err
	}
	// Closing a never-attached clone unmounts it; after a successful
	// move_mount closing it is harmless.
	defer closeFD(tree)

	err = enter(pid, startTime, func(in inside) error {
		fd, done, err := resolveForMount(in, target, srcDir, opts.Mkdir)
		if err != nil {
			return err
		}
		landed = in.pathOr(fd, target)
		err = moveMount(tree, fd)
		closeFD(fd)
		done(err != nil)
		if err != nil {
			return fmt.Errorf("attach %s at %s inside container %d: %w", hostPath, target, pid, err)
		}
		return nil
	})
	return landed, err
}

// cloneSource makes a detached recursive clone of hostPath in boxtui's own
// mount namespace and sets its attributes while it is still detached.
//
// It refuses a host path on a kernel filesystem (kernelfs.go), judged by
// the filesystem type of the opened path, not by its name: /proc, /sys,
// /sys/fs/cgroup or anything under them, a bind of them elsewhere, or a
// /proc/PID/ns/* file. It also refuses a directory with a kernel
// filesystem mounted below it (/, /sys/fs, a bind of /): the recursive clone
// would bring it along. Stripping such submounts instead is not possible on
// a detached clone (umount works only in a mount namespace of the caller),
// and a non-recursive clone would drop every other submount too and bare
// whatever the host's mounts hide below them.
func cloneSource(hostPath string, readOnly bool) (tree int, isDir bool, err error) {
	if hostPath == "" {
		return -1, false, fmt.Errorf("no host path given: name the directory or file to mount")
	}
	// Everything below is done to this handle, so the path checked is the
	// path cloned, whatever happens to hostPath meanwhile.
	src, err := openat(unix.AT_FDCWD, hostPath, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return -1, false, fmt.Errorf("%w: %s", ErrSourceMissing, hostPath)
		}
		return -1, false, fmt.Errorf("open host path %s: %w", hostPath, err)
	}
	defer closeFD(src)
	if kfs, err := fdKernelFS(src); err != nil {
		return -1, false, fmt.Errorf("open host path %s: %w", hostPath, err)
	} else if kfs != "" {
		return -1, false, kernelSourceError(hostPath, kfs)
	}
	tree, err = openTree(src, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE|unix.AT_EMPTY_PATH)
	if err != nil {
		return -1, false, fmt.Errorf("clone host path %s: %w", hostPath, err)
	}
	fail := func(err error) (int, bool, error) {
		closeFD(tree)
		return -1, false, err
	}
	srcSt, err := fstatx(src)
	if err != nil {
		return fail(fmt.Errorf("clone host path %s: %w", hostPath, err))
	}
	if srcSt.isDir() {
		where, err := hostFDPath(src)
		if err != nil {
			return fail(fmt.Errorf("clone host path %s: %w", hostPath, err))
		}
		mp, fstype, err := kernelSubmount(srcSt.mntID, where)
		if err != nil {
			return fail(fmt.Errorf("clone host path %s: %w", hostPath, err))
		}
		if mp != "" {
			return fail(fmt.Errorf("refusing to mount %s: the host's %s at %s below it is a %w, and the mount would bring it along; mount a directory without kernel filesystems below it",
				hostPath, fstype, mp, ErrKernelFS))
		}
	}
	attr := unix.MountAttr{
		Attr_set: unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV,
		// Private: without it, a clone of a shared host mount would stay in
		// the host's peer group, and mounts made later under hostPath on the
		// host would show up in the container (and the other way round).
		Propagation: unix.MS_PRIVATE,
	}
	if readOnly {
		attr.Attr_set |= unix.MOUNT_ATTR_RDONLY
	}
	if err := mountSetattr(tree, unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
		return fail(fmt.Errorf("set attributes of the clone of %s: %w", hostPath, err))
	}
	st, err := fstatx(tree)
	if err != nil {
		return fail(fmt.Errorf("clone host path %s: %w", hostPath, err))
	}
	return tree, st.isDir(), nil
}

func kernelSourceError(hostPath, fstype string) error {
	return fmt.Errorf("refusing to mount %s: it is on the host's %s, a %w; mount an ordinary directory or file", hostPath, fstype, ErrKernelFS)
}

// hostFDPath returns the path the kernel reports for fd in boxtui's own
// mount namespace (for the mount table and messages only).
func hostFDPath(fd int) (string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Readlink(fmt.Sprintf("/proc/thread-self/fd/%d", fd), buf)
	if err != nil {
		return "", fmt.Errorf("read path of handle: %w", err)
	}
	return string(buf[:n]), nil
}

// resolveForMount opens an O_PATH handle on target inside the container,
// creating it first when mkdir allows, and checks it can take the mount.
// done must be called once: done(false) when the mount failed removes what
// was created; either way it releases the handles it held.
func resolveForMount(in inside, target string, srcDir, mkdir bool) (fd int, done func(failed bool), err error) {
	done = func(bool) {}
	fd, err = resolveInRoot(in.root, target, unix.O_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		if !mkdir {
			return -1, done, fmt.Errorf("%s: %w (create it first, or pass --mkdir)", target, ErrTargetMissing)
		}
		fd, done, err = create(in, target, srcDir)
	}
	if err != nil {
		return -1, done, targetError(target, err)
	}
	st, err := fstatx(fd)
	if err == nil {
		err = checkMountable(in, fd, st, target, srcDir)
	}
	if err != nil {
		closeFD(fd)
		done(true)
		return -1, func(bool) {}, err
	}
	return fd, done, nil
}

func checkMountable(in inside, fd int, st statFD, target string, srcDir bool) error {
	if st.isSymlink() {
		return fmt.Errorf("%s inside the container %w; give the path it points to instead", target, ErrSymlink)
	}
	if err := checkResolved(in, fd, st, "mount over", target); err != nil {
		return err
	}
	switch {
	case srcDir && !st.isDir():
		return fmt.Errorf("cannot mount a directory onto %s inside the container: it is not a directory (%w)", target, ErrKindMismatch)
	case !srcDir && st.isDir():
		return fmt.Errorf("cannot mount a file onto %s inside the container: it is a directory (%w); name a file path such as %s/NAME", target, ErrKindMismatch, strings.TrimSuffix(target, "/"))
	}
	return nil
}

// checkResolved repeats CleanTarget's refusal on what target actually
// resolved to: a symlink in the container (var/p -> /proc) must not lead
// around it. It checks the path the kernel reports for the handle, the
// filesystem type (any kernel filesystem of kernelfs.go: the container's
// proc, sysfs, cgroups, devpts, mqueue, ...), and whether it is the
// container's root itself.
func checkResolved(in inside, fd int, st statFD, action, target string) error {
	if err := checkNotRoot(in, st, action, target); err != nil {
		return err
	}
	// Remove and Remount let a protected path through CleanTarget when a
	// record names it; unless this is that recorded mount, it stays refused.
	if isProtected(target) {
		return protectedError(action, target)
	}
	if kfs, err := fdKernelFS(fd); err != nil {
		return err
	} else if kfs != "" {
		return protectedError(action, fmt.Sprintf("%s (which is on a %s filesystem)", target, kfs))
	}
	if p, err := in.fdPath(fd); err == nil && p != target && isProtected(filepath.Clean(p)) {
		return protectedError(action, fmt.Sprintf("%s (which leads to %s)", target, p))
	}
	return nil
}

// checkNotRoot refuses the container's root directory itself.
func checkNotRoot(in inside, st statFD, action, target string) error {
	rootSt, err := fstatx(in.root)
	if err != nil {
		return err
	}
	if st.dev == rootSt.dev && st.ino == rootSt.ino && st.mntID == rootSt.mntID {
		return protectedError(action, target+" (which is /)")
	}
	return nil
}

// resolveInRoot opens an O_PATH handle on target (absolute, clean) inside
// the container, resolved as the container would resolve it.
func resolveInRoot(root int, target string, flags int) (int, error) {
	rel := strings.TrimPrefix(target, "/")
	if rel == "" {
		rel = "."
	}
	return openat2(root, rel, &unix.OpenHow{
		Flags:   uint64(flags | unix.O_PATH | unix.O_CLOEXEC),
		Resolve: resolveFlags,
	})
}

// create makes target inside the container: the directories that lead to
// it, then the last component as a directory (srcDir) or an empty file.
// Each component is created relative to a handle on its resolved parent,
// and re-opened only beneath that handle and without following symlinks, so
// a container racing us by swapping in symlinks cannot send us elsewhere.
// done(true) removes, last first, whatever was created; done always
// releases the parent handles.
func create(in inside, target string, srcDir bool) (fd int, done func(failed bool), err error) {
	type made struct {
		parent int
		name   string
		dir    bool
	}
	var created []made
	var held []int
	done = func(failed bool) {
		for i := len(created) - 1; failed && i >= 0; i-- {
			flags := 0
			if created[i].dir {
				flags = unix.AT_REMOVEDIR
			}
			unlinkat(created[i].parent, created[i].name, flags)
		}
		for _, h := range held {
			closeFD(h)
		}
		created, held = nil, nil
	}
	fail := func(err error) (int, func(bool), error) {
		done(true)
		return -1, func(bool) {}, err
	}

	comps := strings.Split(strings.TrimPrefix(target, "/"), "/")
	parent, err := unix.Dup(in.root)
	if err != nil {
		return fail(fmt.Errorf("dup root: %w", err))
	}
	held = append(held, parent)
	for i, name := range comps {
		last := i == len(comps)-1
		if len(created) == 0 {
			// Nothing created yet: this prefix may exist; resolve it the way
			// the container would (symlinks followed, within its root).
			flags := unix.O_DIRECTORY
			if last {
				flags = unix.O_NOFOLLOW
			}
			next, err := resolveInRoot(in.root, "/"+strings.Join(comps[:i+1], "/"), flags)
			if err == nil {
				if last {
					return next, done, nil
				}
				held = append(held, next)
				parent = next
				continue
			}
			if !errors.Is(err, unix.ENOENT) {
				return fail(err)
			}
		}
		var next int
		if last && !srcDir {
			next, err = openat(parent, name, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0o644)
			if err != nil {
				return fail(createError(target, name, err))
			}
			created = append(created, made{parent: parent, name: name})
		} else {
			if err := mkdirat(parent, name, 0o755); err != nil {
				return fail(createError(target, name, err))
			}
			created = append(created, made{parent: parent, name: name, dir: true})
			next, err = openat2(parent, name, &unix.OpenHow{
				Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC,
				Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
			})
			if err != nil {
				return fail(fmt.Errorf("open created directory %s: %w", name, err))
			}
		}
		if last {
			return next, done, nil
		}
		held = append(held, next)
		parent = next
	}
	return fail(fmt.Errorf("create %s: empty path", target))
}

func createError(target, name string, err error) error {
	if errors.Is(err, unix.EEXIST) {
		// It was missing a moment ago: a dangling symlink, or something
		// created concurrently. Either way, not ours to replace.
		return fmt.Errorf("create %s inside the container: %q already exists but cannot be followed (a dangling symlink?)", target, name)
	}
	return fmt.Errorf("create %s inside the container: %w", target, err)
}

func targetError(target string, err error) error {
	switch {
	case errors.Is(err, unix.ENOTDIR):
		return fmt.Errorf("resolve %s inside the container: a component of it is not a directory", target)
	case errors.Is(err, unix.ELOOP):
		return fmt.Errorf("resolve %s inside the container: too many symlinks, or a /proc magic link", target)
	case errors.Is(err, unix.EXDEV):
		return fmt.Errorf("resolve %s inside the container: it leads through a /proc magic link", target)
	case errors.Is(err, unix.EAGAIN):
		return fmt.Errorf("resolve %s inside the container: renames or mounts raced every one of %d lookups (something renames in a loop?); try again", target, scoped.MaxRetries+1)
	}
	if strings.Contains(err.Error(), target) {
		return err
	}
	return fmt.Errorf("resolve %s inside the container: %w", target, err)
}

// RemountInProcess flips the mount at ctrPath inside the container whose
// init is pid between read-only and read-write, in place and atomically
// (mount_setattr), including any mounts below it. It records nothing.
func RemountInProcess(pid int, startTime uint64, ctrPath string, readOnly bool) error {
	target, err := CleanTarget("remount", ctrPath)
	if err != nil {
		return err
	}
	_, err = remountInProcess(pid, startTime, target, readOnly, nil)
	return err
}

// remountInProcess flips the mount at target (clean); a protected one
// only if it is one of managed.
func remountInProcess(pid int, startTime uint64, target string, readOnly bool, managed []managedMount) (resolved string, err error) {
	err = enter(pid, startTime, func(in inside) error {
		fd, where, err := openMount(in, target, "remount", managed)
		resolved = where
		if err != nil {
			return err
		}
		defer closeFD(fd)
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		if !readOnly {
			attr = unix.MountAttr{Attr_clr: unix.MOUNT_ATTR_RDONLY}
		}
		if err := mountSetattr(fd, unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
			return fmt.Errorf("remount %s inside container %d %s: %w", target, pid, mode(readOnly), err)
		}
		return nil
	})
	return resolved, err
}

// RemoveFromProcess detaches the mount at ctrPath inside the container
// whose init is pid (lazily, like umount -l: a process still using it keeps
// it until it lets go). It records nothing.
func RemoveFromProcess(pid int, startTime uint64, ctrPath string) error {
	target, err := CleanTarget("unmount", ctrPath)
	if err != nil {
		return err
	}
	_, err = removeFromProcess(pid, startTime, target, nil)
	return err
}

// removeFromProcess detaches the mount at target (clean); a protected one
// only if it is one of managed.
func removeFromProcess(pid int, startTime uint64, target string, managed []managedMount) (resolved string, err error) {
	err = enter(pid, startTime, func(in inside) error {
		fd, where, err := openMount(in, target, "unmount", managed)
		resolved = where
		if err != nil {
			return err
		}
		defer closeFD(fd)
		// umount2 takes a path, not a handle. Going through our own
		// /proc/thread-self/fd/N hands it exactly the mount we resolved and
		// checked: the magic link jumps to the handle's mount, so nothing is
		// looked up again inside the container, where it could have been
		// swapped meanwhile.
		if err := unix.Fchdir(in.proc); err != nil {
			return fmt.Errorf("unmount %s inside container %d: change to /proc: %w", target, pid, err)
		}
		if err := unmount(fmt.Sprintf("thread-self/fd/%d", fd), unix.MNT_DETACH); err != nil {
			return fmt.Errorf("unmount %s inside container %d: %w", target, pid, err)
		}
		return nil
	})
	return resolved, err
}

// openMount resolves target inside the container and checks that it is the
// root of a mount that boxtui may touch: one of managed (a mount boxtui
// added, wherever it is and whatever its type), or any mount but a
// protected one (checkResolved). resolved is where target led, symlinks
// resolved, whenever it led somewhere (also when it is no mount: the caller
// may still drop a stale record for it).
func openMount(in inside, target, action string, managed []managedMount) (fd int, resolved string, err error) {
	fd, err = resolveInRoot(in.root, target, unix.O_NOFOLLOW)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return -1, "", fmt.Errorf("%s: %w", target, ErrTargetMissing)
		}
		return -1, "", targetError(target, err)
	}
	resolved = in.pathOr(fd, target)
	st, err := fstatx(fd)
	if err == nil && st.isSymlink() {
		err = fmt.Errorf("%s inside the container %w; give the path it points to instead", target, ErrSymlink)
	}
	if err == nil {
		if st.mountRoot && isManaged(managed, resolved, st) {
			err = checkNotRoot(in, st, action, target)
		} else {
			err = checkResolved(in, fd, st, action, target)
		}
	}
	if err == nil && !st.mountRoot {
		err = fmt.Errorf("%s inside the container is %w (see `boxtui mounts`)", target, ErrNotMount)
	}
	if err != nil {
		closeFD(fd)
		return -1, resolved, err
	}
	return fd, resolved, nil
}

func mode(readOnly bool) string {
	if readOnly {
		return "read-only"
	}
	return "read-write"
}
