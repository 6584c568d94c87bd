package asengine

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// MaxEnvBytes bounds the environment block read from /proc/PID/environ. A
// process may overwrite that memory (setproctitle does), so it is hostile
// input; a larger block is refused rather than cut at a random entry.
const MaxEnvBytes = 1 << 20

// MaxGroups bounds the supplementary groups taken over (the C side keeps
// them in a fixed array).
const MaxGroups = 4096

// ErrNoProcess matches the errors Read returns when the process is gone.
var ErrNoProcess = errors.New("no such process")

// Caps are the capability sets of a process, one bit per capability.
type Caps struct {
	Inheritable, Permitted, Effective, Bounding, Ambient uint64
}

// IDs are the real, effective, saved and filesystem IDs of a process.
type IDs struct {
	Real, Effective, Saved, FS uint32
}

// Seccomp modes, as in /proc/PID/status.
const (
	SeccompDisabled = 0
	SeccompStrict   = 1
	SeccompFilter   = 2
)

// Profile is what an engine's exec would give a new process in the
// container of the process it was read from.
type Profile struct {
	PID       int
	StartTime uint64 // field 22 of /proc/PID/stat

	Caps       Caps
	NoNewPrivs bool
	// SeccompMode is SeccompDisabled, SeccompStrict or SeccompFilter.
	SeccompMode int
	// FilterCount is Seccomp_filters of the status: how many filters the
	// process has, whether or not Filters were read.
	FilterCount int
	// Filters are the seccomp filters in the order they were installed
	// (oldest first, the order to install them in again); nil unless
	// Options.Seccomp asked for them and the process is in filter mode.
	Filters []Filter

	// UID, GID and Groups as the host sees them (the user namespace of
	// the reader, the host's); NSIDs turns them into the target's.
	UID, GID IDs
	Groups   []uint32
	// UIDMap and GIDMap are the target's user namespace's maps as the
	// host sees them (identity for a process in the host's user
	// namespace).
	UIDMap, GIDMap []IDMapRange

	// Env is the environment the process was started with: the
	// KEY=VALUE entries of /proc/PID/environ, in order. EnvSkipped counts
	// the entries dropped for having no '=' or an empty key.
	Env        []string
	EnvSkipped int

	// Cgroups has one entry per line of /proc/PID/cgroup.
	Cgroups []Cgroup

	// Rlimits are the resource limits (/proc/PID/limits), by RLIMIT_*
	// number: an engine's exec gives the container's to the command.
	Rlimits []Rlimit
}

// Rlimit is one resource limit; RlimInfinity is "unlimited".
type Rlimit struct {
	Resource int
	Cur, Max uint64
}

// RlimInfinity is the kernel's "unlimited".
const RlimInfinity = ^uint64(0)

// rlimitNames are the rows of /proc/PID/limits, by RLIMIT_* number.
var rlimitNames = map[string]int{
	"Max cpu time": unix.RLIMIT_CPU, "Max file size": unix.RLIMIT_FSIZE, "Max data size": unix.RLIMIT_DATA,
	"Max stack size": unix.RLIMIT_STACK, "Max core file size": unix.RLIMIT_CORE, "Max resident set": unix.RLIMIT_RSS,
	"Max processes": unix.RLIMIT_NPROC, "Max open files": unix.RLIMIT_NOFILE, "Max locked memory": unix.RLIMIT_MEMLOCK,
	"Max address space": unix.RLIMIT_AS, "Max file locks": unix.RLIMIT_LOCKS, "Max pending signals": unix.RLIMIT_SIGPENDING,
	"Max msgqueue size": unix.RLIMIT_MSGQUEUE, "Max nice priority": unix.RLIMIT_NICE, "Max realtime priority": unix.RLIMIT_RTPRIO,
	"Max realtime timeout": unix.RLIMIT_RTTIME,
}

