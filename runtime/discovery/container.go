package discovery

import (
	"encoding/json"
	"strconv"
	"time"

	"boxtui/runtime/engines"
	"boxtui/runtime/namespace"
	"boxtui/runtime/state"
)

// Process is one process of a container, seen from the host.
type Process struct {
	PID       int    `json:"pid"`       // host PID
	InnerPID  int    `json:"inner_pid"` // PID inside the container's PID namespace
	PPID      int    `json:"ppid"`      // host PID of the parent
	UID       int    `json:"uid"`
	Comm      string `json:"comm"`
	Command   string `json:"command"`
	StartTime uint64 `json:"start_time"` // clock ticks after boot
	// CPUTicks is user+system time so far, in clock ticks.
	CPUTicks uint64 `json:"cpu_ticks"`
	RSSBytes int64  `json:"rss_bytes"`
	// Namespaces are the process's own links: a process that entered the
	// container with its own mount namespace (the seed's second shell) shows
	// a different mnt here than the init.
	Namespaces namespace.Set `json:"namespaces"`
}

// Container is a group of processes that share a PID namespace other than
// the one boxtui runs in.
type Container struct {
	// Name is the boxtui name; empty when boxtui did not make it. In JSON,
	// "name" is the name a user knows the container by: this one, else
	// EngineName (see MarshalJSON).
	Name string `json:"name"`
	// EngineID is the ID the container's engine gives it (docker, podman,
	// CRI-O, containerd: 64 hex digits; a registered nspawn machine: its
	// 128-bit ID), "" when it has none or it could not be read.
	EngineID string `json:"engine_id"`
	// EngineName is the name the container's engine gives it (docker's
	// and podman's --name, the LXC container, the nspawn machine, a
	// Kubernetes POD/CONTAINER), read from the engine's own state (see
	// runtime/engines); "" for boxtui's own containers and when unknown.
	// It is text a user chose: print it escaped.
	EngineName string `json:"-"`
	PID        int    `json:"pid"` // host PID of the init (PID 1 inside)
	Origin     Origin `json:"origin"`
	Command    string `json:"command"`
	Comm       string `json:"comm"`
	Root       string `json:"root"`
	Processes  int    `json:"processes"`
	// Namespaces are the init's links.
	Namespaces namespace.Set `json:"namespaces"`
	StartTime  uint64        `json:"start_time"` // clock ticks after boot, of the init
	Started    time.Time     `json:"started"`
	// Parent is the init PID of the container this one is nested in, 0 when
	// its PID namespace is a child of boxtui's own.
	Parent int `json:"parent,omitempty"`
	// Status is "running" for every discovered container; `ls -a` adds
	// exited boxtui containers with StatusExited and their exit status.
	Status     string `json:"status"`
	ExitCode   *int   `json:"exit_code,omitempty"`
	ExitSignal string `json:"exit_signal,omitempty"`
	// Mounts are the bind mounts boxtui added (from its state).
	Mounts []state.MountRecord `json:"mounts,omitempty"`
	// HolderPID is the PID of the process that holds the console of a
	// boxtui container (0 for others, or when the holder is gone).
	HolderPID int `json:"holder_pid,omitempty"`
	// Procs lists the container's own processes (not those of nested
	// containers), init first, then by inner PID.
	Procs []Process `json:"procs,omitempty"`
	// Named is the process a TARGET named when that is not the init: a
	// host PID of another process of the container. exec, mount, remount,
	// umount and mounts act in its namespaces, root and working directory,
	// as nsenter -t PID does; the container (history, records, kill)
	// stays the init's. Zero for a name or the init's own PID.
	Named ProcRef `json:"-"`

	// engine is what the init's cgroup (or its creator) says about the
	// engine that made it, for naming it.
	engine engines.Ref
}

// DisplayName is the name a user knows c by: its boxtui name, else its
// engine's; "" when it has neither.
func (c Container) DisplayName() string {
	if c.Name != "" {
		return c.Name
	}
	return c.EngineName
}

// containerJSON is Container without its JSON methods.
type containerJSON Container

// MarshalJSON writes c with "name" set to DisplayName: the name a user knows
// it by, whichever made it.
func (c Container) MarshalJSON() ([]byte, error) {
	j := containerJSON(c)
	j.Name = c.DisplayName()
	return json.Marshal(j)
}

// ContainersJSON returns cs as MarshalJSON writes each, in a form that
// encodes in one pass: a MarshalJSON call per container makes
// encoding/json encode each separately and then reparse its output, which
// cost `ls --json` about 25 µs per container.
func ContainersJSON(cs []Container) any {
	out := make([]containerJSON, len(cs))
	for i, c := range cs {
		out[i] = containerJSON(c)
		out[i].Name = c.DisplayName()
	}
	return out
}

// UnmarshalJSON reads what MarshalJSON writes: "name" is the boxtui name of
// a boxtui container and the engine's name of any other.
func (c *Container) UnmarshalJSON(b []byte) error {
	var j containerJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*c = Container(j)
	if c.Origin != OriginBoxtui {
		c.EngineName, c.Name = c.Name, ""
	}
	return nil
}

// ProcRef names one process by host PID and start time (clock ticks after
// boot), so a PID reused by another process is never mistaken for it.
type ProcRef struct {
	PID       int
	StartTime uint64
}

// EntryProcess is the process whose namespaces, root and working directory
// exec and mounts act in: the one the TARGET named, else the init.
func (c Container) EntryProcess() ProcRef {
	if c.Named.PID > 0 {
		return c.Named
	}
	return ProcRef{PID: c.PID, StartTime: c.StartTime}
}

// WithNamed returns c acting in process p (nsenter -t p): p must be one of
// c's processes. The init itself, or a zero p, leaves Named unset.
func (c Container) WithNamed(p ProcRef) Container {
	if p.PID <= 0 || p.PID == c.PID {
		c.Named = ProcRef{}
		return c
	}
	c.Named = p
	return c
}

// Target names c the way the CLI takes a TARGET and the action log writes
// it: its boxtui name, else "pid:" and its init's host PID.
func (c Container) Target() string {
	if c.Name != "" {
		return c.Name
	}
	return "pid:" + strconv.Itoa(c.PID)
}

// Snapshot is the result of one scan.
type Snapshot struct {
	Host       namespace.Set // boxtui's own namespaces, the "host" reference
	Containers []Container   // sorted by init start time, then PID
	// Warnings are problems that did not stop the scan (an unreadable state
	// file, not being root).
	Warnings []error
	Took     time.Duration
}
