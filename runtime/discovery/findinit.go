package discovery

import (
	"fmt"
	"strconv"

	"boxtui/runtime/namespace"
	"boxtui/runtime/procfs"
	"boxtui/runtime/state"
)

// FindInit resolves a TARGET like FindContainer, but without scanning all of
// /proc when it can: a PID is followed up its parents to the PID 1 of its
// namespace, a name is read from its state file. The Container it returns
// this way carries what entering or signalling needs — Name, PID,
// StartTime, Comm, Command, Root, Origin, Namespaces, Status — but no Procs
// and no process count. Whenever the short way does not apply, and for
// every error, it falls back to FindContainer, so results and messages are
// the same.
func FindInit(target string) (Container, error) {
	if c, ok := findInitFast(target); ok {
		return c, nil
	}
	return FindContainer(target)
}

// maxAncestors bounds the walk up the parents; process trees are rarely
// deeper than a few levels, and a deep one just takes the slow way.
const maxAncestors = 64

func findInitFast(target string) (Container, bool) {
	hostPID := namespace.ReadLink("/proc/self/ns/pid")
	if hostPID == 0 {
		return Container{}, false
	}
	if pid, err := strconv.Atoi(target); err == nil {
		if pid <= 0 {
			return Container{}, false
		}
		start := procfs.LiveStartTime(pid)
		c, ok := initOf(pid, hostPID)
		if !ok || start == 0 {
			return Container{}, false
		}
		// The process named, read before the walk: a PID reused since
		// shows another start time at entry and is refused there.
		return c.WithNamed(ProcRef{PID: pid, StartTime: start}), true
	}
	if state.ValidateName(target) != nil {
		return Container{}, false
	}
	st, err := state.Load(target)
	if err != nil || st.InitPID <= 0 || st.Status == state.StatusExited {
		return Container{}, false
	}
	c, ok := describeInit(st.InitPID, hostPID)
	if !ok || c.StartTime != st.InitStart {
		return Container{}, false
	}
	c.Name = st.Name
	c.Origin = OriginBoxtui
	c.Mounts = st.Mounts
	return c, true
}

// initOf walks from pid up its parents while they stay in pid's PID
// namespace, to the process that is PID 1 there. A process that joined the
// namespace from outside (its parent is not inside) ends the walk early:
// the caller then scans.
func initOf(pid int, hostPID uint64) (Container, bool) {
	ns := namespace.ReadLink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if ns == 0 || ns == hostPID {
		return Container{}, false
	}
	for range maxAncestors {
		status, ok := procfs.ReadStatus(pid)
		if !ok {
			return Container{}, false
		}
		if status.InnerPID() == 1 {
			return describeInit(pid, hostPID)
		}
		pid = status.PPid
		if pid <= 0 || namespace.ReadLink(fmt.Sprintf("/proc/%d/ns/pid", pid)) != ns {
			return Container{}, false
		}
	}
	return Container{}, false
}

// describeInit describes the container whose init is pid, or fails if pid
// is not a namespace init outside boxtui's own PID namespace. It reads the
// init as a scan does (Scanner.details and Scanner.describeInit): the
// short way and the scan describe a container with one piece of code.
func describeInit(pid int, hostPID uint64) (Container, bool) {
	ns := namespace.ReadLink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if ns == 0 || ns == hostPID {
		return Container{}, false
	}
	s := newOneShotScanner("/proc")
	buf := make([]byte, 0, 4096)
	init := rawProc{pid: pid, pidNS: ns}
	if !s.details(&init, &buf) || init.cache.status.InnerPID() != 1 {
		return Container{}, false
	}
	return s.describeInit(init, 0, procfs.BootTime(), &buf)
}
