package launch

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"boxtui/runtime"

	"golang.org/x/sys/unix"
)

// DefaultGrace is how long Stop waits after SIGTERM before SIGKILL.
const DefaultGrace = 5 * time.Second

// killWait bounds the wait for a SIGKILLed init to be gone.
const killWait = 5 * time.Second

// Stop stops any container (boxtui's or not) by its init: SIGTERM, up to
// grace for it to exit, then SIGKILL, which takes every process of the PID
// namespace with it. The init is named by the host PID and start time the
// scan saw, so a recycled PID is never signalled. A target gone before the
// first signal is an error wrapping runtime.ErrNoProcess.
func Stop(c runtime.Container, grace time.Duration) error {
	pid, start := c.PID, c.StartTime
	if processGone(pid, start) {
		return stopError(c, fmt.Errorf("process %d: %w", pid, runtime.ErrNoProcess))
	}
	how := "SIGKILL to the init"
	if catchesTerm(pid) {
		how = fmt.Sprintf("SIGTERM to the init, SIGKILL after %s", grace)
	}
	_ = runtime.RecordEvent(c, runtime.EventKilled, how, "boxtui")
	if catchesTerm(pid) {
		if err := runtime.Signal(pid, start, unix.SIGTERM); err != nil {
			return stopError(c, err)
		}
		gone, err := runtime.WaitGone(pid, start, grace)
		if err != nil {
			return fmt.Errorf("stop %s: %w", describe(c), err)
		}
		if gone {
			waitHolder(c)
			return nil
		}
	}
	// The kernel drops signals to a PID namespace's init that it has no
	// handler for, so a SIGTERM to a shell or sleep as PID 1 would only
	// make us wait out the grace time for nothing: go straight to SIGKILL.
	if err := runtime.Signal(pid, start, unix.SIGKILL); err != nil {
		if errors.Is(err, runtime.ErrNoProcess) {
			waitHolder(c)
			return nil // it exited during the grace time after all
		}
		return stopError(c, err)
	}
	gone, err := runtime.WaitGone(pid, start, killWait)
	if err != nil {
		return fmt.Errorf("stop %s: %w", describe(c), err)
	}
	if !gone {
		return fmt.Errorf("stop %s: still there %s after SIGKILL (stuck in the kernel?)", describe(c), killWait)
	}
	waitHolder(c)
	return nil
}

func stopError(c runtime.Container, err error) error {
	if errors.Is(err, runtime.ErrNoProcess) {
		return fmt.Errorf("stop %s: %w (it exited meanwhile)", describe(c), runtime.ErrNoProcess)
	}
	return fmt.Errorf("stop %s: %w", describe(c), err)
}

func describe(c runtime.Container) string {
	if c.Name != "" {
		return fmt.Sprintf("container %q", c.Name)
	}
	return fmt.Sprintf("container with init %d", c.PID)
}

// catchesTerm reports whether pid has a SIGTERM handler. Unknown counts as
// yes: then we merely wait the grace time.
func catchesTerm(pid int) bool {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return true
	}
	defer f.Close()
	st, err := runtime.ParseStatus(f)
	if err != nil {
		return true
	}
	return st.CatchesSignal(int(unix.SIGTERM))
}

// waitHolder gives a boxtui container's holder a moment to record the exit,
// so that `ls -a` or `rm` right after a kill see it as exited.
func waitHolder(c runtime.Container) {
	if c.Name == "" {
		return
	}
	st, err := runtime.LoadState(c.Name)
	if err != nil || st.HolderPID == 0 {
		return
	}
	runtime.WaitGone(st.HolderPID, st.HolderStart, 2*time.Second)
}

// SignalInit sends sig to the init of c (by the host PID and start time
// the scan saw), and nothing else: `boxtui kill -s SIG`.
func SignalInit(c runtime.Container, sig unix.Signal) error {
	if err := runtime.Signal(c.PID, c.StartTime, sig); err != nil {
		return stopError(c, err)
	}
	_ = runtime.RecordEvent(c, runtime.EventKilled, "SIG"+runtime.SignalName(sig)+" to the init", "boxtui")
	return nil
}