// ParseLimits reads /proc/PID/limits: fixed columns (a name of up to 25
// characters, soft and hard limit of 20 each, units), "unlimited" for
// RlimInfinity. Every limit the kernel has must be there once.
func ParseLimits(data []byte) ([]Rlimit, error) {
	var out []Rlimit
	seen := map[int]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if len(line) < 26 || strings.HasPrefix(line, "Limit ") {
			continue
		}
		res, ok := rlimitNames[strings.TrimSpace(line[:26])]
		if !ok {
			continue // a limit newer than this list: left as it is
		}
		f := strings.Fields(line[26:])
		if len(f) < 2 {
			return nil, fmt.Errorf("parse limits line %q", line)
		}
		var v [2]uint64
		for i, s := range f[:2] {
			if s == "unlimited" {
				v[i] = RlimInfinity
				continue
			}
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("parse limits line %q: %v", line, err)
			}
			v[i] = n
		}
		if seen[res] || v[0] > v[1] {
			return nil, fmt.Errorf("parse limits line %q", line)
		}
		seen[res] = true
		out = append(out, Rlimit{Resource: res, Cur: v[0], Max: v[1]})
	}
	if len(out) != len(rlimitNames) {
		return nil, fmt.Errorf("parse limits: %d of the %d limits", len(out), len(rlimitNames))
	}
	return out, nil
}

// Options say what Read reads beyond /proc.
type Options struct {
	// Seccomp reads the seccomp filters themselves when the process is in
	// filter mode (PTRACE_SECCOMP_GET_FILTER, which stops the target for
	// the duration: see readFilters).
	Seccomp bool
	// StopTimeout bounds the wait for the target to stop so that its
	// filters can be read; 0 means 2 seconds.
	StopTimeout time.Duration
}

// Read reads the engine profile of process pid. startTime (field 22 of
// /proc/PID/stat) pins the process: a PID that now names another process is
// refused; 0 skips the check and Profile.StartTime says which process was
// read. Every file is read through one fd on /proc/PID, opened before the
// start time is checked, so all of them are that one process's.
func Read(pid int, startTime uint64, opts Options) (*Profile, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("process %d: %w", pid, ErrNoProcess)
	}
	dir, err := unix.Open("/proc/"+strconv.Itoa(pid), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, fmt.Errorf("process %d: %w (it exited)", pid, ErrNoProcess)
		}
		return nil, fmt.Errorf("open /proc/%d: %w", pid, err)
	}
	defer unix.Close(dir)
	got, err := readStartTime(dir, pid)
	if err != nil {
		return nil, err
	}
	if startTime != 0 && got != startTime {
		return nil, fmt.Errorf("process %d: %w (it exited and its PID was reused)", pid, ErrNoProcess)
	}
	p := &Profile{PID: pid, StartTime: got}

	status, err := readAt(dir, pid, "status", 64<<10)
	if err != nil {
		return nil, err
	}
	st, err := parseStatus(status)
	if err != nil {
		return nil, fmt.Errorf("process %d: %w", pid, err)
	}
	p.Caps, p.NoNewPrivs, p.SeccompMode, p.FilterCount = st.caps, st.nnp, st.seccomp, st.filters
	p.UID, p.GID, p.Groups = st.uid, st.gid, st.groups
	if len(p.Groups) > MaxGroups {
		return nil, fmt.Errorf("process %d has %d supplementary groups, more than the %d --as-engine takes over", pid, len(p.Groups), MaxGroups)
	}

	for _, m := range []struct {
		name string
		out  *[]IDMapRange
	}{{"uid_map", &p.UIDMap}, {"gid_map", &p.GIDMap}} {
		data, err := readAt(dir, pid, m.name, 64<<10)
		if err != nil {
			return nil, err
		}
		if *m.out, err = ParseIDMap(data); err != nil {
			return nil, fmt.Errorf("process %d: %w", pid, err)
		}
	}

	env, err := readAt(dir, pid, "environ", MaxEnvBytes)
	if err != nil {
		return nil, err
	}
	p.Env, p.EnvSkipped = ParseEnviron(env)

	cg, err := readAt(dir, pid, "cgroup", 64<<10)
	if err != nil {
		return nil, err
	}
	if p.Cgroups, err = ParseCgroups(cg); err != nil {
		return nil, fmt.Errorf("process %d: %w", pid, err)
	}

	limits, err := readAt(dir, pid, "limits", 64<<10)
	if err != nil {
		return nil, err
	}
	if p.Rlimits, err = ParseLimits(limits); err != nil {
		return nil, fmt.Errorf("process %d: %w", pid, err)
	}

	if opts.Seccomp && p.SeccompMode == SeccompFilter {
		timeout := opts.StopTimeout
		if timeout <= 0 {
			timeout = 2 * time.Second
		}
		if p.Filters, err = readFilters(dir, pid, got, st.tracer, timeout); err != nil {
			return nil, err
		}
		if len(p.Filters) != p.FilterCount {
			// A filter added between the status read and the stop: read
			// again rather than hand out a chain the status contradicts.
			return nil, fmt.Errorf("process %d changed its seccomp filters while they were read (%d, then %d): try again", pid, p.FilterCount, len(p.Filters))
		}
	}
	// The files above are this process's only if it is still the one the
	// start time named: reads through the directory fd of an exited
	// process fail, so one more successful read closes the window.
	if _, err := readStartTime(dir, pid); err != nil {
		return nil, err
	}
	return p, nil
}

