package discovery

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"boxtui/runtime/namespace"
	"boxtui/runtime/procfs"
	"boxtui/runtime/state"
)

// ErrNotInContainer is returned for a PID that runs in boxtui's own PID
// namespace, i.e. on the host.
var ErrNotInContainer = errors.New("not in a container")

// ErrNotRunning is returned for a boxtui container that has exited.
var ErrNotRunning = errors.New("container is not running")

// MinIDPrefix is the shortest prefix of an engine's container ID that a
// TARGET may give (docker and podman print 12 digits).
const MinIDPrefix = 4

// FindContainer resolves a TARGET as the CLI takes it: a container's name
// (boxtui's, or its engine's: docker, podman, LXC, nspawn, Kubernetes), the
// same as ORIGIN:NAME when two origins share a name, a unique prefix of an
// engine's container ID, or the host PID of any process inside a
// container. The returned container comes from a fresh scan with every
// process's namespaces read. A host PID other than the init's is kept in
// Container.Named: exec and mounts act in that process's namespaces
// (nsenter -t PID semantics).
func FindContainer(target string) (Container, error) {
	snap, err := Scan(ScanOptions{ProcessNamespaces: true})
	if err != nil {
		return Container{}, err
	}
	return snap.Find(target)
}

// Find resolves target within the snapshot, in this order: a host PID (all
// digits); a name, boxtui's or an engine's, that only one container has;
// ORIGIN:NAME or ORIGIN:ID-PREFIX (docker:web, podman:3f2a, pid:1234);
// a prefix of at least MinIDPrefix hex digits of one container's engine ID.
// A name two containers share, or an ID prefix two IDs share, is an error
// in one line that lists them the way each can be named.
func (snap Snapshot) Find(target string) (Container, error) {
	if target == "" {
		return Container{}, fmt.Errorf("no target given: name a container (boxtui's or its engine's, ORIGIN:NAME or an engine ID prefix; see `boxtui ls`) or give the host PID of a process in a container")
	}
	if pid, err := strconv.Atoi(target); err == nil {
		return snap.findPID(target, pid)
	}
	if c, found, err := snap.pick(target, "", func(c Container) bool { return c.DisplayName() == target }); found {
		return c, err
	}
	if o, rest, ok := splitOriginTarget(target); ok {
		return snap.findInOrigin(target, o, rest)
	}
	// A boxtui name that only state knows (an exited container, with
	// exited ones not scanned) is that container, even when it looks like
	// the prefix of some engine's ID ("cafe").
	if _, err := state.Load(target); err == nil && state.ValidateName(target) == nil {
		return Container{}, notFound(target)
	}
	if isIDPrefix(target) {
		if c, found, err := snap.pick(target, "ID prefix", func(c Container) bool { return strings.HasPrefix(c.EngineID, target) }); found {
			return c, err
		}
	}
	if o, _, ok := strings.Cut(target, ":"); ok {
		return Container{}, fmt.Errorf("invalid target %q: no container has that name, and %q is not an origin (boxtui, docker, podman, lxc, nspawn, bwrap, kubernetes, unshare, or pid)", target, o)
	}
	if err := state.ValidateName(target); err != nil {
		return Container{}, fmt.Errorf("invalid target %q: no container has that name; give a container's name, ORIGIN:NAME, an ID prefix or a host PID (%v)", target, err)
	}
	return Container{}, notFound(target)
}

// notFound is the error for a boxtui-style name no container has, saying
// why when boxtui's state knows the name.
func notFound(name string) error {
	if st, err := state.Load(name); err == nil {
		if st.Status == state.StatusExited {
			return fmt.Errorf("container %q: %w (it exited; `boxtui rm %s` removes it)", name, ErrNotRunning, name)
		}
		return fmt.Errorf("container %q: %w (its init is gone)", name, ErrNotRunning)
	}
	return fmt.Errorf("no container named %q (see `boxtui ls`)", name)
}

