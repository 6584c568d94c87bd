package ui

import (
	"boxtui/runtime/discovery"
	"boxtui/runtime/namespace"
)

// mapCols are the map's columns: every namespace link a process has.
var mapCols = namespace.All()

// mapGroup is the column whose slots t shares: pid_for_children holds a
// PID namespace, so it is lettered with pid (and time_for_children with
// time); the same namespace reads the same in both.
func mapGroup(t namespace.Type) namespace.Type {
	switch t {
	case namespace.PIDForChildren:
		return namespace.PID
	case namespace.TimeForChildren:
		return namespace.Time
	}
	return t
}

// nsSlots are the slots of the namespaces of each column group, by inode.
type nsSlots map[namespace.Type]map[uint64]int

// procNS is p's namespaces; a process whose links could not be read is
// taken to share its container's init's.
func procNS(c discovery.Container, p discovery.Process) namespace.Set {
	if p.Namespaces == (namespace.Set{}) {
		return c.Namespaces
	}
	return p.Namespaces
}

// hostInodes are the host's namespaces (boxtui's own), of every column.
func hostInodes(host namespace.Set) map[uint64]bool {
	out := map[uint64]bool{}
	for _, ino := range host {
		if ino != 0 {
			out[ino] = true
		}
	}
	return out
}

// assignSlots gives every namespace of snap that is not the host's a slot
// in its column group. A namespace that had a slot in prev keeps it; the
// new ones take the lowest free slots, in order of first appearance
// (containers in discovery order, each init before its processes). So
// slots are unique within a group, and stable while their namespaces live.
func assignSlots(prev nsSlots, snap discovery.Snapshot) nsSlots {
	host := hostInodes(snap.Host)
	order := map[namespace.Type][]uint64{}
	seen := map[namespace.Type]map[uint64]bool{}
	add := func(s namespace.Set) {
		for _, t := range mapCols {
			g, ino := mapGroup(t), s[t]
			if ino == 0 || host[ino] {
				continue
			}
			if seen[g] == nil {
				seen[g] = map[uint64]bool{}
			}
			if !seen[g][ino] {
				seen[g][ino] = true
				order[g] = append(order[g], ino)
			}
		}
	}
	for _, c := range snap.Containers {
		add(c.Namespaces)
		for _, p := range c.Procs {
			add(procNS(c, p))
		}
	}
	out := nsSlots{}
	for g, inos := range order {
		slots := map[uint64]int{}
		used := map[int]bool{}
		for _, ino := range inos {
			if n, ok := prev[g][ino]; ok {
				slots[ino], used[n] = n, true
			}
		}
		next := 0
		for _, ino := range inos {
			if _, ok := slots[ino]; ok {
				continue
			}
			for used[next] {
				next++
			}
			slots[ino], used[next] = next, true
		}
		out[g] = slots
	}
	return out
}

// slotLabel names slot n: A..Z, then AA, AB, ... (as spreadsheet columns).
func slotLabel(n int) string {
	var b []byte
	for n++; n > 0; n = (n - 1) / 26 {
		b = append([]byte{byte('A' + (n-1)%26)}, b...)
	}
	return string(b)
}
