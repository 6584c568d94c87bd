package mounts

import (
	"fmt"
	"path/filepath"
	"strings"

	"boxtui/runtime/state"
)

// ParseVolume parses a `run -v` argument, HOST:CTR[:ro|:rw], into the
// record of the mount it asks for: the host path made absolute (relative
// to the working directory) and the container path checked and cleaned by
// CleanTarget. Neither path may contain ':' (as with docker -v). It only
// parses; whether the host path exists is for AddToProcess to find out.
func ParseVolume(spec string) (state.MountRecord, error) {
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return state.MountRecord{}, fmt.Errorf("invalid volume %q: use HOSTPATH:CTRPATH or HOSTPATH:CTRPATH:ro", spec)
	}
	rec := state.MountRecord{}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			rec.ReadOnly = true
		case "rw":
		default:
			return state.MountRecord{}, fmt.Errorf("invalid volume %q: unknown option %q (use ro or rw)", spec, parts[2])
		}
	}
	if parts[0] == "" {
		return state.MountRecord{}, fmt.Errorf("invalid volume %q: no host path before the ':'", spec)
	}
	src, err := filepath.Abs(parts[0])
	if err != nil {
		return state.MountRecord{}, fmt.Errorf("invalid volume %q: %w", spec, err)
	}
	target, err := CleanTarget("mount over", parts[1])
	if err != nil {
		return state.MountRecord{}, fmt.Errorf("invalid volume %q: %w", spec, err)
	}
	rec.Source, rec.Target = src, target
	return rec, nil
}

// AtLaunch returns a launch.Options.Prepare function that attaches ms into
// a container's mount namespace after its init set up its root and before
// it execs its command: `boxtui run -v` and the launch form use it, so a
// launch-time mount is made by the same engine as a hot-plugged one. A
// missing target directory (or file) is created inside the container root.
func AtLaunch(ms []state.MountRecord) func(initPID int) error {
	return func(initPID int) error {
		for _, m := range ms {
			if err := AddToProcess(initPID, 0, m.Source, m.Target, AddOptions{ReadOnly: m.ReadOnly, Mkdir: true}); err != nil {
				return fmt.Errorf("bind %s at %s: %w", m.Source, m.Target, err)
			}
		}
		return nil
	}
}
