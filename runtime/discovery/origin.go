package discovery

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	"boxtui/runtime/engines"
	"boxtui/runtime/procfs"
)

// Origin says who made a container.
type Origin string

// The origins discovery tells apart. OriginUnshare is any PID namespace that
// no known runtime claims: a hand-made `unshare --pid --fork ...` container.
//
// OriginBoxtui comes only from boxtui's own state (matched by the init's PID
// and start time, see matchStates), never from anything a process or a
// cgroup says: the parsers here cannot return it.
const (
	OriginBoxtui     Origin = "boxtui"
	OriginDocker     Origin = "docker"
	OriginPodman     Origin = "podman"
	OriginNspawn     Origin = "nspawn"
	OriginLXC        Origin = "lxc"
	OriginBwrap      Origin = "bwrap"
	OriginKubernetes Origin = "kubernetes"
	OriginUnshare    Origin = "unshare"
)

// OriginFromCgroup guesses the runtime that made a process from the lines of
// its /proc/PID/cgroup (cgroup v1, hybrid or v2). It returns OriginUnshare
// when nothing matches. boxtui's own containers are recognised from its
// state, not from here.
//
// Within a path the outermost component that names an engine decides: the
// host's engine (or systemd for it) makes the top of a container's cgroup
// path, and a container with a delegated subtree can only add components
// below it. So a container cannot relabel itself, e.g. an LXC container
// whose init moves into a cgroup it names docker-x.scope stays lxc, and a
// Kubernetes pod run by docker (kubepods.slice/.../docker-ID.scope) is
// kubernetes. The first line (hierarchy) that names an engine wins.
func OriginFromCgroup(r io.Reader) Origin {
	// /proc/PID/cgroup is a few kB at most; a megabyte bounds a hostile
	// stream.
	data, _ := io.ReadAll(io.LimitReader(r, 1<<20))
	if o := originFromCgroupData(data); o != "" {
		return o
	}
	return OriginUnshare
}

// originFromCgroupData is OriginFromCgroup on the bytes of the file,
// without allocating; "" when no line names an engine.
func originFromCgroupData(data []byte) Origin {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if o := originFromCgroupLine(line); o != "" {
			return o
		}
	}
	return ""
}

// originFromCgroupLine reads one "hierarchy-ID:controllers:path" line.
func originFromCgroupLine(line []byte) Origin {
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return ""
	}
	j := bytes.IndexByte(line[i+1:], ':')
	if j < 0 {
		return ""
	}
	return originFromCgroupPath(line[i+1+j+1:])
}

// originFromCgroupPath returns the engine the outermost component of the
// cgroup path p names, or "".
func originFromCgroupPath(p []byte) Origin {
	first := true
	for len(p) > 0 {
		var c []byte
		if i := bytes.IndexByte(p, '/'); i >= 0 {
			c, p = p[:i], p[i+1:]
		} else {
			c, p = p, nil
		}
		if len(c) == 0 {
			continue
		}
		// A view of c, not a copy: the name is only compared.
		if o := originFromCgroupComponent(unsafe.String(&c[0], len(c)), first); o != "" {
			return o
		}
		first = false
	}
	return ""
}

// originFromCgroupComponent names the engine one cgroup directory name
// belongs to; first says it is the top one (directly under the root of
// the hierarchy). c must not be kept: it may be a view of a buffer.
func originFromCgroupComponent(c string, first bool) Origin {
	has := strings.HasPrefix
	switch {
	// Kubernetes: kubelet's pod cgroups, with the cgroupfs driver
	// (/kubepods/burstable/podUID/ID) or the systemd one
	// (/kubepods.slice/kubepods-burstable.slice/...), possibly under a
	// --cgroup-root (kind: /kubelet.slice/kubelet-kubepods.slice); and the
	// scopes of the CRI runtimes, which only Kubernetes drives.
	case c == "kubepods" || has(c, "kubepods.") || has(c, "kubepods-") || strings.Contains(c, "-kubepods"):
		return OriginKubernetes
	case has(c, "crio-") || has(c, "cri-containerd-"):
		return OriginKubernetes
	// Podman: libpod-ID.scope (systemd driver), libpod_parent/libpod-ID
	// (cgroupfs driver), machine-libpod_pod_ID.slice for a pod.
	case has(c, "libpod-") || c == "libpod_parent" || has(c, "machine-libpod"):
		return OriginPodman
	// Docker: docker-ID.scope (systemd driver), /docker/ID (cgroupfs).
	case has(c, "docker-") && strings.HasSuffix(c, ".scope"), c == "docker":
		return OriginDocker
	// systemd-nspawn registered with machined: machine-NAME.scope, or run
	// as systemd-nspawn@NAME.service.
	case has(c, "systemd-nspawn@"), has(c, "machine-") && strings.HasSuffix(c, ".scope"):
		return OriginNspawn
	// LXC: lxc.payload.NAME (4.0+) or lxc.payload/NAME, lxc.monitor.NAME,
	// and /lxc/NAME before 4.0.
	case has(c, "lxc.payload") || has(c, "lxc.monitor."), first && c == "lxc":
		return OriginLXC
	}
	return ""
}