// processGone reports whether pid is no longer the process that started at
// start.
func processGone(pid int, start uint64) bool {
	got, err := runtime.ProcessStartTime(pid)
	return err != nil || got != start
}

// SignalProcess sends sig to the process of c whose PID inside the
// container is innerPID (the seed's `kill 6`), checked against the start
// time the scan saw.
func SignalProcess(c runtime.Container, innerPID int, sig unix.Signal) error {
	for _, p := range c.Procs {
		if p.InnerPID == innerPID {
			if err := runtime.Signal(p.PID, p.StartTime, sig); err != nil {
				if errors.Is(err, runtime.ErrNoProcess) {
					return fmt.Errorf("signal process %d of %s: %w (it exited meanwhile)", innerPID, describe(c), runtime.ErrNoProcess)
				}
				return err
			}
			_ = runtime.RecordEvent(c, runtime.EventKilled, fmt.Sprintf("SIG%s to process %d inside (host pid %d, %s)", runtime.SignalName(sig), innerPID, p.PID, p.Comm), "boxtui")
			return nil
		}
	}
	return fmt.Errorf("%s has no process %d (see `boxtui ps %s`)", describe(c), innerPID, target(c))
}

func target(c runtime.Container) string {
	if c.Name != "" {
		return c.Name
	}
	return fmt.Sprint(c.PID)
}

// ErrStillRunning is returned by Remove for a running container without
// force.
var ErrStillRunning = errors.New("container is still running")

// Remove removes the state of the boxtui container name once it has
// exited. A running one is refused unless force, which stops it first
// (with grace for SIGTERM).
//
// What runs under the name is found without trusting the state file
// alone, which may be corrupt or out of date: the holder is whoever
// listens on the console socket (the kernel names it, SO_PEERCRED), and
// the init is the child of the holder that is PID 1 of its own PID
// namespace. With force, the name is freed whatever the state file says,
// once everything found under it has ended; without, a state that cannot
// be read is refused.
func Remove(name string, force bool, grace time.Duration) error {
	if err := runtime.ValidateName(name); err != nil {
		return err
	}
	st, stErr := runtime.LoadState(name)
	if stErr != nil && !stateDirExists(name) {
		return stErr
	}
	holder, init := findRunning(name, st, stErr == nil)
	if init.PID != 0 {
		if !force {
			if stErr != nil {
				return fmt.Errorf("remove %q: %w, and its state is unreadable (%v); rm -f stops it and frees the name", name, ErrStillRunning, stErr)
			}
			return fmt.Errorf("remove %q: %w (stop it with `boxtui kill %s`, or use rm -f)", name, ErrStillRunning, name)
		}
		c := runtime.Container{Name: name, PID: init.PID, StartTime: init.start}
		if err := Stop(c, grace); err != nil && !errors.Is(err, runtime.ErrNoProcess) {
			return err
		}
	} else if stErr != nil && !force {
		// Nothing runs, but a state that cannot be read is not removed
		// without being asked to: it may be worth a look first.
		return fmt.Errorf("remove %q: %v (rm -f removes it)", name, stErr)
	}
	// The holder may be recording the exit right now; let it finish so it
	// does not write into a removed (or, worse, re-created) state. One
	// that does not end by itself (its init gone, the holder stuck, or a
	// holder without an init) is ended: nothing may run on under a name
	// that is free again.
	if holder.PID != 0 {
		if gone, _ := runtime.WaitGone(holder.PID, holder.start, 2*time.Second); !gone {
			if err := runtime.Signal(holder.PID, holder.start, unix.SIGKILL); err != nil && !errors.Is(err, runtime.ErrNoProcess) {
				return fmt.Errorf("remove %q: end its holder (pid %d): %w", name, holder.PID, err)
			}
			if gone, _ := runtime.WaitGone(holder.PID, holder.start, killWait); !gone {
				return fmt.Errorf("remove %q: its holder (pid %d) is still there %s after SIGKILL", name, holder.PID, killWait)
			}
		}
	}
	if err := runtime.RemoveState(name); err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, runtime.ErrNoState) {
			return nil // --rm, or another rm, was quicker
		}
		return err
	}
	return nil
}

