package backend

import (
	"boxtui/runtime"
	"boxtui/runtime/mounts"
	"boxtui/ui"
)

func init() {
	listMounts = func(c runtime.Container) ([]ui.Mount, error) {
		ms, err := mounts.List(c)
		if err != nil {
			return nil, err
		}
		out := make([]ui.Mount, len(ms))
		for i, m := range ms {
			out[i] = ui.Mount{Source: m.Source, Target: m.Target, FSType: m.FSType, ReadOnly: m.ReadOnly, Managed: m.Managed}
		}
		return out, nil
	}
	addMount = func(c runtime.Container, src, dst string, ro bool) error {
		return mounts.Add(c, src, dst, mounts.AddOptions{ReadOnly: ro, Mkdir: true})
	}
	addMountToProcess = func(pid int, start uint64, src, dst string, ro bool) error {
		target, err := mounts.CleanTarget("mount over", dst)
		if err != nil {
			return err
		}
		return mounts.AddToProcess(pid, start, src, target, mounts.AddOptions{ReadOnly: ro, Mkdir: true})
	}
	remountMount = mounts.Remount
	removeMount = mounts.Remove
}
