package runtime

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

	"golang.org/x/sys/unix"
)

// Kinds of events kept in a container's history.
const (
	EventStarted      = "started"
	EventExited       = "exited"
	EventKilled       = "killed"
	EventExecOpened   = "exec-opened"
	EventExecClosed   = "exec-closed"
	EventMountAdded   = "mount-added"
	EventMountFlipped = "mount-flipped"
	EventMountRemoved = "mount-removed"
	EventHolderLost   = "holder-lost"
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
}

// EventKey names the history of c: its boxtui name, or its PID namespace
// and init start time. The kernel reuses namespace inodes, so the start
// time keeps a dead container's history off a new one that got its inode.
func EventKey(c Container) string {
	if c.Name != "" {
		return c.Name
	}
	return fmt.Sprintf("pidns:%d@%d", c.Namespaces[NSPID], c.StartTime)
}

// maxForeignHistories bounds how many histories of containers boxtui did
// not make are kept; the oldest go first.
const maxForeignHistories = 200

// EventsPath is the file that holds the history of key (see EventKey), for
// callers that stat it to see whether it changed.
func EventsPath(key string) (string, error) { return eventPath(key) }

func eventPath(key string) (string, error) {
	if rest, ok := strings.CutPrefix(key, "pidns:"); ok {
		ino, start, found := strings.Cut(rest, "@")
		if _, err := strconv.ParseUint(ino, 10, 64); err != nil || !found {
			return "", fmt.Errorf("invalid event key %q", key)
		}
		if _, err := strconv.ParseUint(start, 10, 64); err != nil {
			return "", fmt.Errorf("invalid event key %q", key)
		}
		return filepath.Join(RunDir(), "events", "pidns-"+ino+"-"+start+".jsonl"), nil
	}
	if err := ValidateName(key); err != nil {
		return "", err
	}
	return filepath.Join(StateDir(key), "events.jsonl"), nil
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

// RecordEvent appends an event to c's history. Each event is one write to
// a file opened O_APPEND, so concurrent boxtui processes never interleave
// lines; the history is trimmed to its bound under an exclusive flock.
func RecordEvent(c Container, kind, detail, by string) error {
	return RecordEventKey(EventKey(c), kind, detail, by)
}

// RecordEventKey is RecordEvent for a history key (see EventKey).
func RecordEventKey(key, kind, detail, by string) error {
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
	line, err := json.Marshal(Event{Time: time.Now().UTC(), Container: key, Kind: kind, Detail: detail, By: by})
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
	evs, err := DecodeEvents(f)
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

// DecodeEvents reads a history file. Lines that do not parse (a write cut
// short by a crash) are skipped: history is informative, never fatal.
func DecodeEvents(r io.Reader) ([]Event, error) {
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
// first. A container without history has none (no error).
func Events(key string) ([]Event, error) {
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
	return DecodeEvents(f)
}

// AllEvents returns every container's history, oldest first.
func AllEvents() ([]Event, error) {
	var paths []string
	if entries, err := os.ReadDir(RunDir()); err == nil {
		for _, e := range entries {
			if e.IsDir() && ValidateName(e.Name()) == nil {
				paths = append(paths, filepath.Join(RunDir(), e.Name(), "events.jsonl"))
			}
		}
	}
	if matches, err := filepath.Glob(filepath.Join(RunDir(), "events", "pidns-*.jsonl")); err == nil {
		paths = append(paths, matches...)
	}
	var all []Event
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		evs, _ := DecodeEvents(f)
		f.Close()
		all = append(all, evs...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	return all, nil
}
