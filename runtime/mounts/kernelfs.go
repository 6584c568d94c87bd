package mounts

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// kernelFS is a filesystem through which the kernel shows or controls
// itself, the host, or other processes, rather than holding files. A bind
// of the host's instance would hand a container the host's view of its
// processes (proc), devices and cgroups (sysfs, cgroup), tracing and BPF
// objects, EFI variables, binary formats, security policy, terminals or
// message queues: boxtui refuses to mount any of them, or any directory
// that holds one below it.
type kernelFS struct {
	magic int64  // f_type from statfs (linux/magic.h)
	name  string // the type mountinfo shows
}

var kernelFilesystems = []kernelFS{
	{unix.PROC_SUPER_MAGIC, "proc"},
	{unix.SYSFS_MAGIC, "sysfs"},
	{unix.CGROUP_SUPER_MAGIC, "cgroup"},
	{unix.CGROUP2_SUPER_MAGIC, "cgroup2"},
	{unix.DEBUGFS_MAGIC, "debugfs"},
	{unix.SECURITYFS_MAGIC, "securityfs"},
	{unix.TRACEFS_MAGIC, "tracefs"},
	{unix.BPF_FS_MAGIC, "bpf"},
	{0x62656570, "configfs"},        // CONFIGFS_MAGIC, fs/configfs/mount.c
	{unix.PSTOREFS_MAGIC, "pstore"}, //
	{unix.EFIVARFS_MAGIC, "efivarfs"},
	{0x65735543, "fusectl"}, // FUSE_CTL_SUPER_MAGIC, fs/fuse/control.c
	{unix.BINFMTFS_MAGIC, "binfmt_misc"},
	{unix.SELINUX_MAGIC, "selinuxfs"},
	{unix.SMACK_MAGIC, "smackfs"},
	{unix.RDTGROUP_SUPER_MAGIC, "resctrl"},
	// Namespace and pidfd files, reached through /proc/PID/ns/* or
	// /proc/PID/fd/N: a bind of one keeps a host namespace or process
	// within the container's reach.
	{unix.NSFS_MAGIC, "nsfs"},
	{unix.PID_FS_MAGIC, "pidfs"},
	// The host's terminals and POSIX message queues: a container has its
	// own (its /dev/pts, its IPC namespace).
	{unix.DEVPTS_SUPER_MAGIC, "devpts"},
	{0x19800202, "mqueue"}, // MQUEUE_MAGIC, ipc/mqueue.c
}

// kernelFSByMagic returns the name of the kernel filesystem whose f_type is
// magic, or "".
func kernelFSByMagic(magic int64) string {
	for _, k := range kernelFilesystems {
		if k.magic == magic {
			return k.name
		}
	}
	return ""
}

func isKernelFSName(name string) bool {
	for _, k := range kernelFilesystems {
		if k.name == name {
			return true
		}
	}
	return false
}

// fdKernelFS returns the name of the kernel filesystem fd is on, or "".
func fdKernelFS(fd int) (string, error) {
	t, err := fstatfsType(fd)
	if err != nil {
		return "", err
	}
	return kernelFSByMagic(t), nil
}

// kernelSubmount looks through the calling thread's mount table for a
// kernel filesystem mounted below path (which is in the mount with ID
// mntID): a recursive clone of path brings every such mount along. It
// returns the first one's mount point and type, or "" when there is none.
//
// The mount table is read after the clone was made, so a mount added since
// is reported although the clone lacks it (a refusal to retry), and one
// removed since is missed: only root on the host can race it so, and root
// on the host can mount a proc anywhere anyway.
func kernelSubmount(mntID uint64, path string) (mountpoint, fstype string, err error) {
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return "", "", fmt.Errorf("read the mount table: %w", err)
	}
	defer f.Close()
	infos, err := mountinfo.GetMountsFromReader(bufio.NewReader(f), nil)
	if err != nil {
		return "", "", fmt.Errorf("read the mount table: %w", err)
	}
	return findKernelSubmount(infos, mntID, path)
}

// findKernelSubmount is kernelSubmount on a parsed mount table: the mounts
// that descend from mount mntID (by parent ID) and sit below path are what
// a recursive clone of path copies.
func findKernelSubmount(infos []*mountinfo.Info, mntID uint64, path string) (mountpoint, fstype string, err error) {
	children := map[int][]*mountinfo.Info{}
	for _, in := range infos {
		if in.ID != in.Parent {
			children[in.Parent] = append(children[in.Parent], in)
		}
	}
	prefix := strings.TrimSuffix(path, "/") + "/"
	seen := map[int]bool{}
	queue := []int{int(mntID)}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		for _, c := range children[id] {
			if !strings.HasPrefix(c.Mountpoint, prefix) {
				continue
			}
			if isKernelFSName(c.FSType) {
				return c.Mountpoint, c.FSType, nil
			}
			queue = append(queue, c.ID)
		}
	}
	return "", "", nil
}
