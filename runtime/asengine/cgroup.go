package asengine

import (
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"boxtui/internal/openat2"

	"golang.org/x/sys/unix"
)

// Cgroup is one line of /proc/PID/cgroup: hierarchy ID 0 with no
// controllers is cgroup v2 (the unified hierarchy); the others are v1
// hierarchies, named by their controllers ("cpu,cpuacct") or by
// "name=NAME" (systemd's).
type Cgroup struct {
	ID          int
	Controllers string
	Path        string
}

// Unified reports whether this is the cgroup v2 line.
func (c Cgroup) Unified() bool { return c.ID == 0 && c.Controllers == "" }

// ParseCgroups reads /proc/PID/cgroup. Paths are as the reader's cgroup
// namespace sees them (the host's, for boxtui). The kernel refuses cgroup
// names with a newline, so a line is always a whole entry; an entry that
// does not parse, or a hierarchy named twice, is refused.
func ParseCgroups(data []byte) ([]Cgroup, error) {
	var out []Cgroup
	seen := map[int]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" {
			continue
		}
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			return nil, fmt.Errorf("parse cgroup line %q: want ID:CONTROLLERS:PATH", line)
		}
		id, err := strconv.Atoi(f[0])
		if err != nil || id < 0 {
			return nil, fmt.Errorf("parse cgroup line %q: bad hierarchy ID", line)
		}
		if !strings.HasPrefix(f[2], "/") {
			return nil, fmt.Errorf("parse cgroup line %q: path is not absolute", line)
		}
		if seen[id] {
			return nil, fmt.Errorf("parse cgroups: hierarchy %d twice", id)
		}
		seen[id] = true
		out = append(out, Cgroup{ID: id, Controllers: f[1], Path: f[2]})
	}
	return out, nil
}

// cgroupMount is a cgroup or cgroup2 mount of the host's mount table.
type cgroupMount struct {
	dev         uint64 // st_dev of the mounted filesystem
	root        string // the directory of the hierarchy mounted
	point       string // where it is mounted
	v2          bool
	controllers string // sorted, comma-separated; "" for v2
}

// parseCgroupMounts picks the cgroup mounts out of a mountinfo table;
// known are the names of the v1 controllers (/proc/cgroups), which tell
// controllers from the other options of a v1 mount.
func parseCgroupMounts(mountinfo []byte, known map[string]bool) ([]cgroupMount, error) {
	var out []cgroupMount
	for _, line := range strings.Split(string(mountinfo), "\n") {
		if line == "" {
			continue
		}
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			return nil, fmt.Errorf("parse mountinfo line %q: no separator", line)
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 {
			return nil, fmt.Errorf("parse mountinfo line %q: too few fields", line)
		}
		if g[0] != "cgroup" && g[0] != "cgroup2" {
			continue
		}
		maj, min, ok := strings.Cut(f[2], ":")
		if !ok {
			return nil, fmt.Errorf("parse mountinfo line %q: bad device", line)
		}
		ma, err1 := strconv.ParseUint(maj, 10, 32)
		mi, err2 := strconv.ParseUint(min, 10, 32)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("parse mountinfo line %q: bad device", line)
		}
		m := cgroupMount{
			dev:   unix.Mkdev(uint32(ma), uint32(mi)),
			root:  unescapeMountinfo(f[3]),
			point: unescapeMountinfo(f[4]),
			v2:    g[0] == "cgroup2",
		}
		if !m.v2 {
			var ctl []string
			for _, o := range strings.Split(g[2], ",") {
				if known[o] || strings.HasPrefix(o, "name=") {
					ctl = append(ctl, o)
				}
			}
			m.controllers = sortedList(ctl)
		}
		out = append(out, m)
	}
	return out, nil
}

func sortedList(items []string) string {
	s := append([]string(nil), items...)
	sort.Strings(s)
	return strings.Join(s, ",")
}

// unescapeMountinfo undoes the kernel's octal escapes (\040 for a space).
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// knownControllers reads the v1 controller names from /proc/cgroups.
func knownControllers() (map[string]bool, error) {
	data, err := os.ReadFile("/proc/cgroups")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return map[string]bool{}, nil // a kernel with v2 only
		}
		return nil, err
	}
	out := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 0 && !strings.HasPrefix(f[0], "#") {
			out[f[0]] = true
		}
	}
	return out, nil
}

