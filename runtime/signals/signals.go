package signals

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"boxtui/runtime/procfs"

	"golang.org/x/sys/unix"
)

// The real-time signals as the C library numbers them (glibc keeps the
// kernel's first two, 32 and 33, for itself): SIGRTMIN+3, systemd's stop
// signal, is 37. Names follow kill(1): RTMIN+n up to the middle, then
// RTMAX-n.
const (
	SigRTMin = unix.Signal(34)
	SigRTMax = unix.Signal(64)
)

// SystemdStop is systemd's stop signal, SIGRTMIN+3: systemd as PID 1
// halts on it (systemd-nspawn and podman stop it so), where SIGTERM makes
// it re-execute itself.
const SystemdStop = SigRTMin + 3

// Parse reads a signal as a person writes it: "TERM", "SIGTERM",
// "term", "15" or "RTMIN+3".
func Parse(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 64 {
			return 0, fmt.Errorf("unknown signal %q: numbers run from 1 to 64", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	if sig, ok := parseRT(strings.TrimPrefix(name, "SIG")); ok {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal %q: use a name such as TERM, KILL, INT, HUP, RTMIN+3 or a number", s)
}

// parseRT reads RTMIN, RTMIN+n, RTMAX and RTMAX-n.
func parseRT(name string) (unix.Signal, bool) {
	base, sign := SigRTMin, 1
	switch {
	case strings.HasPrefix(name, "RTMIN"):
		name = name[len("RTMIN"):]
	case strings.HasPrefix(name, "RTMAX"):
		base, sign = SigRTMax, -1
		name = name[len("RTMAX"):]
	default:
		return 0, false
	}
	if name == "" {
		return base, true
	}
	if (sign == 1 && name[0] != '+') || (sign == -1 && name[0] != '-') {
		return 0, false
	}
	n, err := strconv.Atoi(name[1:])
	if err != nil || n < 0 || n > int(SigRTMax-SigRTMin) || name[1] == '+' || name[1] == '-' {
		return 0, false
	}
	return base + unix.Signal(sign*n), true
}

// Name returns the short name of sig ("TERM", "RTMIN+3"), or its
// number.
func Name(sig unix.Signal) string {
	if n := unix.SignalName(sig); n != "" {
		return strings.TrimPrefix(n, "SIG")
	}
	switch mid := SigRTMin + (SigRTMax-SigRTMin)/2; {
	case sig == SigRTMin:
		return "RTMIN"
	case sig > SigRTMin && sig <= mid:
		return fmt.Sprintf("RTMIN+%d", sig-SigRTMin)
	case sig > mid && sig < SigRTMax:
		return fmt.Sprintf("RTMAX-%d", SigRTMax-sig)
	case sig == SigRTMax:
		return "RTMAX"
	}
	return strconv.Itoa(int(sig))
}

// Signal sends sig to pid, but only if pid is still the process that
// started at startTime (a StartTime from a scan); a recycled PID is never
// signalled. startTime 0 skips the check, for callers that hold the process
// some other way. It returns an error wrapping ErrNoProcess when the
// process is gone.
func Send(pid int, startTime uint64, sig unix.Signal) error {
	fd, err := procfs.OpenPidfd(pid, startTime)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for {
		err = unix.PidfdSendSignal(fd, sig, nil, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("signal %s to process %d: %w (it exited)", Name(sig), pid, procfs.ErrNoProcess)
		}
		return fmt.Errorf("signal %s to process %d: %w", Name(sig), pid, err)
	}
	return nil
}

// WaitGone waits up to timeout for the process pid (started at startTime)
// to exit. It works for processes that are not boxtui's children: the
// kernel marks a pidfd readable when its process exits. It returns true if
// the process is gone (or was already).
func WaitGone(pid int, startTime uint64, timeout time.Duration) (bool, error) {
	fd, err := procfs.OpenPidfd(pid, startTime)
	if err != nil {
		if errors.Is(err, procfs.ErrNoProcess) {
			return true, nil
		}
		return false, err
	}
	defer unix.Close(fd)
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left < 0 {
			left = 0
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(left.Milliseconds()))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("wait for process %d: %w", pid, err)
		}
		if n > 0 {
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, nil
		}
	}
}

// Syscall is what /proc/PID/syscall says of a blocked task: the number of
// the system call it sleeps in and its six arguments.
type Syscall struct {
	Nr   int64
	Args [6]uint64
}

// ParseSyscall parses /proc/PID/syscall. ok is false when the task runs
// ("running") or is blocked outside a system call ("-1 SP PC").
func ParseSyscall(data []byte) (sc Syscall, ok bool, err error) {
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return sc, false, fmt.Errorf("parse syscall: empty")
	}
	if f[0] == "running" {
		return sc, false, nil
	}
	nr, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return sc, false, fmt.Errorf("parse syscall: bad number %q", f[0])
	}
	if nr < 0 {
		return sc, false, nil
	}
	if len(f) < 7 {
		return sc, false, fmt.Errorf("parse syscall: %d fields, want the number and 6 arguments", len(f))
	}
	sc.Nr = nr
	for i := range sc.Args {
		s := f[1+i]
		if !strings.HasPrefix(s, "0x") {
			return sc, false, fmt.Errorf("parse syscall: bad argument %q", s)
		}
		if sc.Args[i], err = strconv.ParseUint(s[2:], 16, 64); err != nil {
			return sc, false, fmt.Errorf("parse syscall: bad argument %q", s)
		}
	}
	return sc, true, nil
}

// SigwaitMask returns the signals the main thread of pid waits for in
// rt_sigtimedwait (sigwaitinfo, sigtimedwait, sigwait) right now. The
// kernel unblocks them for the wait (SigBlk then leaves them out) while
// still queuing them, for a PID namespace's init too, so they count as
// blocked. It reads the waited-for set from the process's memory at the
// address the call was given; ok is false when pid is not in that wait or
// it cannot be read. Only root can do this, and what the process put
// there can only choose which stop signal it is sent.
func SigwaitMask(pid int) (mask uint64, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/syscall", pid))
	if err != nil {
		return 0, false
	}
	sc, ok, err := ParseSyscall(data)
	// Arguments: the set, the siginfo, the timeout, the size of the set.
	if err != nil || !ok || sc.Nr != unix.SYS_RT_SIGTIMEDWAIT || sc.Args[3] != 8 {
		return 0, false
	}
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return 0, false
	}
	defer mem.Close()
	var buf [8]byte
	if sc.Args[0] > math.MaxInt64 {
		return 0, false
	}
	if n, err := mem.ReadAt(buf[:], int64(sc.Args[0])); n != len(buf) || (err != nil && err != io.EOF) {
		return 0, false
	}
	return binary.NativeEndian.Uint64(buf[:]), true
}
