package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"boxtui/runtime/procfs"

	"golang.org/x/sys/unix"
)

// DefaultRunDir is where boxtui keeps per-container state and console sockets.
const DefaultRunDir = "/run/boxtui"

// RunDir returns the state directory: $BOXTUI_RUN_DIR when set (tests use
// it to stay apart from a person's real containers), else DefaultRunDir.
func RunDir() string {
	if d := os.Getenv("BOXTUI_RUN_DIR"); d != "" {
		return d
	}
	return DefaultRunDir
}

// ErrNameTaken is returned when a container name is already in use.
var ErrNameTaken = errors.New("name already in use")

// ErrNoState is returned when a name has no state on this host.
var ErrNoState = errors.New("no such boxtui container")

// MountRecord is a bind mount boxtui added to a container.
type MountRecord struct {
	Source   string `json:"source"`   // host path
	Target   string `json:"target"`   // path inside the container
	ReadOnly bool   `json:"readonly"` // current mode
	// MntNS is the inode of the mount namespace the mount went into when
	// that was not the init's: a mount into a process of the container
	// that has a mount namespace of its own (TARGET a host PID). 0 means
	// the init's.
	MntNS uint64 `json:"mnt_ns,omitempty"`
}

// Container states kept in State.Status.
const (
	StatusCreating = "creating"
	StatusRunning  = "running"
	StatusExited   = "exited"
)

// State is what boxtui records about a container it launched, in
// RunDir()/NAME/state.json. It is written atomically (temp file + rename)
// under the container's lock.
type State struct {
	Name     string   `json:"name"`
	Rootfs   string   `json:"rootfs"`
	Command  []string `json:"command"`
	Hostname string   `json:"hostname,omitempty"`
	Net      bool     `json:"net,omitempty"`
	Remove   bool     `json:"remove,omitempty"` // --rm: drop the state on exit

	Status  string    `json:"status"`
	Created time.Time `json:"created"`

	// ClaimPID and ClaimStart name the process that claimed the name (the
	// `boxtui run` client). While the state says creating, the launch is
	// that process's: if it is gone, the claim was abandoned half way and
	// the name may be claimed again. Every write of the launch checks the
	// claim, so a holder that outlived its client never touches a state
	// that someone claimed afresh.
	ClaimPID   int    `json:"claim_pid,omitempty"`
	ClaimStart uint64 `json:"claim_start,omitempty"`

	// InitPID and InitStart name the container's PID 1 on the host: a PID is
	// only trusted while /proc/PID/stat still shows the same start time.
	InitPID     int    `json:"init_pid,omitempty"`
	InitStart   uint64 `json:"init_start,omitempty"`
	HolderPID   int    `json:"holder_pid,omitempty"`
	HolderStart uint64 `json:"holder_start,omitempty"`

	Exited     time.Time `json:"exited,omitzero"`
	ExitCode   *int      `json:"exit_code,omitempty"`
	ExitSignal string    `json:"exit_signal,omitempty"`

	Mounts []MountRecord `json:"mounts,omitempty"`
}

// Dir returns the state directory of the container called name.
func Dir(name string) string { return filepath.Join(RunDir(), name) }

// ConsoleSocket returns the path of the console socket of name's holder.
func ConsoleSocket(name string) string { return filepath.Join(Dir(name), "console.sock") }

func statePath(name string) string { return filepath.Join(Dir(name), "state.json") }
func lockPath(name string) string  { return filepath.Join(Dir(name), "lock") }

// reservedNames are the entries of the state directory that are not
// containers (see eventPath and runtime/mounts): a container of that name
// would collide with them.
var reservedNames = []string{"events", "mounts"}

// ValidateName checks a container name: 1 to 64 characters of letters,
// digits, '-', '_' and '.', starting with a letter or digit (so never "."
// or ".."), no '/', and not one of the names the state directory keeps
// for itself.
func ValidateName(name string) error {
	for _, r := range reservedNames {
		if name == r {
			return fmt.Errorf("invalid name %q: reserved for boxtui's own files in %s (pick another name)", name, RunDir())
		}
	}
	if name == "" {
		return fmt.Errorf("invalid name: empty (use letters, digits, '-', '_' or '.')")
	}
	if len(name) > 64 {
		return fmt.Errorf("invalid name %q: longer than 64 characters", name)
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if i > 0 {
			ok = ok || r == '-' || r == '_' || r == '.'
		}
		if !ok {
			return fmt.Errorf("invalid name %q: use letters, digits, '-', '_' or '.', starting with a letter or digit", name)
		}
	}
	return nil
}