// stateDirExists reports whether name's state directory is there: then a
// state that cannot be read (corrupt, truncated, its file missing) still
// holds the name, and rm must be able to free it.
func stateDirExists(name string) bool {
	fi, err := os.Lstat(runtime.StateDir(name))
	return err == nil && fi.IsDir()
}

// proc is a process named by its host PID and start time.
type proc struct {
	PID   int
	start uint64
}

// findRunning finds the holder and the init that run under name: the ones
// the state names (if it could be read) while their start times match,
// else those the kernel shows — the console socket's listener, and its
// child that is PID 1 of a PID namespace of its own.
func findRunning(name string, st runtime.State, stateOK bool) (holder, init proc) {
	if stateOK {
		if st.HolderPID > 0 && !processEnded(st.HolderPID, st.HolderStart) {
			holder = proc{st.HolderPID, st.HolderStart}
		}
		if initAlive(st) {
			init = proc{st.InitPID, st.InitStart}
		}
	}
	if holder.PID == 0 {
		holder = consoleListener(name)
	}
	if init.PID == 0 && holder.PID != 0 {
		init = initChildOf(holder)
	}
	if init.PID == 0 && !stateOK {
		init = startedInit(name)
	}
	return holder, init
}

// startedInit returns the init the newest started event of name's history
// names, while that process (PID and start time) still runs and is PID 1
// of a PID namespace of its own: the second record of the init, for a
// broken state whose holder is gone too.
func startedInit(name string) proc {
	evs, err := runtime.EventsAsWritten(name)
	if err != nil {
		return proc{}
	}
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i]
		if e.Kind != runtime.EventStarted {
			continue
		}
		if e.InitPID <= 0 || processEnded(e.InitPID, e.InitStart) {
			return proc{}
		}
		f, err := os.Open(fmt.Sprintf("/proc/%d/status", e.InitPID))
		if err != nil {
			return proc{}
		}
		ps, err := runtime.ParseStatus(f)
		f.Close()
		if err != nil || len(ps.NSpid) < 2 || ps.InnerPID() != 1 {
			return proc{}
		}
		return proc{e.InitPID, e.InitStart}
	}
	return proc{}
}

// consoleListener returns the process that listens on name's console
// socket: the kernel reports it to whoever connects (SO_PEERCRED). The
// socket is in the root-only state directory, so only root can have
// made it. Zero when nothing listens.
func consoleListener(name string) proc {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return proc{}
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: runtime.ConsoleSocket(name)}); err != nil && err != unix.EAGAIN && err != unix.EINPROGRESS {
		return proc{}
	}
	cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil || cred.Pid <= 0 || cred.Uid != 0 {
		return proc{}
	}
	start, err := runtime.ProcessStartTime(int(cred.Pid))
	if err != nil || processEnded(int(cred.Pid), start) {
		return proc{}
	}
	return proc{int(cred.Pid), start}
}

// initChildOf returns the child of the holder that is PID 1 of its own PID
// namespace: the container's init (the zygote clones it with
// CLONE_PARENT, so the holder is its parent).
func initChildOf(holder proc) proc {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", holder.PID, holder.PID))
	if err != nil {
		return proc{}
	}
	for _, field := range strings.Fields(string(data)) {
		pid, err := strconv.Atoi(field)
		if err != nil {
			continue
		}
		f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		ps, err := runtime.ParseStatus(f)
		f.Close()
		if err != nil || len(ps.NSpid) < 2 || ps.InnerPID() != 1 || ps.PPid != holder.PID {
			continue
		}
		start, err := runtime.ProcessStartTime(pid)
		if err != nil || processEnded(pid, start) {
			continue
		}
		// Still the holder's child now that its start time is known.
		if processEnded(holder.PID, holder.start) {
			return proc{}
		}
		return proc{pid, start}
	}
	return proc{}
}

// initAlive reports whether the init a state names still runs.
func initAlive(st runtime.State) bool {
	if st.Status == runtime.StatusExited || st.InitPID == 0 {
		return false
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", st.InitPID))
	if err != nil {
		return false
	}
	ps, err := runtime.ParseStat(data)
	// A zombie init (whose holder died, waiting for the host's init to reap
	// it) has exited: its namespace and mounts are gone.
	return err == nil && ps.StartTime == st.InitStart && ps.State != 'Z' && ps.State != 'X'
}
