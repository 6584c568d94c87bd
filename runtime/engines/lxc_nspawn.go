package engines

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"

	"boxtui/internal/openat2"

	"golang.org/x/sys/unix"
)

// safeComponent reports whether s can be one path component: not empty,
// no '/', no NUL, not "." or "..".
func safeComponent(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\x00")
}

// statBeneath stats rel below root without following symlinks; ok is
// false when it cannot be reached that way.
func statBeneath(root, rel string) (unix.Stat_t, bool) {
	var st unix.Stat_t
	dirfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return st, false
	}
	defer unix.Close(dirfd)
	fd, err := openat2.Open(dirfd, rel, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return st, false
	}
	defer unix.Close(fd)
	return st, unix.Fstat(fd, &st) == nil
}

// lxc names an LXC container from the name its cgroup gives
// (lxc.payload.NAME, set by the host's LXC), checked against lxcpath: when
// LXC found the cgroup taken it adds "-1", "-2"..., and the container whose
// directory lxcpath holds is the one without the suffix. LXC has no
// container IDs.
func (r *Resolver) lxc(name string) Identity {
	if !safeComponent(name) {
		return Identity{}
	}
	if r.lxcConfigured(name) {
		return Identity{Name: name}
	}
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.ParseUint(name[i+1:], 10, 16); err == nil && r.lxcConfigured(name[:i]) {
			return Identity{Name: name[:i]}
		}
	}
	// Started from another lxcpath (lxc-start -P): the cgroup still says.
	return Identity{Name: name}
}

func (r *Resolver) lxcConfigured(name string) bool {
	st, ok := statBeneath(r.LXCPath, name+"/config")
	return ok && st.Mode&unix.S_IFMT == unix.S_IFREG
}

// Machine is what systemd-machined keeps of a machine in
// /run/systemd/machines/NAME.
type Machine struct {
	Name   string
	ID     string // the machine's 128-bit ID, 32 hex digits, when it has one
	Leader int
}

// ParseMachineFile reads systemd-machined's record of a machine
// (/run/systemd/machines/NAME, KEY=VALUE lines).
func ParseMachineFile(data []byte) Machine {
	var m Machine
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		switch k {
		case "NAME":
			m.Name = v
		case "ID":
			m.ID = v
		case "LEADER":
			m.Leader, _ = strconv.Atoi(v)
		}
	}
	return m
}

// nspawn names an nspawn container: a registered one from its scope's
// machine name (machine-NAME.scope), with machined's record for its ID;
// one run with --register=no from the directory nspawn made for it under
// /run/systemd/nspawn/propagate/NAME, which it mounts on the container's
// /run/host/incoming.
func (r *Resolver) nspawn(name string, pid int) Identity {
	if name != "" {
		if !safeComponent(name) {
			return Identity{}
		}
		id := Identity{Name: name}
		v, err := r.stateFile(r.MachinesDir, name, 1<<20, func(b []byte) (any, error) {
			return ParseMachineFile(b), nil
		})
		if err == nil {
			if m := v.(Machine); m.Leader == pid && m.Name == name {
				id.ID = m.ID
			}
		}
		return id
	}
	if pid <= 0 {
		return Identity{}
	}
	return Identity{Name: r.nspawnByPropagate(pid)}
}

// nspawnByPropagate finds the machine name of an unregistered nspawn
// container: nspawn makes /run/systemd/nspawn/propagate/NAME on the host
// and bind-mounts it on the container's /run/host/incoming. The init's
// mountinfo, which the kernel writes, says which directory of which
// filesystem is mounted there; the host's own mountinfo says where the
// propagate directory is on its filesystem. Nothing in the container is
// looked up (a lookup could reach a FUSE mount the container serves, and
// hang), and the container cannot pass its own directory off as another
// machine's: it would need the same path on the host's filesystem. It can
// only hide the mount, and then has no name.
func (r *Resolver) nspawnByPropagate(pid int) string {
	host := readProc(r.Proc + "/self/mountinfo")
	init := readProc(r.Proc + "/" + strconv.Itoa(pid) + "/mountinfo")
	if host == nil || init == nil {
		return ""
	}
	name := NspawnMachineFromMountinfo(init, host, r.PropagateDir)
	if name == "" {
		return ""
	}
	// The machine's directory must still be there (nspawn removes it when
	// the container ends).
	if st, ok := statBeneath(r.PropagateDir, name); !ok || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return ""
	}
	return name
}

// maxMountinfo bounds a mountinfo read (a container may make many mounts).
const maxMountinfo = 16 << 20

// readProc reads a procfs file whole, nil when it cannot.
func readProc(path string) []byte {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	data, err := readAll(fd, maxMountinfo)
	if err != nil {
		return nil
	}
	return data
}

// mountEntry is what boxtui reads of a mountinfo line.
type mountEntry struct {
	dev   string // major:minor
	root  string // the mounted directory, on its filesystem
	point string // where it is mounted, relative to the reader's root
}

// parseMountinfo reads the fields of proc_pid_mountinfo(5) that name what
// is mounted where, undoing the kernel's octal escapes (\040 for a space).
func parseMountinfo(data []byte) []mountEntry {
	var out []mountEntry
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.SplitN(line, " ", 6)
		if len(f) < 6 {
			continue
		}
		out = append(out, mountEntry{dev: f[2], root: unescapeOctal(f[3]), point: unescapeOctal(f[4])})
	}
	return out
}

// unescapeOctal undoes the \ooo escapes of mountinfo's path fields.
func unescapeOctal(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// NspawnMachineFromMountinfo returns the machine name an nspawn container
// whose init has the mount table initMI gets from the host (whose mount
// table is hostMI, propagate its /run/systemd/nspawn/propagate): the NAME
// of the host's propagate/NAME mounted on the container's
// /run/host/incoming; "" when none is.
func NspawnMachineFromMountinfo(initMI, hostMI []byte, propagate string) string {
	// The host mount propagate is on: the last (topmost) one with the
	// longest mount point that contains it.
	var on mountEntry
	best := -1
	for _, m := range parseMountinfo(hostMI) {
		if m.point != "/" && propagate != m.point && !strings.HasPrefix(propagate, m.point+"/") {
			continue
		}
		if len(m.point) >= best {
			on, best = m, len(m.point)
		}
	}
	if best < 0 {
		return ""
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(propagate, on.point), "/")
	base := strings.TrimSuffix(on.root, "/") + "/" + rel + "/"
	if rel == "" {
		base = strings.TrimSuffix(on.root, "/") + "/"
	}
	for _, m := range parseMountinfo(initMI) {
		if m.point != "/run/host/incoming" || m.dev != on.dev {
			continue
		}
		if name, ok := strings.CutPrefix(m.root, base); ok && safeComponent(name) {
			return name
		}
	}
	return ""
}