// readAt reads /proc/PID/NAME through the directory fd, refusing more than
// limit bytes.
func readAt(dir, pid int, name string, limit int) ([]byte, error) {
	fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENOENT) {
			return nil, fmt.Errorf("process %d: %w (it exited)", pid, ErrNoProcess)
		}
		return nil, fmt.Errorf("read /proc/%d/%s: %w", pid, name, err)
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 4096)
	for len(buf) <= limit {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), 2*cap(buf))
			copy(grown, buf)
			buf = grown
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			if errors.Is(err, unix.ESRCH) {
				return nil, fmt.Errorf("process %d: %w (it exited)", pid, ErrNoProcess)
			}
			return nil, fmt.Errorf("read /proc/%d/%s: %w", pid, name, err)
		}
		if n == 0 {
			break
		}
		buf = buf[:len(buf)+n]
	}
	if len(buf) > limit {
		return nil, fmt.Errorf("/proc/%d/%s is larger than %d bytes: refusing to take it over", pid, name, limit)
	}
	return buf, nil
}

func readStartTime(dir, pid int) (uint64, error) {
	data, err := readAt(dir, pid, "stat", 4096)
	if err != nil {
		return 0, err
	}
	return parseStartTime(data)
}

// parseStartTime takes field 22 of a stat line; the command name may hold
// spaces and parentheses, so fields are counted after the last ')'.
func parseStartTime(data []byte) (uint64, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse stat: no command name")
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 {
		return 0, fmt.Errorf("parse stat: %d fields after the command, want at least 20", len(f))
	}
	if f[0] == "Z" || f[0] == "X" {
		return 0, fmt.Errorf("process %s: %w (it exited)", strings.TrimSpace(string(data[:bytes.IndexByte(data, '(')])), ErrNoProcess)
	}
	return strconv.ParseUint(f[19], 10, 64) // field 22
}

type status struct {
	caps     Caps
	nnp      bool
	seccomp  int
	filters  int
	tracer   int
	uid, gid IDs
	groups   []uint32
	seen     map[string]bool
}

// parseStatus reads the fields of /proc/PID/status a profile needs. Each
// must be there exactly once: a kernel without one of them is refused.
func parseStatus(data []byte) (status, error) {
	st := status{seen: map[string]bool{}}
	for _, line := range strings.Split(string(data), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		var err error
		switch key {
		case "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb":
			var v uint64
			v, err = strconv.ParseUint(val, 16, 64)
			switch key {
			case "CapInh":
				st.caps.Inheritable = v
			case "CapPrm":
				st.caps.Permitted = v
			case "CapEff":
				st.caps.Effective = v
			case "CapBnd":
				st.caps.Bounding = v
			default:
				st.caps.Ambient = v
			}
		case "NoNewPrivs", "Seccomp", "Seccomp_filters", "TracerPid":
			var v int
			v, err = strconv.Atoi(val)
			if err == nil && v < 0 {
				err = errors.New("negative")
			}
			switch key {
			case "NoNewPrivs":
				st.nnp = v != 0
			case "Seccomp":
				st.seccomp = v
			case "Seccomp_filters":
				st.filters = v
			default:
				st.tracer = v
			}
		case "Uid", "Gid":
			var ids IDs
			ids, err = parseIDs(val)
			if key == "Uid" {
				st.uid = ids
			} else {
				st.gid = ids
			}
		case "Groups":
			for _, g := range strings.Fields(val) {
				var v uint64
				if v, err = strconv.ParseUint(g, 10, 32); err != nil {
					break
				}
				st.groups = append(st.groups, uint32(v))
			}
		default:
			continue
		}
		if err != nil {
			return st, fmt.Errorf("parse status %s %q: %v", key, val, err)
		}
		if st.seen[key] {
			return st, fmt.Errorf("parse status: %s twice", key)
		}
		st.seen[key] = true
	}
	for _, k := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Uid", "Gid", "Groups", "TracerPid"} {
		if !st.seen[k] {
			return st, fmt.Errorf("status has no %s line (a kernel older than 4.10?)", k)
		}
	}
	if st.seccomp == SeccompFilter && !st.seen["Seccomp_filters"] {
		return st, fmt.Errorf("status has no Seccomp_filters line (a kernel older than 5.9?)")
	}
	if st.seccomp > SeccompFilter {
		return st, fmt.Errorf("unknown seccomp mode %d", st.seccomp)
	}
	return st, nil
}

