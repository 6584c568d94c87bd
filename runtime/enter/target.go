package enter

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"boxtui/runtime"
)

// FindContainer resolves a TARGET (a boxtui container name or the host PID
// of any process in a container) to the container's init, like
// runtime.FindContainer, but without scanning all of /proc when it can: a
// PID is followed up its parents to the PID 1 of its namespace, a name is
// read from its state file. The Container it returns this way carries only
// what Start and the caller need: Name, PID, StartTime, Comm, Command,
// Root, Origin, Namespaces and Status (no Procs, no Processes count). Whenever the short way does not
// apply, and for every error, it falls back to runtime.FindContainer, so
// the results and error messages are the same.
func FindContainer(target string) (runtime.Container, error) {
	if c, ok := findFast(target); ok {
		return c, nil
	}
	return runtime.FindContainer(target)
}

// maxAncestors bounds the walk up the parents; process trees are rarely
// deeper than a few levels, and a deep one just takes the slow way.
const maxAncestors = 64

func findFast(target string) (runtime.Container, bool) {
	hostPID := nsLink("/proc/self/ns/pid")
	if hostPID == "" {
		return runtime.Container{}, false
	}
	if pid, err := strconv.Atoi(target); err == nil {
		if pid <= 0 {
			return runtime.Container{}, false
		}
		return initOf(pid, hostPID)
	}
	if runtime.ValidateName(target) != nil {
		return runtime.Container{}, false
	}
	st, err := runtime.LoadState(target)
	if err != nil || st.InitPID <= 0 || st.Status == runtime.StatusExited {
		return runtime.Container{}, false
	}
	c, ok := containerOf(st.InitPID, hostPID)
	if !ok || c.StartTime != st.InitStart {
		return runtime.Container{}, false
	}
	c.Name = st.Name
	c.Origin = runtime.OriginBoxtui
	return c, true
}

// initOf walks from pid up its parents while they stay in pid's PID
// namespace, to the process that is PID 1 there. A process that joined the
// namespace from outside (its parent is not inside) ends the walk early:
// the caller then scans.
func initOf(pid int, hostPID string) (runtime.Container, bool) {
	ns := nsLink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if ns == "" || ns == hostPID {
		return runtime.Container{}, false
	}
	for range maxAncestors {
		status, ok := readStatus(pid)
		if !ok {
			return runtime.Container{}, false
		}
		if status.InnerPID() == 1 {
			return containerOf(pid, hostPID)
		}
		pid = status.PPid
		if pid <= 0 || nsLink(fmt.Sprintf("/proc/%d/ns/pid", pid)) != ns {
			return runtime.Container{}, false
		}
	}
	return runtime.Container{}, false
}

// containerOf describes the container whose init is pid, or fails if pid
// is not a namespace init outside boxtui's own PID namespace.
func containerOf(pid int, hostPID string) (runtime.Container, bool) {
	base := fmt.Sprintf("/proc/%d", pid)
	if ns := nsLink(base + "/ns/pid"); ns == "" || ns == hostPID {
		return runtime.Container{}, false
	}
	status, ok := readStatus(pid)
	if !ok || status.InnerPID() != 1 {
		return runtime.Container{}, false
	}
	data, err := os.ReadFile(base + "/stat")
	if err != nil {
		return runtime.Container{}, false
	}
	stat, err := runtime.ParseStat(data)
	if err != nil {
		return runtime.Container{}, false
	}
	nss, err := runtime.ReadNamespaces(pid)
	if err != nil {
		return runtime.Container{}, false
	}
	c := runtime.Container{
		PID:        pid,
		Comm:       stat.Comm,
		Command:    stat.Comm,
		StartTime:  stat.StartTime,
		Namespaces: nss,
		Status:     runtime.StatusRunning,
		Origin:     runtime.OriginUnshare,
	}
	if f, err := os.Open(base + "/cgroup"); err == nil {
		c.Origin = runtime.OriginFromCgroup(f)
		f.Close()
	}
	if data, err := os.ReadFile(base + "/cmdline"); err == nil {
		if args := runtime.ParseCmdline(data); len(args) > 0 {
			c.Command = strings.Join(args, " ")
		}
	}
	if root, err := os.Readlink(base + "/root"); err == nil {
		c.Root = root
	}
	return c, true
}

func readStatus(pid int) (runtime.Status, bool) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return runtime.Status{}, false
	}
	defer f.Close()
	st, err := runtime.ParseStatus(f)
	return st, err == nil
}

func nsLink(path string) string {
	link, err := os.Readlink(path)
	if err != nil {
		return ""
	}
	return link
}
