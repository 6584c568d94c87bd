package launch

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"boxtui/runtime/discovery"
	"boxtui/runtime/events"
	"boxtui/runtime/procfs"
	"boxtui/runtime/signals"
	"boxtui/runtime/state"

	"golang.org/x/sys/unix"
)

// DefaultGrace is how long Stop waits after the stop signal before SIGKILL.
const DefaultGrace = 5 * time.Second

// killWait bounds the wait for a SIGKILLed init to be gone.
const killWait = 5 * time.Second

// Stopped says how Stop stopped a container: the signal it sent first and
// why, and what came of it. String gives it as one line for the CLI and
// the history.
type Stopped struct {
	// Signal is the first signal sent: the stop signal, or SIGKILL when
	// the init would not have received one.
	Signal unix.Signal
	// Why says why that signal: "systemd's stop signal", "caught",
	// "blocked", or for SIGKILL why no stop signal was sent.
	Why string
	// Exited is set when the init ended within the grace time of the stop
	// signal, After after sending it.
	Exited bool
	After  time.Duration
	// Killed is set when SIGKILL followed the stop signal.
	Killed bool
	Grace  time.Duration
}

func (s Stopped) String() string {
	name := "SIG" + signals.Name(s.Signal)
	switch {
	case s.Signal == unix.SIGKILL:
		return "sent SIGKILL: " + s.Why
	case s.Exited:
		return fmt.Sprintf("sent %s (%s), exited after %s", name, s.Why, seconds(s.After))
	case s.Killed:
		return fmt.Sprintf("sent %s (%s), still running after %s: sent SIGKILL", name, s.Why, seconds(s.Grace))
	}
	return fmt.Sprintf("sent %s (%s)", name, s.Why)
}

