package mounts

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"boxtui/runtime/discovery"
	"boxtui/runtime/namespace"
	"boxtui/runtime/procfs"
	"boxtui/runtime/state"

	"golang.org/x/sys/unix"
)

// Which mounts boxtui added is recorded per container, as a list of
// state.MountRecord in the order they were added (a stack per target: a
// mount added over an earlier one at the same path is popped first).
//
//   - A boxtui container keeps them in its state (State.Mounts), changed
//     under the state's lock with state.Update.
//   - Any other container gets RunDir()/mounts/pidns-INODE.json, named after
//     its PID namespace and holding its init's PID and start time. PID
//     namespace inodes are reused once a namespace dies, so a file whose init
//     is no longer that process is stale: it is ignored when read, and
//     removed the next time any record file is written. Files are replaced
//     atomically (temp file + rename) under RunDir()/mounts/.lock.
//
// A record is only a claim: List marks a mount managed only while a mount
// is really there at the recorded path.

// foreignRecords is the file kept for a container boxtui did not launch;
// its format belongs to runtime, whose scans read it too.
type foreignRecords = state.ForeignMountRecords

func recordDir() string { return state.MountRecordDir() }

func recordPath(pidNS uint64) string { return state.MountRecordPath(pidNS) }

// loadRecords returns the mounts boxtui recorded for c.
func loadRecords(c discovery.Container) ([]state.MountRecord, error) {
	if c.Name != "" {
		st, err := state.Load(c.Name)
		if err != nil {
			return nil, err
		}
		return st.Mounts, nil
	}
	fr, err := readForeign(recordPath(c.Namespaces[namespace.PID]))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	if fr.InitPID != c.PID || fr.InitStart != c.StartTime {
		return nil, nil // an earlier container that had the same namespace inode
	}
	return fr.Mounts, nil
}

// updateRecords changes c's records with fn, under a lock.
func updateRecords(c discovery.Container, fn func([]state.MountRecord) []state.MountRecord) error {
	if c.Name != "" {
		return state.Update(c.Name, func(st *state.State) error {
			st.Mounts = fn(st.Mounts)
			return nil
		})
	}
	pidNS := c.Namespaces[namespace.PID]
	if pidNS == 0 {
		return fmt.Errorf("record mounts of container %d: its pid namespace is unknown", c.PID)
	}
	if err := os.MkdirAll(recordDir(), 0o700); err != nil {
		return fmt.Errorf("record mounts of container %d: %w", c.PID, err)
	}
	unlock, err := lockRecords()
	if err != nil {
		return err
	}
	defer unlock()

	path := recordPath(pidNS)
	fr, err := readForeign(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if fr.InitPID != c.PID || fr.InitStart != c.StartTime {
		fr = foreignRecords{}
	}
	fr.PIDNS, fr.InitPID, fr.InitStart = pidNS, c.PID, c.StartTime
	fr.Mounts = fn(fr.Mounts)
	pruneStale(path)
	if len(fr.Mounts) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("record mounts of container %d: %w", c.PID, err)
		}
		return nil
	}
	return writeForeign(path, fr)
}

func lockRecords() (func(), error) {
	f, err := os.OpenFile(filepath.Join(recordDir(), ".lock"), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock mount records: %w", err)
	}
	if err := retry(func() error { return unix.Flock(int(f.Fd()), unix.LOCK_EX) }); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock mount records: %w", err)
	}
	return func() { f.Close() }, nil
}

func readForeign(path string) (foreignRecords, error) { return state.ReadMountRecords(path) }

// decodeForeign parses a record file, refusing truncated or nonsensical
// ones.
func decodeForeign(r io.Reader) (foreignRecords, error) { return state.DecodeMountRecords(r) }

func writeForeign(path string, fr foreignRecords) error {
	data, err := json.MarshalIndent(fr, "", "  ")
	if err != nil {
		return fmt.Errorf("encode mount records: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".records-*.json")
	if err != nil {
		return fmt.Errorf("write mount records: %w", err)
	}
	_, werr := tmp.Write(append(data, '\n'))
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write mount records %s: %w", path, werr)
	}
	return nil
}

// pruneStale removes record files (other than keep) whose container is
// gone. The caller holds the records lock.
func pruneStale(keep string) {
	entries, err := os.ReadDir(recordDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "pidns-") || !strings.HasSuffix(name, ".json") {
			continue
		}
		path := filepath.Join(recordDir(), name)
		if path == keep {
			continue
		}
		fr, err := readForeign(path)
		if err != nil {
			continue // unreadable: leave it for a person to look at
		}
		if st, err := procfs.StartTime(fr.InitPID); err != nil || st != fr.InitStart {
			os.Remove(path)
		}
	}
}

