package runtime

import (
	"errors"
	"fmt"
	"os"
	"strconv"
)

// ErrNotInContainer is returned for a PID that runs in boxtui's own PID
// namespace, i.e. on the host.
var ErrNotInContainer = errors.New("not in a container")

// ErrNotRunning is returned for a boxtui container that has exited.
var ErrNotRunning = errors.New("container is not running")

// FindContainer resolves a TARGET as the CLI takes it: a boxtui container
// name, or the host PID of any process inside a container. The returned
// container comes from a fresh scan with every process's namespaces read.
// A host PID other than the init's is kept in Container.Named: exec and
// mounts act in that process's namespaces (nsenter -t PID semantics).
func FindContainer(target string) (Container, error) {
	snap, err := Scan(ScanOptions{ProcessNamespaces: true})
	if err != nil {
		return Container{}, err
	}
	return snap.Find(target)
}

// Find resolves target (a boxtui name or a host PID) within the snapshot.
func (snap Snapshot) Find(target string) (Container, error) {
	if target == "" {
		return Container{}, fmt.Errorf("no target given: name a boxtui container or the host PID of a process in a container")
	}
	if pid, err := strconv.Atoi(target); err == nil {
		if pid <= 0 {
			return Container{}, fmt.Errorf("invalid target %q: a PID must be positive", target)
		}
		for _, c := range snap.Containers {
			if c.Status != StatusRunning {
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
			return Container{}, fmt.Errorf("target %d: %w (see `boxtui ls` for containers)", pid, ErrNoProcess)
		}
		ns := readNSLink(fmt.Sprintf("/proc/%d/ns/pid", pid))
		if ns != 0 && ns == snap.Host[NSPID] {
			return Container{}, fmt.Errorf("target %d: %w: it runs in boxtui's own PID namespace (see `boxtui ls` for containers)", pid, ErrNotInContainer)
		}
		if os.Geteuid() != 0 {
			return Container{}, fmt.Errorf("target %d: cannot inspect it (run as root, with sudo)", pid)
		}
		// Root and still unreadable: some hosts hide even from root the
		// namespace links of a process (this VM's PID 1, for one).
		return Container{}, fmt.Errorf("target %d: its namespaces cannot be read, even as root, so it is not known to be in a container (see `boxtui ls` for containers)", pid)
	}
	if err := ValidateName(target); err != nil {
		return Container{}, fmt.Errorf("invalid target %q: give a boxtui container name or a host PID (%v)", target, err)
	}
	for _, c := range snap.Containers {
		if c.Name == target {
			if c.Status != StatusRunning {
				return Container{}, fmt.Errorf("container %q: %w (it exited; `boxtui rm %s` removes it)", target, ErrNotRunning, target)
			}
			return c, nil
		}
	}
	if st, err := LoadState(target); err == nil {
		if st.Status == StatusExited {
			return Container{}, fmt.Errorf("container %q: %w (it exited; `boxtui rm %s` removes it)", target, ErrNotRunning, target)
		}
		return Container{}, fmt.Errorf("container %q: %w (its init is gone)", target, ErrNotRunning)
	}
	return Container{}, fmt.Errorf("no container named %q (see `boxtui ls`)", target)
}
