package faults

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"boxtui/internal/testutil"
	"boxtui/runtime/mounts"
)

// `boxtui mount` of the host's kernel filesystems — /proc (whose recursive
// clone brought the host's other mounts along, and which umount then
// refused to take away again), sysfs, cgroups, a namespace file — or of a
// directory holding one below it (/), and mounts over /dev/pts, /dev/shm,
// /dev/mqueue, are refused in one line, and leave no mount, no record and
// no directory made for --mkdir.
func TestKernelFilesystemMountsRefused(t *testing.T) {
	c := newCLI(t)
	rootfs := testutil.FreshRootfs(t)
	for _, d := range []string{"dev/pts", "dev/shm", "dev/mqueue"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c.detached("kfs", rootfs, "/bin/sleep", "1000")
	src := t.TempDir()
	list := func() []mounts.Mount {
		var ms []mounts.Mount
		if err := json.Unmarshal([]byte(c.mustRun("mounts", "--json", "kfs")), &ms); err != nil {
			t.Fatal(err)
		}
		return ms
	}
	before := list()
	for _, args := range [][]string{
		{"--mkdir", "kfs", "/proc", "/mnt/h"},
		{"--mkdir", "kfs", "/proc/sys", "/mnt/h"},
		{"--mkdir", "kfs", "/sys/fs/cgroup", "/mnt/h"},
		{"--mkdir", "kfs", "/sys", "/mnt/h"},
		{"--mkdir", "kfs", "/proc/self/ns/mnt", "/mnt/h"},
		{"--mkdir", "kfs", "/", "/mnt/h"},
		{"--mkdir", "kfs", src, "/dev/pts"},
		{"--mkdir", "kfs", src, "/dev/shm"},
		{"--mkdir", "kfs", src, "/dev/mqueue"},
		{"--mkdir", "kfs", src, "/dev/pts/x"},
	} {
		out, errOut, code := c.run(append([]string{"mount"}, args...)...)
		errOut = strings.TrimSpace(errOut)
		if code == 0 || out != "" || strings.Contains(errOut, "\n") || !strings.Contains(errOut, "refusing to mount") {
			t.Errorf("mount %v: exit %d, %q%q; want one line refusing it", args, code, out, errOut)
		}
	}
	if after := list(); len(after) != len(before) {
		t.Errorf("the container's mounts changed:\nbefore %+v\nafter  %+v", before, after)
	}
	for _, p := range []string{"mnt/h", "mnt", "dev/pts/x"} {
		if _, err := os.Lstat(filepath.Join(rootfs, p)); err == nil {
			t.Errorf("a refused mount left /%s in the container", p)
		}
	}
	// An ordinary directory still goes in, and comes out.
	c.mustRun("mount", "--mkdir", "kfs", src, "/mnt/ok")
	c.mustRun("umount", "kfs", "/mnt/ok")
	if after := list(); len(after) != len(before) {
		t.Errorf("the container's mounts after mount+umount:\nbefore %+v\nafter  %+v", before, after)
	}
}
