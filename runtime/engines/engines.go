// Package engines names the containers other engines made: docker,
// podman, CRI-O, containerd (Kubernetes), LXC and systemd-nspawn. Each
// engine is read from what it documents or keeps itself, never from a
// command line:
//
//   - the init's cgroup path, which the host's engine sets up and a
//     container cannot change above its own cgroup, gives the engine and
//     its key (a container ID, an LXC or nspawn machine name): see
//     RefFromCgroup;
//   - the engine's state on disk maps that key to the name a user knows:
//     docker's containers/ID/config.v2.json, containers/storage's
//     containers.json (podman, CRI-O), containerd's task bundle
//     config.json (Kubernetes annotations), LXC's lxcpath, systemd-machined's
//     /run/systemd/machines/NAME and, for an nspawn container that is not
//     registered, the directory nspawn made for it under
//     /run/systemd/nspawn/propagate, matched by inode to the one mounted
//     in the container;
//   - docker's Engine API over its unix socket (one read-only GET), only
//     when its state on disk cannot be read, and time-boxed.
//
// Everything here is read from root-owned places, but names are chosen by
// users: callers treat them as untrusted text. Files are opened below their
// engine's directory without following symlinks, and read with size
// limits.
//
// It imports only the standard library, x/sys and internal/openat2: it is
// initialised before `boxtui ls` runs from lscmd's package init (see
// docs/architecture.md).
package engines

import (
	"bytes"
	"strings"
	"sync"
	"time"
)

// Engines a Ref names. Several engines can sit behind one origin: a
// Kubernetes pod's container is run by CRI-O, containerd or docker.
const (
	Docker     = "docker"
	Podman     = "podman"
	CRIO       = "cri-o"
	Containerd = "containerd"
	Kubernetes = "kubernetes" // a kubepods cgroup whose runtime is not named
	LXC        = "lxc"
	Nspawn     = "nspawn"
)

// Ref is what discovery knows of one container before asking its engine.
type Ref struct {
	Engine string // one of the constants above, "" when no engine claims the cgroup
	// Key is the engine's ID for the container (64 hex digits) or, for LXC
	// and nspawn, its name, as the cgroup path gives it; "" when the path
	// does not give one (an nspawn container that is not registered).
	Key string
	// PID is the host PID of the container's init; nspawn's unregistered
	// containers are found through it.
	PID int
}

// Identity is the engine's name and ID for a container.
type Identity struct {
	Name string // "" when unknown
	ID   string // "" for engines without IDs (LXC, unregistered nspawn)
}

// Resolver looks up identities, remembering what it read (keyed by the
// files' identity and modification time) so that the UI's rescan every
// second rereads nothing that did not change. It is safe for concurrent
// use.
type Resolver struct {
	mu sync.Mutex
	// Paths, replaceable by tests; empty means the engine's default (or its
	// configuration file's setting).
	DockerRoot    string // /var/lib/docker or daemon.json's data-root
	DockerSocket  string // /var/run/docker.sock or DOCKER_HOST's unix:// path
	StorageRoot   string // /var/lib/containers/storage or storage.conf's graphroot
	StorageRun    string // /run/containers/storage or storage.conf's runroot
	LXCPath       string // /var/lib/lxc or lxc.conf's lxc.lxcpath
	MachinesDir   string // /run/systemd/machines
	PropagateDir  string // /run/systemd/nspawn/propagate
	ContainerdRun []string
	Proc          string // /proc
	// DaemonTimeout bounds a whole request to docker's API.
	DaemonTimeout time.Duration

	configured bool
	dirs       map[string]int       // engine directories opened by this Resolve
	files      map[string]fileEntry // parsed state files by path
	daemonDown time.Time            // docker's API failed: not asked again before this
}

// DefaultDaemonTimeout is how long `ls` waits at most for docker's API,
// which is asked only when docker's state on disk cannot be read.
const DefaultDaemonTimeout = 50 * time.Millisecond

// daemonRetry is how long a Resolver leaves docker's API alone after it
// failed or timed out.
const daemonRetry = 10 * time.Second

// Default is the Resolver discovery uses.
var Default = &Resolver{}

// Resolve returns the identity of each ref (the zero Identity when its
// engine does not say). It never fails: an engine whose state cannot be
// read, or whose daemon is down or slow, leaves its containers unnamed.
func (r *Resolver) Resolve(refs []Ref) []Identity {
	out := make([]Identity, len(refs))
	if len(refs) == 0 {
		return out
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.configure()
	defer r.prune()
	defer r.closeDirs()
	var dockerMissing []int
	for i, ref := range refs {
		switch ref.Engine {
		case Docker:
			id, ok := r.dockerFromDisk(ref.Key)
			if !ok {
				dockerMissing = append(dockerMissing, i)
			}
			out[i] = id
		case Podman, CRIO:
			out[i] = r.fromStorage(ref.Key)
		case Containerd:
			out[i] = r.fromContainerd(ref.Key)
		case Kubernetes:
			// The runtime is not named: try those that keep state.
			if id := r.fromContainerd(ref.Key); id.Name != "" {
				out[i] = id
			} else if id := r.fromStorage(ref.Key); id.Name != "" {
				out[i] = id
			} else if id, ok := r.dockerFromDisk(ref.Key); ok {
				out[i] = id
			} else {
				out[i] = Identity{ID: ref.Key}
			}
		case LXC:
			out[i] = r.lxc(ref.Key)
		case Nspawn:
			out[i] = r.nspawn(ref.Key, ref.PID)
		}
	}
	if len(dockerMissing) > 0 {
		names := r.dockerFromAPI()
		for _, i := range dockerMissing {
			if n, ok := names[refs[i].Key]; ok {
				out[i].Name = n
			}
		}
	}
	return out
}

// RefFromCgroup reads the lines of a /proc/PID/cgroup file and returns the
// engine and key the first line naming an engine gives (see
// RefFromCgroupPath).
func RefFromCgroup(data []byte) Ref {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		i := bytes.IndexByte(line, ':')
		if i < 0 {
			continue
		}
		rest := line[i+1:]
		j := bytes.IndexByte(rest, ':')
		if j < 0 {
			continue
		}
		if ref := RefFromCgroupPath(string(rest[j+1:])); ref.Engine != "" {
			return ref
		}
	}
	return Ref{}
}

