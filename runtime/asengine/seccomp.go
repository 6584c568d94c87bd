package asengine

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Filter is one seccomp filter of a process: classic BPF, as it was loaded.
type Filter struct {
	Insns []unix.SockFilter
	// Flags are the filter's flags the kernel reports back
	// (SECCOMP_FILTER_FLAG_LOG is the only one it keeps).
	Flags uint64
}

// bpfMaxInsns is the kernel's limit on one classic BPF program.
const bpfMaxInsns = 4096

// maxFilters bounds the chain read: the kernel's own bound is 32768
// instructions along the whole chain (each filter counting 4 extra), so a
// chain of more than that many filters cannot exist.
const maxFilters = 32768 / 5

// UserNotif reports whether the filter hands some system call to a
// supervisor process (SECCOMP_RET_USER_NOTIF): loaded again without that
// supervisor, those calls would fail with ENOSYS instead.
func (f Filter) UserNotif() bool {
	for _, in := range f.Insns {
		if in.Code == unix.BPF_RET|unix.BPF_K && in.K&unix.SECCOMP_RET_ACTION_FULL == unix.SECCOMP_RET_USER_NOTIF {
			return true
		}
	}
	return false
}

func init() {
	// Keep the main goroutine on the main thread (as package runtime
	// does): the thread that traces is thrown away when its goroutine
	// ends, which is what detaches a tracee that never stopped; the main
	// thread would be parked instead, still its tracer.
	runtime.LockOSThread()
}

// readFilters reads the seccomp filters of process pid (held by its
// /proc directory fd dir and its start time), oldest first.
//
// The kernel gives a process's filters out in one way only,
// PTRACE_SECCOMP_GET_FILTER, and only while the process is in a ptrace
// stop (and to a tracer with CAP_SYS_ADMIN, itself not under seccomp).
// There is no read-only interface (/proc shows only their number), and
// seccomp filters are not BPF objects that bpf(2) could list. So, for the
// few milliseconds of the read, boxtui traces the process:
//
//   - PTRACE_SEIZE, not PTRACE_ATTACH: no SIGSTOP is sent, nothing the
//     process or its parent could see as a signal;
//   - PTRACE_INTERRUPT stops it at its next return to user space; a
//     blocking call it sits in is restarted as after any stop and
//     continue (the calls that are never restarted, such as epoll_wait,
//     may return EINTR, as they do when a debugger or strace attaches);
//   - the filters are read, and PTRACE_DETACH lets it run again (a signal
//     that arrived meanwhile is handed back to it; a process that was
//     stopped before stays stopped).
//
// The tracing is done on an OS thread locked for the purpose and never
// unlocked: however this function ends (an error, a panic), the Go
// runtime ends the thread, and a tracer's exit makes the kernel detach its
// tracees and let them run. Before returning, readFilters checks that the
// process is no longer traced. A process has one tracer at a time: one
// that is already traced is waited for up to timeout (another boxtui
// reading its filters holds it for a millisecond), then refused in one
// line (a debugger); so is one that cannot be traced, or that does not
// stop within timeout (a paused container, a process in uninterruptible
// sleep).
func readFilters(dir, pid int, startTime uint64, tracer int, timeout time.Duration) ([]Filter, error) {
	// A process has one tracer at a time. Another boxtui reading the same
	// filters holds it for a millisecond: wait for it, up to timeout; a
	// debugger holds it for good: refuse.
	deadline := time.Now().Add(timeout)
	for {
		if tracer == 0 {
			filters, err := readFiltersOnce(dir, pid, startTime, timeout)
			if !errors.Is(err, errTraced) {
				return filters, err
			}
		}
		if time.Now().After(deadline) {
			if tracer = tracerOf(dir, pid); tracer > 0 {
				return nil, fmt.Errorf("process %d is traced by process %d (a debugger?): its seccomp filter cannot be read while that lasts; detach it, or exec without --as-engine", pid, tracer)
			}
			return nil, fmt.Errorf("process %d cannot be traced (tracing is forbidden here?): its seccomp filter cannot be read; exec without --as-engine", pid)
		}
		time.Sleep(2 * time.Millisecond)
		tracer = tracerOf(dir, pid)
	}
}

