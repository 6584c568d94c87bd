package engines

import (
	"bufio"
	"bytes"
	"os"
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

// nspawnByPropagate finds the Machine name of an unregistered nspawn
// container: the entry of /run/systemd/nspawn/propagate whose directory is
// the one mounted at /run/host/incoming in the container (same device and
// inode). The container cannot make its own directory pass for another
// machine's: it can only hide the mount, and then has no name.
func (r *Resolver) nspawnByPropagate(pid int) string {
	ents, err := os.ReadDir(r.PropagateDir)
	if err != nil || len(ents) == 0 {
		return ""
	}
	root, err := unix.Open(r.Proc+"/"+strconv.Itoa(pid)+"/root", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return ""
	}
	defer unix.Close(root)
	fd, err := openat2.Open(root, "run/host/incoming", &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return ""
	}
	defer unix.Close(fd)
	var in unix.Stat_t
	if unix.Fstat(fd, &in) != nil {
		return ""
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		st, ok := statBeneath(r.PropagateDir, e.Name())
		if ok && st.Dev == in.Dev && st.Ino == in.Ino {
			return e.Name()
		}
	}
	return ""
}