// Create claims name on this host and writes its first state. The
// state is written into a hidden directory of its own first, which is then
// renamed to the name without replacing anything: the kernel makes that
// atomic, so of two launches racing for one name exactly one gets it (the
// other gets ErrNameTaken), and a launch killed half way never leaves a
// directory without a state that would hold the name for good.
func Create(st State) error {
	if err := ValidateName(st.Name); err != nil {
		return err
	}
	if err := os.MkdirAll(RunDir(), 0o700); err != nil {
		return fmt.Errorf("create state directory %s: %w", RunDir(), err)
	}
	removeStaleTemps()
	if st.ClaimPID == 0 {
		st.ClaimPID, st.ClaimStart = os.Getpid(), procfs.LiveStartTime(os.Getpid())
	}
	err := claimName(st)
	if errors.Is(err, ErrNameTaken) && removeAbandoned(st.Name) {
		err = claimName(st)
	}
	return err
}

// ClaimedBy reports whether the launch of st is the one claimed by the
// process pid that started at start.
func (st State) ClaimedBy(pid int, start uint64) bool {
	return st.ClaimPID == pid && st.ClaimStart == start
}

// abandoned reports whether st is a launch whose claimant died before the
// container ran: nobody will ever finish or remove it.
func (st State) abandoned() bool {
	return st.Status == StatusCreating && st.ClaimPID > 0 && procfs.LiveStartTime(st.ClaimPID) != st.ClaimStart
}

// removeAbandoned removes name's state if it is an abandoned claim, and
// reports whether it did.
func removeAbandoned(name string) bool {
	removed := false
	err := removeStateIf(name, func(st State) bool {
		removed = st.abandoned()
		return removed
	})
	return err == nil && removed
}

// RemoveClaimed removes name's state only if it is still the launch
// claimed by pid (started at start); a state claimed afresh by another
// launch is left alone, and so is a missing one.
func RemoveClaimed(name string, pid int, start uint64) error {
	err := removeStateIf(name, func(st State) bool { return st.ClaimedBy(pid, start) })
	if errors.Is(err, ErrNoState) {
		return nil
	}
	return err
}

// claimName writes st's first state under a hidden name and renames it to
// st.Name, which the kernel refuses if the name exists: the claim is atomic.
func claimName(st State) error {
	tmp, err := os.MkdirTemp(RunDir(), fmt.Sprintf(".new-%d-", os.Getpid()))
	if err != nil {
		return fmt.Errorf("create state for %q: %w", st.Name, err)
	}
	if err := writeStateFileIn(tmp, st); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	err = unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, Dir(st.Name), unix.RENAME_NOREPLACE)
	if err != nil {
		os.RemoveAll(tmp)
		if errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("container %q: %w (pick another --name, or `boxtui rm %s` if it has exited)", st.Name, ErrNameTaken, st.Name)
		}
		return fmt.Errorf("create state for %q: %w", st.Name, err)
	}
	return nil
}

// removeStaleTemps removes the hidden directories that a boxtui process
// killed between creating and renaming them left behind: .new-PID-* from
// Create and .rm-NAME-PID from Remove, whose PID is gone. (A PID
// reused meanwhile only keeps one a little longer; it holds no name.)
func removeStaleTemps() {
	entries, _ := os.ReadDir(RunDir())
	for _, e := range entries {
		var pidText string
		if rest, ok := strings.CutPrefix(e.Name(), ".new-"); ok {
			pidText, _, _ = strings.Cut(rest, "-")
		} else if rest, ok := strings.CutPrefix(e.Name(), ".rm-"); ok {
			pidText = rest[strings.LastIndexByte(rest, '-')+1:]
		} else {
			continue
		}
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); errors.Is(err, fs.ErrNotExist) {
			os.RemoveAll(filepath.Join(RunDir(), e.Name()))
		}
	}
}

// Load reads the state of name.
func Load(name string) (State, error) {
	if err := ValidateName(name); err != nil {
		return State{}, err
	}
	f, err := os.Open(statePath(name))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return State{}, fmt.Errorf("container %q: %w", name, ErrNoState)
		}
		return State{}, fmt.Errorf("read state of %q: %w", name, err)
	}
	defer f.Close()
	st, err := Decode(f)
	if err != nil {
		return State{}, fmt.Errorf("read state of %q: %w", name, err)
	}
	if st.Name != name {
		return State{}, fmt.Errorf("read state of %q: file names %q", name, st.Name)
	}
	return st, nil
}