// seconds writes d as people read a stop's time: "0.004 s", "0.04 s",
// "0.3 s", "5 s".
func seconds(d time.Duration) string {
	switch {
	case d < 10*time.Millisecond:
		d = max(d.Round(time.Millisecond), time.Millisecond) // never "0 s"
	case d < 100*time.Millisecond:
		d = d.Round(10 * time.Millisecond)
	case d < 10*time.Second:
		d = d.Round(100 * time.Millisecond)
	default:
		d = d.Round(time.Second)
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}

// Stop stops any container (boxtui's or not) by its init; see StopReport.
func Stop(c discovery.Container, grace time.Duration) error {
	_, err := StopReport(c, grace)
	return err
}

// StopReport stops any container (boxtui's or not) by its init: its stop
// signal, up to grace for it to exit, then SIGKILL, which takes every
// process of the PID namespace with it. The stop signal is SIGRTMIN+3 for
// a systemd init that handles it, else SIGTERM; an init that would not
// receive it goes straight to SIGKILL (see StopSignal). The init is named
// by the host PID and start time the scan saw, so a recycled PID is never
// signalled. A target gone before the first signal is an error wrapping
// procfs.ErrNoProcess. The history records what was sent and why.
func StopReport(c discovery.Container, grace time.Duration) (Stopped, error) {
	pid, start := c.PID, c.StartTime
	if processGone(pid, start) {
		return Stopped{}, stopError(c, fmt.Errorf("process %d: %w", pid, procfs.ErrNoProcess))
	}
	sig, why := StopSignal(pid)
	res := Stopped{Signal: sig, Why: why, Grace: grace}
	if sig != unix.SIGKILL {
		_ = events.Record(c, events.Killed, fmt.Sprintf("sent SIG%s (%s), SIGKILL after %s", signals.Name(sig), why, seconds(grace)), "boxtui")
		sent := time.Now()
		if err := signals.Send(pid, start, sig); err != nil {
			return res, stopError(c, err)
		}
		gone, err := signals.WaitGone(pid, start, grace)
		if err != nil {
			return res, fmt.Errorf("stop %s: %w", describe(c), err)
		}
		if gone {
			res.Exited, res.After = true, time.Since(sent)
			waitHolder(c)
			return res, nil
		}
		res.Killed = true
		_ = events.Record(c, events.Killed, fmt.Sprintf("sent SIGKILL: still running %s after SIG%s", seconds(grace), signals.Name(sig)), "boxtui")
	} else {
		_ = events.Record(c, events.Killed, res.String(), "boxtui")
	}
	if err := signals.Send(pid, start, unix.SIGKILL); err != nil {
		if errors.Is(err, procfs.ErrNoProcess) {
			// It exited during the grace time after all.
			res.Killed, res.Exited, res.After = false, true, grace
			waitHolder(c)
			return res, nil
		}
		return res, stopError(c, err)
	}
	gone, err := signals.WaitGone(pid, start, killWait)
	if err != nil {
		return res, fmt.Errorf("stop %s: %w", describe(c), err)
	}
	if !gone {
		return res, fmt.Errorf("stop %s: still there %s after SIGKILL (stuck in the kernel?)", describe(c), killWait)
	}
	waitHolder(c)
	return res, nil
}

func stopError(c discovery.Container, err error) error {
	if errors.Is(err, procfs.ErrNoProcess) {
		return fmt.Errorf("stop %s: %w (it exited meanwhile)", describe(c), procfs.ErrNoProcess)
	}
	return fmt.Errorf("stop %s: %w", describe(c), err)
}

func describe(c discovery.Container) string {
	if c.Name != "" {
		return fmt.Sprintf("container %q", c.Name)
	}
	return fmt.Sprintf("container with init %d", c.PID)
}

// StopSignal chooses how to stop the init pid, and says why. The kernel
// drops a signal sent to a PID namespace's init unless the init catches it
// (a handler: SigCgt) or blocks it (to read it with signalfd, as systemd
// does: SigBlk; or waits for it in sigwaitinfo, which hides it from SigBlk
// for the wait: see signals.SigwaitMask), so only then is a stop signal
// worth its grace time; otherwise SIGKILL at once. A systemd init gets
// systemd's own stop signal, SIGRTMIN+3 (SIGTERM makes systemd
// re-execute, not stop). A status that cannot be read counts as handling
// SIGTERM: then we merely wait the grace time.
func StopSignal(pid int) (unix.Signal, string) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return unix.SIGTERM, "its signal handlers could not be read"
	}
	st, err := procfs.ParseStatus(bytes.NewReader(data))
	if err != nil {
		return unix.SIGTERM, "its signal handlers could not be read"
	}
	// An init waiting in sigwaitinfo has the signals it waits for
	// unblocked for the wait, not in SigBlk: add them back.
	if mask, ok := signals.SigwaitMask(pid); ok {
		st.SigBlk |= mask
	}
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	return chooseStopSignal(st, exe)
}

// chooseStopSignal is StopSignal on an init's parsed status and the
// target of its /proc/PID/exe link.
func chooseStopSignal(st procfs.Status, exe string) (unix.Signal, string) {
	if isSystemd(st.Name, exe) && st.HandlesSignal(int(signals.SystemdStop)) {
		return signals.SystemdStop, "systemd's stop signal"
	}
	switch {
	case st.CatchesSignal(int(unix.SIGTERM)):
		return unix.SIGTERM, "caught"
	case st.BlocksSignal(int(unix.SIGTERM)):
		return unix.SIGTERM, "blocked"
	}
	return unix.SIGKILL, "SIGTERM is neither caught nor blocked"
}

// isSystemd reports whether an init is systemd: its command name (which
// systemd sets to "systemd" even when started as /sbin/init) and the
// file it runs are both called systemd. A container controls both, but
// all it could gain by faking them is which stop signal it is sent.
func isSystemd(comm, exe string) bool {
	exe = strings.TrimSuffix(exe, " (deleted)") // upgraded under it
	return comm == "systemd" && path.Base(exe) == "systemd"
}

// waitHolder gives a boxtui container's holder a moment to record the exit,
// so that `ls -a` or `rm` right after a kill see it as exited.
func waitHolder(c discovery.Container) {
	if c.Name == "" {
		return
	}
	st, err := state.Load(c.Name)
	if err != nil || st.HolderPID == 0 {
		return
	}
	signals.WaitGone(st.HolderPID, st.HolderStart, 2*time.Second)
}