// RefFromCgroupPath returns the engine and key of a cgroup path. As for
// the origin (discovery.OriginFromCgroup), the outermost component that
// names an engine decides, and the key is read at that component or the
// one right below it: a container with a delegated subtree can only add
// components further down, so it cannot pass itself off as another
// container. Only a Kubernetes pod's cgroup is searched below the pod,
// for the first component that is a container ID: the pod's runtime made
// it, and the container's own cgroup is beneath it.
func RefFromCgroupPath(p string) Ref {
	comps := make([]string, 0, 8)
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			comps = append(comps, c)
		}
	}
	has := strings.HasPrefix
	next := func(i int) string {
		if i+1 < len(comps) {
			return comps[i+1]
		}
		return ""
	}
	for i, c := range comps {
		switch {
		case c == "kubepods" || has(c, "kubepods.") || has(c, "kubepods-") || strings.Contains(c, "-kubepods"):
			for _, d := range comps[i+1:] {
				if ref, ok := criScope(d); ok {
					return ref
				}
				if isID(d) {
					return Ref{Engine: Kubernetes, Key: d}
				}
			}
			return Ref{Engine: Kubernetes}
		case has(c, "crio-") || has(c, "cri-containerd-"):
			ref, _ := criScope(c)
			if ref.Engine == "" {
				ref.Engine = Kubernetes
			}
			return ref
		case has(c, "libpod-") || c == "libpod_parent" || has(c, "machine-libpod"):
			// libpod-ID.scope (systemd), libpod_parent/libpod-ID
			// (cgroupfs), machine-libpod_pod_POD.slice/libpod-ID.scope (a
			// pod): the ID is here or one level down.
			for _, d := range []string{c, next(i)} {
				if id := trimScope(strings.TrimPrefix(d, "libpod-")); d != id && isID(id) {
					return Ref{Engine: Podman, Key: id}
				}
			}
			return Ref{Engine: Podman}
		case has(c, "docker-") && strings.HasSuffix(c, ".scope"):
			return Ref{Engine: Docker, Key: idOrEmpty(trimScope(c[len("docker-"):]))}
		case c == "docker":
			return Ref{Engine: Docker, Key: idOrEmpty(next(i))}
		case has(c, "systemd-nspawn@") && strings.HasSuffix(c, ".service"):
			return Ref{Engine: Nspawn, Key: unescapeUnit(c[len("systemd-nspawn@") : len(c)-len(".service")])}
		case has(c, "machine-") && strings.HasSuffix(c, ".scope"):
			return Ref{Engine: Nspawn, Key: unescapeUnit(c[len("machine-") : len(c)-len(".scope")])}
		case has(c, "lxc.payload."):
			return Ref{Engine: LXC, Key: c[len("lxc.payload."):]}
		case has(c, "lxc.monitor."):
			return Ref{Engine: LXC, Key: c[len("lxc.monitor."):]}
		case c == "lxc.payload", i == 0 && c == "lxc":
			return Ref{Engine: LXC, Key: next(i)}
		}
	}
	return Ref{}
}

// criScope reads a CRI runtime's scope name: crio-ID.scope (CRI-O; its
// conmon's crio-conmon-ID.scope is not a container) or
// cri-containerd-ID.scope, and docker-ID.scope under a pod.
func criScope(c string) (Ref, bool) {
	for _, e := range []struct{ prefix, engine string }{
		{"crio-", CRIO}, {"cri-containerd-", Containerd}, {"docker-", Docker},
	} {
		if strings.HasPrefix(c, e.prefix) {
			if id := trimScope(c[len(e.prefix):]); isID(id) {
				return Ref{Engine: e.engine, Key: id}, true
			}
		}
	}
	return Ref{}, false
}

func trimScope(s string) string { return strings.TrimSuffix(s, ".scope") }

// isID reports whether s is a 64-digit lowercase hex container ID, the form
// docker, podman, CRI-O and containerd (under Kubernetes) use.
func isID(s string) bool {
	if len(s) != 64 {
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

func idOrEmpty(s string) string {
	if isID(s) {
		return s
	}
	return ""
}

// unescapeUnit undoes systemd's unit-name escaping (\xHH, as
// systemd-escape writes it) of a machine name in a scope or service name.
// An escape that is not two hex digits stays as it is.
func unescapeUnit(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if hi, ok := unhex(s[i+2]); ok {
				if lo, ok := unhex(s[i+3]); ok {
					b.WriteByte(hi<<4 | lo)
					i += 3
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
