package mounts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"boxtui/internal/testutil"
	"boxtui/runtime/state"

	"golang.org/x/sys/unix"
)

// hostMount mounts on the host (the test's own mount namespace) for one
// test, and unmounts at its end.
func hostMount(t *testing.T, source, target, fstype string, flags uintptr) {
	t.Helper()
	if err := os.MkdirAll(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(source, target, fstype, flags, ""); err != nil {
		t.Fatalf("mount %s at %s: %v", fstype, target, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(target, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", target, err)
		}
	})
}

// inContainer runs a command in the box's mount (and PID) namespace, with
// the host's root: paths are the host's view of the rootfs.
func (b *box) inContainer(args ...string) {
	b.t.Helper()
	out, err := exec.Command("nsenter", append([]string{"-t", strconv.Itoa(b.pid), "-m", "-p", "--"}, args...)...).CombinedOutput()
	if err != nil {
		b.t.Fatalf("nsenter %v: %v: %s", args, err, out)
	}
}

// A host path on a kernel filesystem — proc, sysfs, cgroups, a namespace
// file, or a bind of /proc elsewhere (judged by type, not name) — and a
// directory with one mounted below it (/, or an ordinary directory holding
// a proc) are refused with one line naming the filesystem, and leave no
// mount and no record. A directory with ordinary mounts below it is still
// mounted, submounts and all.
func TestKernelFilesystemSourcesRefused(t *testing.T) {
	testutil.RequireRoot(t, "mounts proc and sysfs on the host")
	host := t.TempDir()
	bindProc := filepath.Join(host, "bproc")
	hostMount(t, "/proc", bindProc, "", unix.MS_BIND)
	holder := filepath.Join(host, "holder")
	hostMount(t, "proc", filepath.Join(holder, "deep/p"), "proc", 0)
	ordinary := filepath.Join(host, "ordinary")
	hostMount(t, "boxtui-test", filepath.Join(ordinary, "t"), "tmpfs", 0)
	if err := os.WriteFile(filepath.Join(ordinary, "t/inside"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, ownNS := range []bool{true, false} {
		t.Run("ownNS="+strconv.FormatBool(ownNS), func(t *testing.T) {
			b := newBox(t, ownNS)
			before := testutil.MountPoints(b.table())
			for src, says := range map[string]string{
				"/proc":             "on the host's proc",
				"/proc/sys/kernel":  "on the host's proc",
				"/sys":              "on the host's sysfs",
				"/sys/fs/cgroup":    "kernel filesystem",
				"/proc/self/ns/net": "on the host's nsfs",
				bindProc:            "on the host's proc",
				holder:              "the host's proc at " + filepath.Join(holder, "deep/p") + " below it",
				"/":                 "below it is a kernel filesystem",
			} {
				err := Add(b.c, src, "/var/x", AddOptions{})
				wantErr(t, err, ErrKernelFS, "Add "+src)
				if !strings.Contains(err.Error(), says) {
					t.Errorf("Add %s: %q does not say %q", src, err, says)
				}
			}
			if after := testutil.MountPoints(b.table()); strings.Join(after, " ") != strings.Join(before, " ") {
				t.Errorf("container mount table changed:\nbefore %v\nafter  %v", before, after)
			}
			b.checkRecords()

			if err := Add(b.c, ordinary, "/var/x", AddOptions{ReadOnly: true}); err != nil {
				t.Fatalf("Add a directory with a tmpfs below it: %v", err)
			}
			if got, err := b.read("/var/x/t/inside"); err != nil || got != "" {
				t.Errorf("the tmpfs below the source is not in the container: %q, %v", got, err)
			}
			if err := Remove(b.c, "/var/x"); err != nil {
				t.Fatal(err)
			}
			b.checkRecords()
			b.checkHostUnchanged(ordinary)
		})
	}
}

// /dev/pts, /dev/shm and /dev/mqueue, and anything below them, are
// protected like /dev, also when reached through a symlink; a target on a
// kernel filesystem of the container (its mqueue, here mounted elsewhere)
// is refused by its type. The rest of /dev stays open: a socket or device
// node bound at /dev/log is a legitimate use.
func TestDevTargetsProtected(t *testing.T) {
	b := newBox(t, true)
	src := srcDir(t)
	for _, d := range []string{"dev/pts", "dev/shm", "dev/mqueue", "mnt/mq"} {
		if err := os.MkdirAll(filepath.Join(b.rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/dev/pts", filepath.Join(b.rootfs, "var/pts")); err != nil {
		t.Fatal(err)
	}
	b.inContainer("mount", "-t", "mqueue", "none", filepath.Join(b.rootfs, "mnt/mq"))
	before := testutil.MountPoints(b.table())
	for _, target := range []string{"/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/pts/x", "/dev/shm/x", "/var/pts/x", "/mnt/mq"} {
		wantErr(t, Add(b.c, src, target, AddOptions{Mkdir: true}), ErrProtectedTarget, "Add at "+target)
	}
	if after := testutil.MountPoints(b.table()); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("container mount table changed:\nbefore %v\nafter  %v", before, after)
	}
	for _, name := range []string{"x", "pts/x", "shm/x"} {
		if _, err := os.Lstat(filepath.Join(b.rootfs, "dev", name)); err == nil {
			t.Errorf("a refused Add created /dev/%s", name)
		}
	}
	file := filepath.Join(src, "hello")
	if err := Add(b.c, file, "/dev/log", AddOptions{Mkdir: true}); err != nil {
		t.Fatalf("Add a file at /dev/log: %v", err)
	}
	b.checkRecords("/dev/log:read-write")
	if err := Remove(b.c, "/dev/log"); err != nil {
		t.Fatal(err)
	}
	b.checkRecords()
	b.checkHostUnchanged(src)
}

// attachUnchecked mounts hostPath at target (which must exist) in the box
// and records it, the way boxtui did before it refused kernel filesystems
// and /dev/pts, /dev/shm, /dev/mqueue: such mounts exist in running
// containers and must stay removable.
func (b *box) attachUnchecked(hostPath, target string) {
	b.t.Helper()
	tree, err := openTree(unix.AT_FDCWD, hostPath, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		b.t.Fatal(err)
	}
	defer closeFD(tree)
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV, Propagation: unix.MS_PRIVATE}
	if err := mountSetattr(tree, unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
		b.t.Fatal(err)
	}
	err = enter(b.c.PID, b.c.StartTime, func(in inside) error {
		fd, err := resolveInRoot(in.root, target, unix.O_NOFOLLOW)
		if err != nil {
			return err
		}
		defer closeFD(fd)
		return moveMount(tree, fd)
	})
	if err != nil {
		b.t.Fatalf("attach %s at %s: %v", hostPath, target, err)
	}
	b.record(hostPath, target)
}

// record adds a record as Add would, whether or not the mount is there.
func (b *box) record(hostPath, target string) {
	b.t.Helper()
	err := updateRecords(b.c, func(recs []state.MountRecord) []state.MountRecord {
		return pushRecord(recs, state.MountRecord{Source: hostPath, Target: target})
	})
	if err != nil {
		b.t.Fatal(err)
	}
}

// umount and remount remove and flip a mount boxtui added whatever its
// type and wherever it is: the host's proc an older boxtui let through at
// /mnt/h, binds at /dev/shm and /dev/pts. The container's own mounts at
// the same kind of places stay refused, also when a stale record names
// their path (its mount was unmounted from inside, and the container
// mounted its own there): a record counts only for the mount made from its
// source.
func TestRemoveManagedMountAnywhere(t *testing.T) {
	b := newBox(t, true)
	src := srcDir(t)
	for _, d := range []string{"mnt/h", "mnt/p", "dev/pts", "dev/shm", "dev/mqueue"} {
		if err := os.MkdirAll(filepath.Join(b.rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	before := testutil.MountPoints(b.table())
	b.attachUnchecked("/proc", "/mnt/h")
	b.attachUnchecked(src, "/dev/shm")
	b.attachUnchecked(src, "/dev/pts")
	b.checkRecords("/mnt/h:read-write", "/dev/shm:read-write", "/dev/pts:read-write")

	for _, target := range []string{"/mnt/h", "/dev/shm"} {
		if err := Remount(b.c, target, true); err != nil {
			t.Errorf("Remount %s: %v", target, err)
		} else if m := b.mountAt(target); m == nil || !isRO(m) {
			t.Errorf("%s is not read-only after Remount: %+v", target, m)
		}
	}
	for _, target := range []string{"/mnt/h", "/dev/shm", "/dev/pts"} {
		if err := Remove(b.c, target); err != nil {
			t.Errorf("Remove %s: %v", target, err)
		}
	}
	b.checkRecords()
	if after := testutil.MountPoints(b.table()); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("container mount table after removing:\nbefore %v\nafter  %v", before, after)
	}

	// The container's own: a tmpfs at /dev/shm, its mqueue, its proc at
	// /mnt/p, with records that name their paths.
	b.inContainer("mount", "-t", "tmpfs", "none", filepath.Join(b.rootfs, "dev/shm"))
	b.inContainer("mount", "-t", "mqueue", "none", filepath.Join(b.rootfs, "dev/mqueue"))
	b.inContainer("mount", "-t", "proc", "proc", filepath.Join(b.rootfs, "mnt/p"))
	b.record(src, "/dev/shm")
	b.record("/proc", "/dev/mqueue")
	b.record("/proc", "/mnt/p")
	own := testutil.MountPoints(b.table())
	for _, target := range []string{"/dev/shm", "/dev/mqueue", "/mnt/p", "/proc", "/dev"} {
		wantErr(t, Remove(b.c, target), ErrProtectedTarget, "Remove the container's own "+target)
		wantErr(t, Remount(b.c, target, true), ErrProtectedTarget, "Remount the container's own "+target)
	}
	if after := testutil.MountPoints(b.table()); strings.Join(after, " ") != strings.Join(own, " ") {
		t.Errorf("the container's own mounts changed:\nbefore %v\nafter  %v", own, after)
	}
	b.checkHostUnchanged(src)
}
