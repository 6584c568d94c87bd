package events

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"boxtui/runtime/discovery"
	"boxtui/runtime/namespace"
	"boxtui/runtime/procfs"
	"boxtui/runtime/state"

	"golang.org/x/sys/unix"
)

// Kinds of events kept in a container's history.
const (
	Started      = "started"
	Exited       = "exited"
	Killed       = "killed"
	ExecOpened   = "exec-opened"
	ExecClosed   = "exec-closed"
	MountAdded   = "mount-added"
	MountFlipped = "mount-flipped"
	MountRemoved = "mount-removed"
	HolderLost   = "holder-lost"
)

// maxEvents bounds a container's history; older events are dropped.
const maxEvents = 500

// Event is one thing that happened to a container.
type Event struct {
	Time time.Time `json:"time"`
	// Container is the history's key: a boxtui name, or "pidns:INODE" for
	// a container boxtui did not make.
	Container string `json:"container"`
	Kind      string `json:"kind"`
	Detail    string `json:"detail,omitempty"`
	// By says who caused it: "boxtui" (with the acting command) or "other".
	By string `json:"by,omitempty"`
	// ClientPID and ClientStart name, on an exec-opened event, the
	// process that waits for the exec and records its exec-closed: once
	// it is gone without having done so, nobody will (see closeOrphanedExecs).
	ClientPID   int    `json:"client_pid,omitempty"`
	ClientStart uint64 `json:"client_start,omitempty"`
	// InitPID and InitStart name, on a started event, the container's
	// init: a second record of it beside the state file, for `rm -f` of a
	// container whose state file is broken and whose holder is gone.
	InitPID   int    `json:"init_pid,omitempty"`
	InitStart uint64 `json:"init_start,omitempty"`
}

// ExecClientGone is the detail's ending of an exec-closed event that is not
// the exec's own: its client died (SIGKILL) before it could record how the
// exec ended.
const ExecClientGone = "closed: client gone"

// Key names the history of c: its boxtui name, or its PID namespace
// and init start time. The kernel reuses namespace inodes, so the start
// time keeps a dead container's history off a new one that got its inode.
func Key(c discovery.Container) string {
	if c.Name != "" {
		return c.Name
	}
	return fmt.Sprintf("pidns:%d@%d", c.Namespaces[namespace.PID], c.StartTime)
}

// maxForeignHistories bounds how many histories of containers boxtui did
// not make are kept; the oldest go first.
const maxForeignHistories = 200

// Path is the file that holds the history of key (see Key), for
// callers that stat it to see whether it changed.
func Path(key string) (string, error) { return eventPath(key) }

func eventPath(key string) (string, error) {
	if rest, ok := strings.CutPrefix(key, "pidns:"); ok {
		ino, start, found := strings.Cut(rest, "@")
		if _, err := strconv.ParseUint(ino, 10, 64); err != nil || !found {
			return "", fmt.Errorf("invalid event key %q", key)
		}
		if _, err := strconv.ParseUint(start, 10, 64); err != nil {
			return "", fmt.Errorf("invalid event key %q", key)
		}
		return filepath.Join(state.RunDir(), "events", "pidns-"+ino+"-"+start+".jsonl"), nil
	}
	if err := state.ValidateName(key); err != nil {
		return "", err
	}
	return filepath.Join(state.Dir(key), "events.jsonl"), nil
}

// pruneForeignHistories drops the oldest histories of non-boxtui
// containers beyond maxForeignHistories.
func pruneForeignHistories(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) <= maxForeignHistories {
		return
	}
	type aged struct {
		name string
		mod  time.Time
	}
	var files []aged
	for _, e := range entries {
		if info, err := e.Info(); err == nil && strings.HasPrefix(e.Name(), "pidns-") {
			files = append(files, aged{e.Name(), info.ModTime()})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].mod.Before(files[j].mod) })
	for i := 0; i < len(files)-maxForeignHistories; i++ {
		os.Remove(filepath.Join(dir, files[i].name))
	}
}

// Record appends an event to c's history. Each event is one write to
// a file opened O_APPEND, so concurrent boxtui processes never interleave
// lines; the history is trimmed to its bound under an exclusive flock.
func Record(c discovery.Container, kind, detail, by string) error {
	return RecordKey(Key(c), kind, detail, by)
}

// RecordExecOpened records that an exec into c started, naming this
// process as the one that records its end: if it dies first, readers
// show the exec as closed, and the holder records it so.
func RecordExecOpened(c discovery.Container, detail string) error {
	pid := os.Getpid()
	return recordEvent(Event{Container: Key(c), Kind: ExecOpened, Detail: detail, By: "boxtui exec",
		ClientPID: pid, ClientStart: procfs.LiveStartTime(pid)})
}

// RecordStarted records that the init of the boxtui container name (host
// PID initPID, started at initStart) runs its command.
func RecordStarted(name, detail string, initPID int, initStart uint64) error {
	return recordEvent(Event{Container: name, Kind: Started, Detail: detail, By: "boxtui run",
		InitPID: initPID, InitStart: initStart})
}

// RecordKey is Record for a history key (see Key).
func RecordKey(key, kind, detail, by string) error {
	return recordEvent(Event{Container: key, Kind: kind, Detail: detail, By: by})
}

