package discovery

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"boxtui/runtime/namespace"
	"boxtui/runtime/procfs"
)

// ListContainers is Scan for `boxtui ls`, which runs once and prints only the
// containers: the same containers with the same fields, but Procs is nil.
// Exited adds exited boxtui containers, as ScanOptions.Exited does.
//
// It is Scan's work minus what a one-shot listing never uses: no cache, no
// per-process list, and one readlink per host process with no allocation.
// With thousands of processes that readlink is most of the time, and the
// per-process records Scan grows (rawProc) showed up as copying, page
// faults and GC in profiles of `ls`.
func ListContainers(exited bool) (Snapshot, error) {
	began := time.Now()
	const proc = "/proc"
	snap := Snapshot{Host: namespace.ReadSet(proc + "/self")}
	hostPID := snap.Host[namespace.PID]
	if hostPID == 0 {
		return snap, fmt.Errorf("read boxtui's own pid namespace from %s/self/ns/pid: is /proc mounted?", proc)
	}
	entries, err := procfs.ReadPIDs(proc)
	if err != nil {
		return snap, fmt.Errorf("scan %s: %w", proc, err)
	}

	workers := runtime.GOMAXPROCS(0)
	if workers > 4 {
		workers = 4
	}
	if len(entries) < 256 {
		workers = 1
	}
	type part struct {
		members    []pidNSEntry // processes outside boxtui's PID namespace
		unreadable int
	}
	parts := make([]part, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			path := make([]byte, 0, 32)
			var link [64]byte
			for i := w; i < len(entries); i += workers {
				pid := entries[i].PID
				path = append(strconv.AppendInt(append(path[:0], proc+"/"...), int64(pid), 10), "/ns/pid\x00"...)
				ino := namespace.PIDInodeAt(path, link[:])
				if ino == 0 {
					parts[w].unreadable++
					continue // vanished, or not ours to read
				}
				if ino != hostPID {
					parts[w].members = append(parts[w].members, pidNSEntry{pid: pid, pidNS: ino})
				}
			}
		}(w)
	}
	wg.Wait()

	unreadable := 0
	type group struct {
		procs  int
		lowest int // the lowest PID: the init, unless PIDs wrapped around
	}
	groups := map[uint64]*group{}
	for _, p := range parts {
		unreadable += p.unreadable
		for _, m := range p.members {
			g := groups[m.pidNS]
			if g == nil {
				g = &group{lowest: m.pid}
				groups[m.pidNS] = g
			}
			g.procs++
			g.lowest = min(g.lowest, m.pid)
		}
	}
	if unreadable > 0 && os.Geteuid() != 0 {
		snap.Warnings = append(snap.Warnings, fmt.Errorf("%d processes could not be inspected: run as root (sudo) to see every container", unreadable))
	}
	// members lists the processes of one PID namespace, for the rare
	// container whose lowest PID is not its init.
	members := func(ino uint64) []rawProc {
		var procs []rawProc
		for _, p := range parts {
			for _, m := range p.members {
				if m.pidNS == ino {
					procs = append(procs, rawProc{pid: m.pid, pidNS: ino})
				}
			}
		}
		return procs
	}

	// Describing a container reads a dozen files of its init: with many
	// containers that is worth the second core too. Each worker has its own
	// scanner, as a scanner's cache is not shared between goroutines.
	inos := make([]uint64, 0, len(groups))
	for ino := range groups {
		inos = append(inos, ino)
	}
	if len(inos) < 8 {
		workers = 1
	}
	// flat: /proc belongs to boxtui's own PID namespace (boxtui has one
	// PID there), so an init's NSpid line says how deep its namespace is.
	flat := false
	if data, err := os.ReadFile(proc + "/self/status"); err == nil {
		if st, err := procfs.ParseStatus(bytes.NewReader(data)); err == nil {
			flat = len(st.NSpid) == 1
		}
	}
	built := make([]Container, len(inos))
	ok := make([]bool, len(inos))
	parents := make([]uint64, len(inos)) // parent PID namespace inodes
	boot := procfs.BootTime()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s := newOneShotScanner(proc)
			buf := make([]byte, 0, 4096)
			for i := w; i < len(inos); i += workers {
				ino, g := inos[i], groups[inos[i]]
				init := rawProc{pid: g.lowest, pidNS: ino}
				if !s.details(&init, &buf) || init.cache.status.InnerPID() != 1 {
					procs := members(ino)
					init = procs[s.findInit(procs, &buf)]
				}
				c, live := s.describeInit(init, g.procs, boot, &buf)
				built[i], ok[i] = c, live
				switch {
				case !live:
				case flat && init.cache.start != 0 && len(init.cache.status.NSpid) == 2:
					// A PID namespace one level below /proc's, which is
					// boxtui's own: its parent is boxtui's, no need to ask.
					parents[i] = hostPID
				default:
					// Nesting: ask the kernel for the PID namespace's parent.
					parents[i] = namespace.Parent(proc + "/" + strconv.Itoa(c.PID) + "/ns/pid")
				}
			}
		}(w)
	}
	wg.Wait()
	byNS := make(map[uint64]int, len(inos)) // pid ns inode -> index into snap.Containers
	snap.Containers = make([]Container, 0, len(inos))
	for i, ino := range inos {
		if ok[i] {
			byNS[ino] = len(snap.Containers)
			snap.Containers = append(snap.Containers, built[i])
		}
	}
	for i, ino := range inos {
		parent := parents[i]
		if !ok[i] || parent == 0 || parent == hostPID || parent == ino {
			continue
		}
		if j, found := byNS[parent]; found {
			snap.Containers[byNS[ino]].Parent = snap.Containers[j].PID
		}
	}

	finishSnapshot(&snap, exited, began)
	return snap, nil
}
