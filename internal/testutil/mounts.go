package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/sys/mountinfo"
)

// ChurnDirPrefix starts the directory scripts/churn.sh mounts and unmounts
// in, to keep the host busy while the tests run.
const ChurnDirPrefix = "/tmp/boxtui-churn."

// HostMounts returns the mount table of the test process's own mount
// namespace (/proc/self/mountinfo), less the mounts of scripts/churn.sh,
// which come and go at any moment and are no test's doing.
func HostMounts() ([]*mountinfo.Info, error) {
	return mountinfo.GetMounts(func(m *mountinfo.Info) (skip, stop bool) {
		return strings.HasPrefix(m.Mountpoint, ChurnDirPrefix), false
	})
}

// MountTableOf returns the mount table of process pid's mount namespace,
// as that process sees it (/proc/PID/mountinfo): mount points are shown
// relative to pid's root, so a chrooted container's proc is "/proc" and
// mounts outside its root are left out.
func MountTableOf(pid int) ([]*mountinfo.Info, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return mountinfo.GetMountsFromReader(f, nil)
}

// MountsUnder lists the mount points of the test process's namespace that
// are dir or below it, sorted.
func MountsUnder(dir string) ([]string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	infos, err := HostMounts()
	if err != nil {
		return nil, fmt.Errorf("read mount table: %w", err)
	}
	var out []string
	for _, m := range infos {
		if m.Mountpoint == dir || strings.HasPrefix(m.Mountpoint, dir+"/") {
			out = append(out, m.Mountpoint)
		}
	}
	sort.Strings(out)
	return out, nil
}

// MountPoints returns the mount points of a table, sorted, for comparing a
// snapshot taken before a test with one taken after.
func MountPoints(infos []*mountinfo.Info) []string {
	out := make([]string, 0, len(infos))
	for _, m := range infos {
		out = append(out, m.Mountpoint)
	}
	sort.Strings(out)
	return out
}

// NewMounts returns the mount points in after that were not in before
// (a mount point mounted twice counts twice).
func NewMounts(before, after []*mountinfo.Info) []string {
	count := map[string]int{}
	for _, m := range before {
		count[m.Mountpoint]++
	}
	var out []string
	for _, m := range after {
		if count[m.Mountpoint] > 0 {
			count[m.Mountpoint]--
			continue
		}
		out = append(out, m.Mountpoint)
	}
	sort.Strings(out)
	return out
}