func parseIDs(val string) (IDs, error) {
	f := strings.Fields(val)
	if len(f) != 4 {
		return IDs{}, fmt.Errorf("%d fields, want 4", len(f))
	}
	var v [4]uint32
	for i, s := range f {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return IDs{}, err
		}
		v[i] = uint32(n)
	}
	return IDs{Real: v[0], Effective: v[1], Saved: v[2], FS: v[3]}, nil
}

// ParseEnviron splits a NUL-separated environment block into its KEY=VALUE
// entries, dropping (and counting) entries with no '=' or an empty key:
// the block is memory the process may have overwritten.
func ParseEnviron(data []byte) (env []string, skipped int) {
	for _, e := range bytes.Split(data, []byte{0}) {
		if len(e) == 0 {
			continue
		}
		if k := bytes.IndexByte(e, '='); k <= 0 {
			skipped++
			continue
		}
		env = append(env, string(e))
	}
	return env, skipped
}

// IDMapRange is one line of a uid_map or gid_map: Count IDs from Inside
// (in the target's user namespace) map to Count IDs from Outside (the
// reader's).
type IDMapRange struct {
	Inside, Outside, Count uint32
}

// ParseIDMap reads a uid_map or gid_map.
func ParseIDMap(data []byte) ([]IDMapRange, error) {
	var out []IDMapRange
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("parse id map line %q: want 3 fields", line)
		}
		var v [3]uint32
		for i, s := range f {
			n, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("parse id map line %q: %v", line, err)
			}
			v[i] = uint32(n)
		}
		out = append(out, IDMapRange{Inside: v[0], Outside: v[1], Count: v[2]})
	}
	return out, nil
}

// toInside maps a host ID into the namespace the map describes.
func toInside(m []IDMapRange, id uint32) (uint32, bool) {
	for _, r := range m {
		if id >= r.Outside && uint64(id) < uint64(r.Outside)+uint64(r.Count) {
			return r.Inside + (id - r.Outside), true
		}
	}
	return 0, false
}

// NSIDs returns UID, GID and Groups as the target's own user namespace
// sees them: what a process that joined it passes to setresuid and
// setgroups. An ID with no mapping there (the kernel shows it as the
// overflow ID inside) is an error.
func (p *Profile) NSIDs() (uid, gid IDs, groups []uint32, err error) {
	mapIDs := func(m []IDMapRange, ids IDs, what string) (IDs, error) {
		var out [4]uint32
		for i, id := range [4]uint32{ids.Real, ids.Effective, ids.Saved, ids.FS} {
			v, ok := toInside(m, id)
			if !ok {
				return IDs{}, fmt.Errorf("%s %d of process %d has no mapping in its user namespace", what, id, p.PID)
			}
			out[i] = v
		}
		return IDs{Real: out[0], Effective: out[1], Saved: out[2], FS: out[3]}, nil
	}
	if uid, err = mapIDs(p.UIDMap, p.UID, "uid"); err != nil {
		return
	}
	if gid, err = mapIDs(p.GIDMap, p.GID, "gid"); err != nil {
		return
	}
	for _, g := range p.Groups {
		v, ok := toInside(p.GIDMap, g)
		if !ok {
			return uid, gid, nil, fmt.Errorf("group %d of process %d has no mapping in its user namespace", g, p.PID)
		}
		groups = append(groups, v)
	}
	return uid, gid, groups, nil
}