// SignalInit sends sig to the init of c (by the host PID and start time
// the scan saw), and nothing else: `boxtui kill -s SIG`.
func SignalInit(c discovery.Container, sig unix.Signal) error {
	if err := signals.Send(c.PID, c.StartTime, sig); err != nil {
		return stopError(c, err)
	}
	_ = events.Record(c, events.Killed, "sent SIG"+signals.Name(sig)+" to the init (asked for)", "boxtui")
	return nil
}

// processGone reports whether pid is no longer the process that started at
// start.
func processGone(pid int, start uint64) bool {
	got, err := procfs.StartTime(pid)
	return err != nil || got != start
}

// SignalProcess sends sig to the process of c whose PID inside the
// container is innerPID (the seed's `kill 6`), checked against the start
// time the scan saw.
func SignalProcess(c discovery.Container, innerPID int, sig unix.Signal) error {
	for _, p := range c.Procs {
		if p.InnerPID == innerPID {
			if err := signals.Send(p.PID, p.StartTime, sig); err != nil {
				if errors.Is(err, procfs.ErrNoProcess) {
					return fmt.Errorf("signal process %d of %s: %w (it exited meanwhile)", innerPID, describe(c), procfs.ErrNoProcess)
				}
				return err
			}
			_ = events.Record(c, events.Killed, fmt.Sprintf("SIG%s to process %d inside (host pid %d, %s)", signals.Name(sig), innerPID, p.PID, p.Comm), "boxtui")
			return nil
		}
	}
	return fmt.Errorf("%s has no process %d (see `boxtui ps %s`)", describe(c), innerPID, target(c))
}

func target(c discovery.Container) string {
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
	if err := state.ValidateName(name); err != nil {
		return err
	}
	st, stErr := state.Load(name)
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
		c := discovery.Container{Name: name, PID: init.PID, StartTime: init.start}
		if err := Stop(c, grace); err != nil && !errors.Is(err, procfs.ErrNoProcess) {
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
		if gone, _ := signals.WaitGone(holder.PID, holder.start, 2*time.Second); !gone {
			if err := signals.Send(holder.PID, holder.start, unix.SIGKILL); err != nil && !errors.Is(err, procfs.ErrNoProcess) {
				return fmt.Errorf("remove %q: end its holder (pid %d): %w", name, holder.PID, err)
			}
			if gone, _ := signals.WaitGone(holder.PID, holder.start, killWait); !gone {
				return fmt.Errorf("remove %q: its holder (pid %d) is still there %s after SIGKILL", name, holder.PID, killWait)
			}
		}
	}
	if err := state.Remove(name); err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, state.ErrNoState) {
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
	fi, err := os.Lstat(state.Dir(name))
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
func findRunning(name string, st state.State, stateOK bool) (holder, init proc) {
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
	evs, err := events.ReadAsWritten(name)
	if err != nil {
		return proc{}
	}
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i]
		if e.Kind != events.Started {
			continue
		}
		if e.InitPID <= 0 || processEnded(e.InitPID, e.InitStart) {
			return proc{}
		}
		f, err := os.Open(fmt.Sprintf("/proc/%d/status", e.InitPID))
		if err != nil {
			return proc{}
		}
		ps, err := procfs.ParseStatus(f)
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
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: state.ConsoleSocket(name)}); err != nil && err != unix.EAGAIN && err != unix.EINPROGRESS {
		return proc{}
	}
	cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil || cred.Pid <= 0 || cred.Uid != 0 {
		return proc{}
	}
	start, err := procfs.StartTime(int(cred.Pid))
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
		ps, err := procfs.ParseStatus(f)
		f.Close()
		if err != nil || len(ps.NSpid) < 2 || ps.InnerPID() != 1 || ps.PPid != holder.PID {
			continue
		}
		start, err := procfs.StartTime(pid)
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
func initAlive(st state.State) bool {
	if st.Status == state.StatusExited || st.InitPID == 0 {
		return false
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", st.InitPID))
	if err != nil {
		return false
	}
	ps, err := procfs.ParseStat(data)
	// A zombie init (whose holder died, waiting for the host's init to reap
	// it) has exited: its namespace and mounts are gone.
	return err == nil && ps.StartTime == st.InitStart && ps.State != 'Z' && ps.State != 'X'
}