// errTraced is PTRACE_SEIZE's EPERM: someone else traces the process (or
// tracing is forbidden).
var errTraced = errors.New("already traced")

// tracerOf is TracerPid of the process's status, -1 if unreadable.
func tracerOf(dir, pid int) int {
	data, err := readAt(dir, pid, "status", 64<<10)
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "TracerPid:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}

// readFiltersOnce is one attempt of readFilters.
func readFiltersOnce(dir, pid int, startTime uint64, timeout time.Duration) ([]Filter, error) {
	type result struct {
		filters []Filter
		err     error
		tid     int // the tracing thread: TracerPid names it, not boxtui's PID
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		var r result
		defer func() {
			if p := recover(); p != nil {
				r.err = fmt.Errorf("reading the seccomp filters of process %d failed: %v", pid, p)
			}
			done <- r
		}()
		if unix.Gettid() == unix.Getpid() {
			// The main thread is parked, not ended, when its goroutine
			// exits locked: the tracee could stay traced. init keeps
			// the main goroutine there, so this does not happen.
			r.err = fmt.Errorf("cannot read seccomp filters from the main thread")
			return
		}
		r.tid = unix.Gettid()
		r.filters, r.err = traceFilters(dir, pid, startTime, timeout)
	}()
	r := <-done
	if err := waitUntraced(dir, pid, r.tid, time.Second); err != nil {
		return nil, err
	}
	return r.filters, r.err
}

// traceFilters runs on the locked thread: seize, interrupt, wait for the
// stop, read, detach.
func traceFilters(dir, pid int, startTime uint64, timeout time.Duration) ([]Filter, error) {
	if err := retryEINTR(func() error { return unix.PtraceSeize(pid) }); err != nil {
		switch {
		case errors.Is(err, unix.ESRCH):
			return nil, fmt.Errorf("process %d: %w (it exited)", pid, ErrNoProcess)
		case errors.Is(err, unix.EPERM):
			return nil, errTraced
		}
		return nil, fmt.Errorf("trace process %d to read its seccomp filter: %w", pid, err)
	}
	// The PID seized is the process read only if its /proc directory
	// still answers with the same start time.
	if got, err := readStartTime(dir, pid); err != nil || got != startTime {
		return nil, fmt.Errorf("process %d: %w (it exited while being read)", pid, ErrNoProcess)
	}
	if err := unix.PtraceInterrupt(pid); err != nil {
		return nil, fmt.Errorf("stop process %d to read its seccomp filter: %w", pid, err)
	}
	sig, err := waitStop(pid, timeout)
	if err != nil {
		return nil, err
	}
	filters, readErr := getFilters(pid)
	// Let it go at once; a signal taken out of its way by the stop goes
	// back to it.
	if err := ptrace(unix.PTRACE_DETACH, pid, 0, uintptr(sig)); err != nil && !errors.Is(err, unix.ESRCH) {
		return nil, fmt.Errorf("detach from process %d: %w", pid, err)
	}
	return filters, readErr
}

// waitStop waits for the seized process to report a stop, up to timeout,
// and returns the signal to hand back on detach (0 for the interrupt's
// own stop and a group stop).
func waitStop(pid int, timeout time.Duration) (unix.Signal, error) {
	deadline := time.Now().Add(timeout)
	pause := 50 * time.Microsecond
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(pid, &ws, unix.WALL|unix.WNOHANG, nil)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return 0, fmt.Errorf("wait for process %d to stop: %w", pid, err)
		case got == pid && (ws.Exited() || ws.Signaled()):
			return 0, fmt.Errorf("process %d: %w (it exited while being read)", pid, ErrNoProcess)
		case got == pid && ws.Stopped():
			if int(ws)>>16 == unix.PTRACE_EVENT_STOP {
				return 0, nil // the interrupt, or a group stop: nothing to hand back
			}
			return ws.StopSignal(), nil // a signal on its way to the process
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("process %d did not stop within %s to have its seccomp filter read (a paused container, or a process in uninterruptible sleep?): try again, or exec without --as-engine", pid, timeout)
		}
		time.Sleep(pause)
		if pause < 5*time.Millisecond {
			pause *= 2
		}
	}
}