// pushRecord adds a record on top; popRecord removes the topmost one for
// target; setRecordMode changes the topmost one's mode.
func pushRecord(recs []state.MountRecord, r state.MountRecord) []state.MountRecord {
	return append(recs, r)
}

func popRecord(recs []state.MountRecord, target string) []state.MountRecord {
	return popRecordIn(recs, target, 0)
}

// popRecordIn is popRecord among the records of mount namespace ns (0: the
// init's, see state.MountRecord.MntNS).
func popRecordIn(recs []state.MountRecord, target string, ns uint64) []state.MountRecord {
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Target == target && recs[i].MntNS == ns {
			return append(recs[:i:i], recs[i+1:]...)
		}
	}
	return recs
}

func setRecordMode(recs []state.MountRecord, target string, readOnly bool) []state.MountRecord {
	return setRecordModeIn(recs, target, readOnly, 0)
}

// setRecordModeIn is setRecordMode among the records of mount namespace ns.
func setRecordModeIn(recs []state.MountRecord, target string, readOnly bool, ns uint64) []state.MountRecord {
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Target == target && recs[i].MntNS == ns {
			out := append([]state.MountRecord(nil), recs...)
			out[i].ReadOnly = readOnly
			return out
		}
	}
	return recs
}

// managedMount is a record with the identity of its source on the host
// now: the device and inode that the root of the mount boxtui made from it
// has inside the container too. A record alone only says a mount was once
// added at a path; with the identity, the mount at that path now is known
// to be that one (or an exact equal), not the container's own mount that a
// removed record's path also names.
type managedMount struct {
	target   string
	dev, ino uint64
}

// managedMounts returns c's records whose source still exists on the host,
// with its identity. A source that is gone identifies nothing.
func managedMounts(c discovery.Container, ns uint64) []managedMount {
	recs, err := loadRecords(c)
	if err != nil {
		return nil
	}
	var out []managedMount
	for _, r := range recordsIn(recs, ns) {
		var st unix.Stat_t
		// Stat follows symlinks, as the clone of the source did.
		if err := retry(func() error { return unix.Stat(r.Source, &st) }); err != nil {
			continue
		}
		out = append(out, managedMount{target: r.Target, dev: st.Dev, ino: st.Ino})
	}
	return out
}

// hasManagedTarget reports whether one of ms was recorded at target.
func hasManagedTarget(ms []managedMount, target string) bool {
	for _, m := range ms {
		if m.target == target {
			return true
		}
	}
	return false
}

// isManaged reports whether the mount root st, found at resolved inside
// the container, is one of ms.
func isManaged(ms []managedMount, resolved string, st statFD) bool {
	for _, m := range ms {
		if m.target == resolved && m.dev == st.dev && m.ino == st.ino {
			return true
		}
	}
	return false
}

// recordsIn returns the records of mounts made in mount namespace ns (0:
// the init's). A container whose processes have mount namespaces of their
// own keeps one list of records; each mount table is matched only against
// its own namespace's, so a mount at the same path in another namespace is
// never taken for boxtui's.
func recordsIn(recs []state.MountRecord, ns uint64) []state.MountRecord {
	var out []state.MountRecord
	for _, r := range recs {
		if r.MntNS == ns {
			out = append(out, r)
		}
	}
	return out
}

// recordNS is the namespace key of records for mounts made through
// c.EntryProcess(): 0 when its mount namespace is the init's, else the
// inode of its own.
func recordNS(c discovery.Container) (uint64, error) {
	ep := c.EntryProcess()
	if ep.PID == c.PID {
		return 0, nil
	}
	var mine, theirs unix.Stat_t
	if err := unix.Stat(fmt.Sprintf("/proc/%d/ns/mnt", ep.PID), &mine); err != nil {
		return 0, fmt.Errorf("process %d: %w (it exited)", ep.PID, procfs.ErrNoProcess)
	}
	if err := unix.Stat(fmt.Sprintf("/proc/%d/ns/mnt", c.PID), &theirs); err != nil {
		return 0, fmt.Errorf("container %d: %w (it exited)", c.PID, procfs.ErrNoProcess)
	}
	if mine.Ino == theirs.Ino {
		return 0, nil
	}
	return mine.Ino, nil
}
