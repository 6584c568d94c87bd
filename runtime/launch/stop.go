package launch

import (
	"errors"
	"fmt"
	"os"
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
func Remove(name string, force bool, grace time.Duration) error {
	st, err := runtime.LoadState(name)
	if err != nil {
		return err
	}
	if initAlive(st) {
		if !force {
			return fmt.Errorf("remove %q: %w (stop it with `boxtui kill %s`, or use rm -f)", name, ErrStillRunning, name)
		}
		c := runtime.Container{Name: name, PID: st.InitPID, StartTime: st.InitStart}
		if err := Stop(c, grace); err != nil && !errors.Is(err, runtime.ErrNoProcess) {
			return err
		}
	}
	// The holder may be recording the exit right now; let it finish so it
	// does not write into a removed (or, worse, re-created) state.
	if st.HolderPID > 0 {
		runtime.WaitGone(st.HolderPID, st.HolderStart, 2*time.Second)
	}
	if err := runtime.RemoveState(name); err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, runtime.ErrNoState) {
			return nil // --rm, or another rm, was quicker
		}
		return err
	}
	return nil
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
