package discovery

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"boxtui/runtime/namespace"
	"boxtui/runtime/procfs"
	"boxtui/runtime/state"
)

// finishSnapshot ends every scan the same way: boxtui's states matched to
// the containers found (with exited ones when asked), oldest first, and
// the time the scan took.
func finishSnapshot(snap *Snapshot, exited bool, began time.Time) {
	states, errs := state.List()
	snap.Warnings = append(snap.Warnings, errs...)
	matchStates(snap, states, exited)
	matchMountRecords(snap)
	nameEngineContainers(snap)
	sort.Slice(snap.Containers, func(i, j int) bool {
		a, b := snap.Containers[i], snap.Containers[j]
		if a.StartTime != b.StartTime {
			return a.StartTime < b.StartTime
		}
		return a.PID < b.PID
	})
	snap.Took = time.Since(began)
}

// matchStates names the containers boxtui launched and, if asked, adds the
// exited ones. A state names a running container only if the init PID and
// its start time both match: a recycled PID is never mistaken for it.
func matchStates(snap *Snapshot, states []state.State, exited bool) {
	byPID := map[int]int{}
	for i, c := range snap.Containers {
		byPID[c.PID] = i
	}
	for _, st := range states {
		i, ok := byPID[st.InitPID]
		if ok && st.Status != state.StatusExited && snap.Containers[i].StartTime == st.InitStart {
			c := &snap.Containers[i]
			c.Name = st.Name
			c.Origin = OriginBoxtui
			c.Mounts = st.Mounts
			// boxtui pivot_roots, so /proc/PID/root reads "/": the rootfs
			// it was launched from says more.
			if c.Root == "/" && st.Rootfs != "" {
				c.Root = st.Rootfs
			}
			// A scan only reads: a holder found gone is recorded by
			// whoever next needs the console (launch.whyNoConsole).
			if st.HolderPID > 0 && procfs.LiveStartTime(st.HolderPID) == st.HolderStart {
				c.HolderPID = st.HolderPID
			}
			continue
		}
		if !exited || st.Status == state.StatusCreating {
			continue
		}
		c := Container{
			Name:       st.Name,
			PID:        st.InitPID,
			Origin:     OriginBoxtui,
			Command:    strings.Join(st.Command, " "),
			Root:       st.Rootfs,
			Status:     state.StatusExited,
			ExitCode:   st.ExitCode,
			ExitSignal: st.ExitSignal,
			Started:    st.Created,
			StartTime:  st.InitStart,
			Mounts:     st.Mounts,
		}
		// A state that still says running is of an init that just died:
		// while its holder lives it is recording how (both stay empty);
		// a holder that died first never will.
		recording := st.Status == state.StatusRunning && st.HolderPID > 0 &&
			procfs.LiveStartTime(st.HolderPID) == st.HolderStart
		if c.ExitCode == nil && c.ExitSignal == "" && !recording {
			c.ExitSignal = "unknown" // the holder died before it could record it
		}
		snap.Containers = append(snap.Containers, c)
	}
}

// matchMountRecords gives every running container boxtui did not launch
// the mounts boxtui recorded for it: the record file of its PID namespace,
// when the file's init is still that container's (namespace inodes are
// reused once a namespace dies). Only the containers that have a file are
// read: one directory listing per scan when there are none.
func matchMountRecords(snap *Snapshot) {
	entries, err := os.ReadDir(state.MountRecordDir())
	if err != nil || len(entries) == 0 {
		return
	}
	have := make(map[string]bool, len(entries))
	for _, e := range entries {
		have[e.Name()] = true
	}
	for i := range snap.Containers {
		c := &snap.Containers[i]
		if c.Origin == OriginBoxtui || c.Status == state.StatusExited || c.Namespaces[namespace.PID] == 0 {
			continue
		}
		path := state.MountRecordPath(c.Namespaces[namespace.PID])
		if !have[filepath.Base(path)] {
			continue
		}
		fr, err := state.ReadMountRecords(path)
		if err != nil {
			snap.Warnings = append(snap.Warnings, err)
			continue
		}
		if fr.InitPID == c.PID && fr.InitStart == c.StartTime {
			c.Mounts = fr.Mounts
		}
	}
}