// OriginFromCreator names the engine whose process made a PID namespace,
// from that process's executable (the target of /proc/PID/exe) and its
// comm: systemd-nspawn is the parent of an nspawn container's init, and
// bwrap of a bubblewrap sandbox's (with --unshare-pid bwrap forks a PID 1
// that is itself bwrap, which runs the command as PID 2; with --as-pid-1
// the command is PID 1; the outer bwrap is the parent either way). Both
// the executable's name (a " (deleted)" suffix is allowed: the package was
// upgraded under it) and comm must agree; "" otherwise.
//
// The creator is the init's parent, outside the container's PID namespace:
// nothing inside the container can change it. The init's own executable,
// comm and command line are the container's to choose, and are not read.
func OriginFromCreator(exe, comm string) Origin {
	exe = strings.TrimSuffix(exe, " (deleted)")
	if exe == "" || !strings.HasPrefix(exe, "/") {
		return ""
	}
	base := filepath.Base(exe)
	if base != comm {
		return ""
	}
	switch base {
	case "systemd-nspawn":
		return OriginNspawn
	case "bwrap":
		return OriginBwrap
	}
	return ""
}

// originOf decides the origin of the container whose init is described by
// its /proc/PID/cgroup (cgroup) and its parent's host PID and its own start
// time: the cgroup first (what the host's engines set up), then the
// process that made the namespace. buf is scratch space for reading the
// parent's stat; cgroup may live in it, as it is read before buf is reused.
func originOf(proc string, cgroup []byte, ppid int, initStart uint64, buf *[]byte) Origin {
	if o := originFromCgroupData(cgroup); o != "" {
		return o
	}
	if o := creatorOrigin(proc, ppid, initStart, buf); o != "" {
		return o
	}
	return OriginUnshare
}

// creatorOrigin is OriginFromCreator for the process ppid under proc. The
// parent must have started no later than the init, so a parent PID that
// was reused after the parent exited (the init then belongs to a
// subreaper, whose PID it would report) is not taken for the creator.
func creatorOrigin(proc string, ppid int, initStart uint64, buf *[]byte) Origin {
	if ppid <= 0 {
		return ""
	}
	base := proc + "/" + strconv.Itoa(ppid)
	data, err := procfs.ReadFileInto(base+"/stat", buf)
	if err != nil {
		return ""
	}
	st, err := procfs.ParseStat(data)
	if err != nil || st.StartTime > initStart {
		return ""
	}
	// Cheap test before the readlink: only two names matter.
	if st.Comm != "systemd-nspawn" && st.Comm != "bwrap" {
		return ""
	}
	exe, err := os.Readlink(base + "/exe")
	if err != nil {
		return ""
	}
	return OriginFromCreator(exe, st.Comm)
}

// originAndEngine is originOf, with the engine and key the same cgroup
// lines give (engines.RefFromCgroup) for naming the container; an nspawn
// container found by its creator has no key: it is named through its init.
func originAndEngine(proc string, cgroup []byte, ppid int, initStart uint64, buf *[]byte) (Origin, engines.Ref) {
	if o := originFromCgroupData(cgroup); o != "" {
		return o, engines.RefFromCgroup(cgroup)
	}
	o := originOf(proc, cgroup, ppid, initStart, buf)
	if o == OriginNspawn {
		return o, engines.Ref{Engine: engines.Nspawn}
	}
	return o, engines.Ref{}
}