// getFilters reads the stopped tracee's filters, newest first as the
// kernel numbers them, and returns them oldest first.
func getFilters(pid int) ([]Filter, error) {
	var out []Filter
	for i := 0; ; i++ {
		if i >= maxFilters {
			return nil, fmt.Errorf("process %d has more than %d seccomp filters", pid, maxFilters)
		}
		n, err := ptraceRet(unix.PTRACE_SECCOMP_GET_FILTER, pid, uintptr(i), 0)
		if errors.Is(err, unix.ENOENT) {
			break
		}
		if err != nil {
			return nil, filterErr(pid, err)
		}
		if n <= 0 || n > bpfMaxInsns {
			return nil, fmt.Errorf("seccomp filter %d of process %d has %d instructions", i, pid, n)
		}
		insns := make([]unix.SockFilter, n)
		m, err := ptraceRet(unix.PTRACE_SECCOMP_GET_FILTER, pid, uintptr(i), uintptr(unsafe.Pointer(&insns[0])))
		if err != nil {
			return nil, filterErr(pid, err)
		}
		if m != n {
			return nil, fmt.Errorf("seccomp filter %d of process %d changed size while read", i, pid)
		}
		md := struct{ FilterOff, Flags uint64 }{FilterOff: uint64(i)}
		if _, err := ptraceRet(unix.PTRACE_SECCOMP_GET_METADATA, pid, unsafe.Sizeof(md), uintptr(unsafe.Pointer(&md))); err != nil {
			return nil, filterErr(pid, err)
		}
		out = append(out, Filter{Insns: insns, Flags: md.Flags})
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

func filterErr(pid int, err error) error {
	switch {
	case errors.Is(err, unix.EACCES):
		return fmt.Errorf("reading the seccomp filter of process %d needs CAP_SYS_ADMIN and no seccomp filter on boxtui itself: exec without --as-engine", pid)
	case errors.Is(err, unix.EMEDIUMTYPE), errors.Is(err, unix.EINVAL), errors.Is(err, unix.EIO):
		return fmt.Errorf("this kernel does not give out seccomp filters (needs CONFIG_CHECKPOINT_RESTORE): exec without --as-engine")
	}
	return fmt.Errorf("read the seccomp filter of process %d: %w", pid, err)
}

// waitUntraced makes sure the process is not left traced by boxtui's
// thread tid: it has detached, or exited (the kernel then detaches).
func waitUntraced(dir, pid, tid int, timeout time.Duration) error {
	if tid == 0 {
		return nil // nothing was traced
	}
	deadline := time.Now().Add(timeout)
	for {
		data, err := readAt(dir, pid, "status", 64<<10)
		if err != nil {
			return nil // gone: nothing left traced
		}
		tracer := -1
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "TracerPid:"); ok {
				tracer, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		if tracer != tid { // detached: 0, or already another tracer
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d is still traced by boxtui after reading its seccomp filter", pid)
		}
		time.Sleep(time.Millisecond)
	}
}

func ptrace(req, pid int, addr, data uintptr) error {
	_, err := ptraceRet(req, pid, addr, data)
	return err
}

func ptraceRet(req, pid int, addr, data uintptr) (int, error) {
	for {
		r, _, e := unix.Syscall6(unix.SYS_PTRACE, uintptr(req), uintptr(pid), addr, data, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(r), nil
	}
}

func retryEINTR(f func() error) error {
	for {
		if err := f(); !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