// findPID resolves a host PID.
func (snap Snapshot) findPID(target string, pid int) (Container, error) {
	if pid <= 0 {
		return Container{}, fmt.Errorf("invalid target %q: a PID must be positive", target)
	}
	for _, c := range snap.Containers {
		if c.Status != state.StatusRunning {
			continue
		}
		for _, p := range c.Procs {
			if p.PID == pid {
				// nsenter -t PID: the process named, not its init.
				return c.WithNamed(ProcRef{PID: p.PID, StartTime: p.StartTime}), nil
			}
		}
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
		return Container{}, fmt.Errorf("target %d: %w (see `boxtui ls` for containers)", pid, procfs.ErrNoProcess)
	}
	ns := namespace.ReadLink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if ns != 0 && ns == snap.Host[namespace.PID] {
		return Container{}, fmt.Errorf("target %d: %w: it runs in boxtui's own PID namespace (see `boxtui ls` for containers)", pid, ErrNotInContainer)
	}
	if os.Geteuid() != 0 {
		return Container{}, fmt.Errorf("target %d: cannot inspect it (run as root, with sudo)", pid)
	}
	// Root and still unreadable: some hosts hide even from root the
	// namespace links of a process (this VM's PID 1, for one).
	return Container{}, fmt.Errorf("target %d: its namespaces cannot be read, even as root, so it is not known to be in a container (see `boxtui ls` for containers)", pid)
}

// findInOrigin resolves the NAME or ID prefix of ORIGIN:NAME.
func (snap Snapshot) findInOrigin(target string, o Origin, rest string) (Container, error) {
	if o == "pid" {
		if _, err := strconv.Atoi(rest); err == nil {
			return snap.Find(rest)
		}
		return Container{}, fmt.Errorf("invalid target %q: pid: takes a host PID", target)
	}
	if rest == "" {
		return Container{}, fmt.Errorf("invalid target %q: give a name or an ID prefix after %s:", target, o)
	}
	in := func(c Container) bool { return c.Origin == o }
	if c, found, err := snap.pick(target, "", func(c Container) bool { return in(c) && c.DisplayName() == rest }); found {
		return c, err
	}
	if isIDPrefix(rest) {
		if c, found, err := snap.pick(target, "ID prefix", func(c Container) bool { return in(c) && strings.HasPrefix(c.EngineID, rest) }); found {
			return c, err
		}
	}
	if o == OriginBoxtui && state.ValidateName(rest) == nil {
		return Container{}, notFound(rest)
	}
	return Container{}, fmt.Errorf("no %s container named %q or with an ID starting so (see `boxtui ls`)", o, rest)
}

// pick returns the one container match accepts; found is false when none
// does. Two or more are an error that lists them (what says what the
// target was taken as: a name, or an ID prefix). A boxtui container that
// exited is found, with ErrNotRunning.
func (snap Snapshot) pick(target, what string, match func(Container) bool) (c Container, found bool, err error) {
	var hits []Container
	for _, c := range snap.Containers {
		if match(c) {
			hits = append(hits, c)
		}
	}
	switch len(hits) {
	case 0:
		return Container{}, false, nil
	case 1:
		c := hits[0]
		if c.Status != state.StatusRunning {
			return Container{}, true, fmt.Errorf("container %q: %w (it exited; `boxtui rm %s` removes it)", c.Name, ErrNotRunning, c.Name)
		}
		return c, true, nil
	}
	if what == "" {
		what = "name"
	}
	var list []string
	for _, c := range hits {
		list = append(list, c.Handle())
	}
	return Container{}, true, fmt.Errorf("%s %q is ambiguous: %d containers have it (%s); give one of these", what, target, len(hits), strings.Join(list, ", "))
}

// Handle is how a TARGET can name c unambiguously, for lists of
// candidates: ORIGIN:NAME when it has a name, else ORIGIN:ID-PREFIX, with
// the init's PID beside it; "pid:PID" for a container known by neither.
func (c Container) Handle() string {
	pid := " (pid " + strconv.Itoa(c.PID) + ")"
	switch {
	case c.DisplayName() != "":
		return string(c.Origin) + ":" + c.DisplayName() + pid
	case c.EngineID != "":
		return string(c.Origin) + ":" + shortID(c.EngineID) + pid
	}
	return "pid:" + strconv.Itoa(c.PID)
}

// shortID is the 12-digit form of an ID docker and podman print.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// splitOriginTarget splits ORIGIN:REST, for a known origin (or "pid").
func splitOriginTarget(target string) (Origin, string, bool) {
	o, rest, ok := strings.Cut(target, ":")
	if !ok {
		return "", "", false
	}
	switch Origin(o) {
	case OriginBoxtui, OriginDocker, OriginPodman, OriginNspawn, OriginLXC, OriginBwrap, OriginKubernetes, OriginUnshare, "pid":
		return Origin(o), rest, true
	}
	return "", "", false
}

// isIDPrefix reports whether s can be a prefix of an engine's container ID:
// at least MinIDPrefix lowercase hex digits. Find takes an all-digit
// target for a PID first; after ORIGIN: it is an ID prefix.
func isIDPrefix(s string) bool {
	if len(s) < MinIDPrefix || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
