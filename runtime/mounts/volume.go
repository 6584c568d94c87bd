package mounts

import (
	"fmt"
	"path/filepath"
	"strings"

	"boxtui/runtime"
)

// ParseVolume parses a `run -v` argument, HOST:CTR[:ro|:rw], into the
// record of the mount it asks for: the host path made absolute (relative
// to the working directory) and the container path checked and cleaned by
// CleanTarget. Neither path may contain ':' (as with docker -v). It only
// parses; whether the host path exists is for AddToProcess to find out.
func ParseVolume(spec string) (runtime.MountRecord, error) {
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return runtime.MountRecord{}, fmt.Errorf("invalid volume %q: use HOSTPATH:CTRPATH or HOSTPATH:CTRPATH:ro", spec)
	}
	rec := runtime.MountRecord{}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			rec.ReadOnly = true
		case "rw":
		default:
			return runtime.MountRecord{}, fmt.Errorf("invalid volume %q: unknown option %q (use ro or rw)", spec, parts[2])
		}
	}
	if parts[0] == "" {
		return runtime.MountRecord{}, fmt.Errorf("invalid volume %q: no host path before the ':'", spec)
	}
	src, err := filepath.Abs(parts[0])
	if err != nil {
		return runtime.MountRecord{}, fmt.Errorf("invalid volume %q: %w", spec, err)
	}
	target, err := CleanTarget("mount over", parts[1])
	if err != nil {
		return runtime.MountRecord{}, fmt.Errorf("invalid volume %q: %w", spec, err)
	}
	rec.Source, rec.Target = src, target
	return rec, nil
}