func recordEvent(ev Event) error {
	key, kind := ev.Container, ev.Kind
	path, err := eventPath(key)
	if err != nil {
		return err
	}
	// The directory of foreign histories is made on demand; a boxtui
	// container's is its state directory, which only a claim creates: a
	// holder or exec recording an event after `rm` must never bring a
	// removed name back (the open below then fails with ENOENT).
	if strings.HasPrefix(key, "pidns:") {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("record %s event for %s: %w", kind, key, err)
		}
	}
	ev.Time = time.Now().UTC()
	line, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("record %s event for %s: %w", kind, key, err)
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("record %s event for %s: %w", kind, key, err)
	}
	if fi, err := f.Stat(); err == nil && fi.Size() > maxEvents*400 {
		trimEvents(path)
	}
	if fi, err := f.Stat(); err == nil && fi.Size() == int64(len(line)+1) && strings.HasPrefix(key, "pidns:") {
		pruneForeignHistories(filepath.Dir(path)) // a new history: keep their number bounded
	}
	return nil
}

// trimEvents keeps the newest maxEvents lines of path.
func trimEvents(path string) {
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		return
	}
	evs, err := Decode(f)
	if err != nil || len(evs) <= maxEvents {
		return
	}
	evs = evs[len(evs)-maxEvents:]
	var buf bytes.Buffer
	for _, e := range evs {
		line, _ := json.Marshal(e)
		buf.Write(append(line, '\n'))
	}
	tmp := path + ".trim"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o600); err != nil {
		return
	}
	os.Rename(tmp, path)
}

// Decode reads a history file. Lines that do not parse (a write cut
// short by a crash) are skipped: history is informative, never fatal.
func Decode(r io.Reader) ([]Event, error) {
	var out []Event
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		var e Event
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Kind == "" {
			continue
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// Events returns the history of the container with the given key, oldest
// first. A container without history has none (no error). An exec whose
// client died before recording its end shows as closed (see
// OrphanedExecs); nothing is written for that.
func Read(key string) ([]Event, error) {
	evs, err := rawEvents(key)
	if err != nil {
		return nil, err
	}
	return append(evs, orphanedExecs(evs)...), nil
}

func rawEvents(key string) ([]Event, error) {
	path, err := eventPath(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read events of %s: %w", key, err)
	}
	defer f.Close()
	return Decode(f)
}

// ReadAsWritten is Events without the exec-closed events computed for
// execs whose client died: the history file as it is.
func ReadAsWritten(key string) ([]Event, error) { return rawEvents(key) }

// OrphanedExecs returns, for a history (ReadAsWritten), an exec-closed
// event for each exec that was opened and never closed and whose client
// (the process named on its exec-opened event, by PID and start time) is
// gone: nobody else will ever record its end. The holder records them
// when its container exits; Events shows them without writing.
func OrphanedExecs(evs []Event) []Event { return orphanedExecs(evs) }

// orphanedExecs matches exec-opened and exec-closed events of one history
// by the exec's host PID ("host pid N: ..."), in order, so a PID used
// again by a later exec pairs with its own events.
func orphanedExecs(evs []Event) []Event {
	open := map[string]int{} // "container host-pid" -> index of its exec-opened
	var last time.Time
	for i, e := range evs {
		if e.Time.After(last) {
			last = e.Time
		}
		id, ok := execID(e)
		if !ok {
			continue
		}
		switch e.Kind {
		case ExecOpened:
			open[id] = i
		case ExecClosed:
			delete(open, id)
		}
	}
	var out []Event
	for _, i := range open {
		e := evs[i]
		// procfs.LiveStartTime counts a zombie as gone: it has exited.
		if e.ClientPID <= 0 || procfs.LiveStartTime(e.ClientPID) == e.ClientStart {
			continue // an old event naming no client, or one still running
		}
		pid, _, _ := strings.Cut(strings.TrimPrefix(e.Detail, "host pid "), ":")
		out = append(out, Event{Time: last, Container: e.Container, Kind: ExecClosed,
			Detail: "host pid " + pid + ": " + ExecClientGone, By: e.By})
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Detail < out[b].Detail })
	return out
}

// execID names the exec an exec-opened or exec-closed event is about.
func execID(e Event) (string, bool) {
	if e.Kind != ExecOpened && e.Kind != ExecClosed {
		return "", false
	}
	rest, ok := strings.CutPrefix(e.Detail, "host pid ")
	if !ok {
		return "", false
	}
	pid, _, ok := strings.Cut(rest, ":")
	return e.Container + " " + pid, ok
}

// All returns every container's history, oldest first.
func All() ([]Event, error) {
	var paths []string
	if entries, err := os.ReadDir(state.RunDir()); err == nil {
		for _, e := range entries {
			if e.IsDir() && state.ValidateName(e.Name()) == nil {
				paths = append(paths, filepath.Join(state.RunDir(), e.Name(), "events.jsonl"))
			}
		}
	}
	if matches, err := filepath.Glob(filepath.Join(state.RunDir(), "events", "pidns-*.jsonl")); err == nil {
		paths = append(paths, matches...)
	}
	var all []Event
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		evs, _ := Decode(f)
		f.Close()
		all = append(all, evs...)
		all = append(all, orphanedExecs(evs)...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	return all, nil
}
