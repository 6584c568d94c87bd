package runtime

import (
	"bufio"
	"io"
	"strings"
)

// Origin says who made a container.
type Origin string

// The origins discovery tells apart. OriginUnshare is any PID namespace that
// no known runtime claims: a hand-made `unshare --pid --fork ...` container.
const (
	OriginBoxtui  Origin = "boxtui"
	OriginDocker  Origin = "docker"
	OriginPodman  Origin = "podman"
	OriginNspawn  Origin = "nspawn"
	OriginLXC     Origin = "lxc"
	OriginUnshare Origin = "unshare"
)

// OriginFromCgroup guesses the runtime that made a process from the lines of
// its /proc/PID/cgroup. It returns OriginUnshare when nothing matches.
// boxtui's own containers are recognised from its state, not from here.
func OriginFromCgroup(r io.Reader) Origin {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		// hierarchy-ID:controllers:path
		line := sc.Text()
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if o := originFromCgroupPath(parts[2]); o != "" {
			return o
		}
	}
	return OriginUnshare
}

func originFromCgroupPath(p string) Origin {
	switch {
	case strings.Contains(p, "/libpod-") || strings.Contains(p, "/libpod_parent") || strings.Contains(p, "/machine.slice/libpod"):
		return OriginPodman
	case strings.Contains(p, "/docker-") || strings.HasPrefix(p, "/docker/") || strings.Contains(p, "/docker/"):
		return OriginDocker
	case strings.Contains(p, "systemd-nspawn@") || (strings.Contains(p, "/machine.slice/machine-") && !strings.Contains(p, "libpod")):
		return OriginNspawn
	case strings.HasPrefix(p, "/lxc/") || strings.HasPrefix(p, "/lxc.payload") || strings.Contains(p, "/lxc.payload.") || strings.Contains(p, "/lxc.monitor."):
		return OriginLXC
	}
	return ""
}