// CgroupProcs is an open cgroup.procs file of one of the target's cgroups,
// opened for writing: writing a PID to it moves that process there, and
// "0" moves the writer (what the exec stage does, from any namespace: the
// kernel checks the permissions of the opener).
type CgroupProcs struct {
	Cgroup
	File *os.File
}

// Skipped is a cgroup of the target that OpenCgroupProcs could not join,
// and why.
type Skipped struct {
	Cgroup
	Reason string
}

// OpenCgroupProcs opens the cgroup.procs file of each of the profile's
// cgroups beneath the host's cgroup mounts (boxtui's /proc/self/mountinfo),
// never by a path the container controls: from an fd on the mount point,
// checked to be that cgroup filesystem, with openat2(RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV). A
// hierarchy the host has not mounted has no path to join it by: it comes
// back in skipped. The caller closes the files.
func OpenCgroupProcs(cgs []Cgroup) (procs []CgroupProcs, skipped []Skipped, err error) {
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, nil, err
	}
	known, err := knownControllers()
	if err != nil {
		return nil, nil, err
	}
	mounts, err := parseCgroupMounts(info, known)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			for _, p := range procs {
				p.File.Close()
			}
			procs = nil
		}
	}()
	for _, cg := range cgs {
		m, rel, ok := pickMount(mounts, cg)
		if !ok {
			skipped = append(skipped, Skipped{cg, "no cgroup mount of this hierarchy on the host"})
			continue
		}
		f, err := openProcs(m, rel)
		if err != nil {
			return procs, skipped, fmt.Errorf("open cgroup %s of hierarchy %d (%s): %w", cg.Path, cg.ID, hierarchyName(cg), err)
		}
		procs = append(procs, CgroupProcs{cg, f})
	}
	return procs, skipped, nil
}

func hierarchyName(cg Cgroup) string {
	if cg.Unified() {
		return "cgroup v2"
	}
	return cg.Controllers
}

// pickMount finds the host's mount of cg's hierarchy whose root holds
// cg.Path, and the path of the cgroup relative to that mount.
func pickMount(mounts []cgroupMount, cg Cgroup) (cgroupMount, string, bool) {
	want := ""
	if !cg.Unified() {
		if cg.Controllers == "" {
			return cgroupMount{}, "", false // a v1 hierarchy with no controller and no name
		}
		want = sortedList(strings.Split(cg.Controllers, ","))
	}
	for _, m := range mounts {
		if m.v2 != cg.Unified() || m.controllers != want {
			continue
		}
		root := path.Clean(m.root)
		p := path.Clean(cg.Path)
		var rel string
		switch {
		case root == "/":
			rel = strings.TrimPrefix(p, "/")
		case p == root:
			rel = ""
		case strings.HasPrefix(p, root+"/"):
			rel = p[len(root)+1:]
		default:
			continue
		}
		return m, rel, true
	}
	return cgroupMount{}, "", false
}

// openProcs opens REL/cgroup.procs beneath the mount, for writing.
func openProcs(m cgroupMount, rel string) (*os.File, error) {
	for _, c := range strings.Split(rel, "/") {
		if c == ".." {
			return nil, fmt.Errorf("path leaves its hierarchy")
		}
	}
	dir, err := unix.Open(m.point, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("open mount point %s: %w", m.point, err)
	}
	defer unix.Close(dir)
	magic := int64(unix.CGROUP_SUPER_MAGIC)
	if m.v2 {
		magic = unix.CGROUP2_SUPER_MAGIC
	}
	var st unix.Stat_t
	var fs unix.Statfs_t
	if err := unix.Fstat(dir, &st); err != nil {
		return nil, err
	}
	if err := unix.Fstatfs(dir, &fs); err != nil {
		return nil, err
	}
	if st.Dev != m.dev || int64(fs.Type) != magic {
		return nil, fmt.Errorf("%s is not the cgroup mount the mount table lists (something is mounted over it)", m.point)
	}
	name := "cgroup.procs"
	if rel != "" {
		name = rel + "/cgroup.procs"
	}
	fd, err := openat2.Open(dir, name, &unix.OpenHow{
		Flags:   unix.O_WRONLY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
	})
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, fmt.Errorf("the cgroup is gone (the container exited?)")
		}
		return nil, err
	}
	if err := unix.Fstatfs(fd, &fs); err != nil || int64(fs.Type) != magic {
		unix.Close(fd)
		return nil, fmt.Errorf("cgroup.procs is not on the cgroup filesystem")
	}
	return os.NewFile(uintptr(fd), path.Join(m.point, name)), nil
}