// Decode parses a state file. It refuses files that are truncated or
// that miss the fields every state has.
func Decode(r io.Reader) (State, error) {
	var st State
	dec := json.NewDecoder(io.LimitReader(r, 1<<20))
	if err := dec.Decode(&st); err != nil {
		return State{}, fmt.Errorf("corrupt state file: %w", err)
	}
	if err := ValidateName(st.Name); err != nil {
		return State{}, fmt.Errorf("corrupt state file: %w", err)
	}
	switch st.Status {
	case StatusCreating, StatusRunning, StatusExited:
	default:
		return State{}, fmt.Errorf("corrupt state file: unknown status %q", st.Status)
	}
	if st.InitPID < 0 || st.HolderPID < 0 {
		return State{}, fmt.Errorf("corrupt state file: negative pid")
	}
	return st, nil
}

// List reads every state under RunDir, sorted by name. States that
// cannot be read are skipped and reported in errs, never fatal: one corrupt
// file must not hide the other containers.
func List() (states []State, errs []error) {
	entries, err := os.ReadDir(RunDir())
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, []error{fmt.Errorf("list states in %s: %w", RunDir(), err)}
	}
	for _, e := range entries {
		if !e.IsDir() || ValidateName(e.Name()) != nil {
			continue
		}
		st, err := Load(e.Name())
		if err != nil {
			if errors.Is(err, ErrNoState) {
				continue // being created or removed right now
			}
			errs = append(errs, err)
			continue
		}
		// A launch whose client died before it ran leaves a claim nobody
		// will finish: it is not listed. List only reads (every scan calls
		// it); SweepAbandoned and Create remove such claims.
		if st.abandoned() {
			continue
		}
		states = append(states, st)
	}
	sort.Slice(states, func(i, j int) bool { return states[i].Name < states[j].Name })
	return states, errs
}

// SweepAbandoned removes the claims of launches whose client died before
// the container ran (see List), and the hidden directories of killed
// boxtui processes: `boxtui ls` calls it, as root, so that a name nobody
// will finish is freed without waiting for a `run` of the same name.
func SweepAbandoned() {
	if os.Geteuid() != 0 {
		return
	}
	removeStaleTemps()
	entries, _ := os.ReadDir(RunDir())
	for _, e := range entries {
		if !e.IsDir() || ValidateName(e.Name()) != nil {
			continue
		}
		if st, err := Load(e.Name()); err == nil && st.abandoned() {
			removeAbandoned(st.Name)
		}
	}
}

// Update changes name's state under its lock: fn sees the current
// state and edits it; the result is written atomically. If fn returns an
// error nothing is written.
func Update(name string, fn func(*State) error) error {
	unlock, err := lockState(name)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := Load(name)
	if err != nil {
		return err
	}
	if err := fn(&st); err != nil {
		return err
	}
	st.Name = name
	return writeStateFile(st)
}

// Remove deletes name's state directory (state, lock and socket).
func Remove(name string) error {
	return removeStateIf(name, nil)
}

// removeStateIf deletes name's state directory if remove (nil: always)
// approves the state as it is under the lock.
func removeStateIf(name string, remove func(State) bool) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	unlock, err := lockState(name)
	if err != nil {
		return err
	}
	defer unlock()
	if remove != nil {
		st, err := Load(name)
		if err != nil {
			return err
		}
		if !remove(st) {
			return nil
		}
	}
	// Rename first, so no reader ever sees a half-deleted directory.
	tomb := filepath.Join(RunDir(), fmt.Sprintf(".rm-%s-%d", name, os.Getpid()))
	if err := os.Rename(Dir(name), tomb); err != nil {
		return fmt.Errorf("remove state of %q: %w", name, err)
	}
	return os.RemoveAll(tomb)
}

func lockState(name string) (unlock func(), err error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(lockPath(name), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("container %q: %w", name, ErrNoState)
		}
		return nil, fmt.Errorf("lock state of %q: %w", name, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock state of %q: %w", name, err)
	}
	return func() { f.Close() }, nil
}

func writeStateFile(st State) error { return writeStateFileIn(Dir(st.Name), st) }

// writeStateFileIn writes st as dir/state.json, atomically.
func writeStateFileIn(dir string, st State) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state of %q: %w", st.Name, err)
	}
	data = append(data, '\n')
	tmp, err := os.CreateTemp(dir, ".state-*.json")
	if err != nil {
		return fmt.Errorf("write state of %q: %w", st.Name, err)
	}
	// No fsync: state lives in /run, which is a tmpfs on every systemd
	// host and does not outlive a reboot (nor do the containers it names);
	// the rename alone makes each update all-or-nothing for readers.
	_, werr := tmp.Write(data)
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), filepath.Join(dir, "state.json"))
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write state of %q: %w", st.Name, werr)
	}
	return nil
}
