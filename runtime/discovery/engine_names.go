package discovery

import (
	"boxtui/runtime/engines"
	"boxtui/runtime/state"
)

// engineResolver names engines' containers; tests point it at fake state.
var engineResolver = engines.Default

// nameEngineContainers asks each running container's engine for its name
// and ID (runtime/engines: its state on disk, docker's API only when that
// cannot be read, time-boxed). boxtui's own containers keep their names.
//
// A container nested in another with the same engine key (a PID namespace
// made inside a docker container shares its cgroup) is not named after
// it: the name belongs to the outer one.
func nameEngineContainers(snap *Snapshot) {
	var refs []engines.Ref
	var idx []int
	for i, c := range snap.Containers {
		if c.Status != state.StatusRunning || c.Origin == OriginBoxtui || c.engine.Engine == "" {
			continue
		}
		refs = append(refs, c.engine)
		idx = append(idx, i)
	}
	if len(refs) == 0 {
		return
	}
	ids := engineResolver.Resolve(refs)
	byPID := make(map[int]int, len(snap.Containers))
	for i, c := range snap.Containers {
		byPID[c.PID] = i
	}
	for k, i := range idx {
		c := &snap.Containers[i]
		if nestedInSameEngine(snap, byPID, *c) {
			continue
		}
		c.EngineName, c.EngineID = ids[k].Name, ids[k].ID
	}
}

// nestedInSameEngine reports whether one of c's outer containers has the
// same engine key (and so the same cgroup container).
func nestedInSameEngine(snap *Snapshot, byPID map[int]int, c Container) bool {
	if c.engine.Key == "" {
		return false
	}
	for p, n := c.Parent, 0; p != 0 && n < 64; n++ {
		j, ok := byPID[p]
		if !ok {
			return false
		}
		outer := snap.Containers[j]
		if outer.engine.Engine == c.engine.Engine && outer.engine.Key == c.engine.Key {
			return true
		}
		p = outer.Parent
	}
	return false
}
