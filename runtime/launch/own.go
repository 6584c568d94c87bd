package launch

import (
	"fmt"
	"log"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"boxtui/runtime/launch/stage0"
	"boxtui/runtime/procfs"

	"golang.org/x/sys/unix"
)

// A `boxtui run` whose stdin is not a terminal is split by prefork.c into
// a process that only waits (the one the caller started; it never starts
// Go) and its child, which does the client's work and then holds the
// container in the same process: the holder part runs in a goroutine
// here, as a holder process would run it, and the client talks to it over
// the same pipes. A launch then starts the Go runtime once, not twice.
// The child is its own session, like any holder; when the waiting process
// is killed, the client's part ends and the holder part goes on.

// ownHolder is this process's holder part, once started.
var ownHolder struct {
	sync.Mutex
	o    *stage0.Own
	h    *holder
	done chan struct{}
}

// callerAlive is the input gate of an own holder's client console, nil in
// any other process. It asks the kernel on every write rather than waiting
// for watchCaller: when the caller dies and its stdin ends together, the
// relay may read that end-of-file first, and it must not reach the
// container as a ^D.
func callerAlive() func() bool {
	ownHolder.Lock()
	defer ownHolder.Unlock()
	if ownHolder.o == nil {
		return nil
	}
	alive := ownHolder.o.Alive.Fd()
	return func() bool {
		fds := []unix.PollFd{{Fd: int32(alive), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		return err != nil || n == 0
	}
}

// startOwnHolder sends the config to the zygote, starts the holder part
// with the init it cloned, and returns what spawnHolder returns.
func startOwnHolder(cfg *holderConfig, o *stage0.Own, goNow bool) (sp spawned, err error) {
	ownHolder.Lock()
	ownHolder.o = o
	ownHolder.Unlock()
	msg, err := stage0.EncodePreforkConfig(*cfg)
	if err != nil {
		o.Abandon()
		return sp, err
	}
	o.Config.Write(msg)
	o.Config.Close()
	sp.goSent = goNow && sendGo(o.Go)
	// What a holder process would ignore, this one must too: SIGPIPE
	// above all, or a closed stdout would end the holder with the client.
	signal.Ignore(syscall.SIGHUP, syscall.SIGPIPE, syscall.SIGINT, syscall.SIGQUIT)
	if f, err := os.OpenFile(cfg.Log, os.O_WRONLY|os.O_CREATE|os.O_APPEND|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600); err == nil {
		log.SetOutput(f)
		log.SetFlags(log.LstdFlags | log.Lmicroseconds)
		log.SetPrefix(fmt.Sprintf("holder[%d] ", os.Getpid()))
	}
	early := o.StartInit()
	reportR, reportW, err := os.Pipe()
	if err != nil {
		abandonEarly(early)
		return sp, fmt.Errorf("create launch pipe: %w", err)
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		abandonEarly(early)
		reportR.Close()
		reportW.Close()
		return sp, fmt.Errorf("create console connection: %w", err)
	}
	early.Client = os.NewFile(uintptr(pair[0]), "console client")
	console := os.NewFile(uintptr(pair[1]), "console")
	watchCaller(o, pair[1])
	h := newHolder(early.Config, reportW)
	ch := make(chan struct{})
	ownHolder.Lock()
	ownHolder.h, ownHolder.done = h, ch
	ownHolder.Unlock()
	go func() {
		defer close(ch)
		h.run(early)
	}()
	sp.pid, sp.report, sp.goW, sp.console, sp.done = os.Getpid(), reportR, o.Go, console, ch
	return sp, nil
}

// abandonEarly undoes an early part whose holder part will not run.
func abandonEarly(early *stage0.Holder) {
	if early.InitPID > 0 {
		unix.Kill(early.InitPID, unix.SIGKILL)
		reap(early.InitPID)
	}
	if early.PidFD >= 0 {
		unix.Close(early.PidFD)
	}
	for _, f := range []*os.File{early.Master, early.ReadyR} {
		if f != nil {
			f.Close()
		}
	}
}

// watchCaller ends the client's part when the waiting process is gone:
// the client's console connection is shut (its input is already gated by
// callerAlive) and the caller's stdio let go, so the client returns while
// the container runs on.
func watchCaller(o *stage0.Own, consoleFD int) {
	probe, err := unix.Dup(consoleFD)
	if err != nil {
		return
	}
	unix.CloseOnExec(probe)
	go func() {
		var b [1]byte
		o.Alive.Read(b[:]) // nothing is ever written: this returns at EOF
		unix.Shutdown(probe, unix.SHUT_RDWR)
		unix.Close(probe)
		o.Release(1)
	}()
}

// holderChildren are the holder processes this process started whose
// launch succeeded: its children until it exits.
var holderChildren struct {
	sync.Mutex
	list []holderChild
}

type holderChild struct {
	initPID   int
	initStart uint64
	done      <-chan struct{} // closed once the holder is reaped
}

func rememberHolder(initPID int, initStart uint64, done <-chan struct{}) {
	holderChildren.Lock()
	defer holderChildren.Unlock()
	holderChildren.list = append(holderChildren.list, holderChild{initPID, initStart, done})
}

// holderExitWait bounds how long Exit waits for the holder of a container
// that has exited: it only records the exit and flushes its clients.
const holderExitWait = 5 * time.Second

// reapFinishedHolders waits for every holder this process started whose
// container has exited, so that none is left for the host's PID 1 to
// reap. The holder of a container that runs on (run -d, a detach) must
// outlive this process by design and is not waited for.
func reapFinishedHolders() {
	holderChildren.Lock()
	list := holderChildren.list
	holderChildren.list = nil
	holderChildren.Unlock()
	var deadline <-chan time.Time
	for _, hc := range list {
		select {
		case <-hc.done:
			continue
		default:
		}
		if !processEnded(hc.initPID, hc.initStart) {
			continue
		}
		if deadline == nil {
			deadline = time.After(holderExitWait)
		}
		select {
		case <-hc.done:
		case <-deadline:
			return
		}
	}
}

// processEnded reports whether pid is no longer the process that started
// at start, or is a zombie: it has exited, only its reaping is due.
func processEnded(pid int, start uint64) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	ps, err := procfs.ParseStat(data)
	return err != nil || ps.StartTime != start || ps.State == 'Z' || ps.State == 'X'
}

// Exit ends a `boxtui run` (or any command) process: a holder preforked for
// it and never used is ended first; a client that is its own holder tells
// the waiting process its exit code and, if its container still runs,
// stays on as its holder until the container has exited. A run that never
// launched has the waiting process wait for this one's exit, so that a
// failed run leaves no process behind, not even briefly.
func Exit(code int) {
	stage0.DiscardPrefork()
	ownHolder.Lock()
	o, h, done := ownHolder.o, ownHolder.h, ownHolder.done
	ownHolder.Unlock()
	if o == nil {
		o = stage0.TakeOwnHolder()
	}
	if o == nil {
		reapFinishedHolders()
		os.Exit(code)
	}
	if h == nil {
		o.Abandon()
		o.Exiting(code)
		os.Exit(code)
	}
	// A container that has exited is waited for (its state is gone by
	// then), and the waiting process waits for this one's exit too: it is
	// its parent, and a process it left behind would be for the host's
	// PID 1 to reap (one that does not reap, as in a CI container, piles
	// them up). Only a container that runs on keeps this process as its
	// holder, let go by the waiting process.
	h.mu.Lock()
	exited := h.exited
	h.mu.Unlock()
	if exited {
		<-done
		o.Exiting(code)
		os.Exit(code)
	}
	o.Release(code)
	<-done
	os.Exit(code)
}
