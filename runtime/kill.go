package runtime

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// ParseSignal reads a signal as a person writes it: "TERM", "SIGTERM",
// "term" or "15".
func ParseSignal(s string) (unix.Signal, error) {
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
	return 0, fmt.Errorf("unknown signal %q: use a name such as TERM, KILL, INT, HUP or a number", s)
}

// SignalName returns the short name of sig ("TERM"), or its number.
func SignalName(sig unix.Signal) string {
	if n := unix.SignalName(sig); n != "" {
		return strings.TrimPrefix(n, "SIG")
	}
	return strconv.Itoa(int(sig))
}

// openPidfd opens a pidfd for pid and then checks that pid is still the
// process that started at startTime. The order matters: once the pidfd is
// open it names one process for good, so a start time that still matches
// after the open proves the pidfd is the process the caller saw. A PID
// recycled before the open shows a different start time and is refused.
func openPidfd(pid int, startTime uint64) (int, error) {
	if pid <= 0 {
		return -1, fmt.Errorf("process %d: %w", pid, ErrNoProcess)
	}
	var fd int
	var err error
	for {
		fd, err = unix.PidfdOpen(pid, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return -1, fmt.Errorf("process %d: %w (it exited)", pid, ErrNoProcess)
		}
		return -1, fmt.Errorf("open pidfd of process %d: %w", pid, err)
	}
	// processStartTime counts a zombie as gone: it has exited, only its
	// parent has not reaped it, and a signal would vanish without a word.
	if got := processStartTime(pid); got == 0 {
		unix.Close(fd)
		return -1, fmt.Errorf("process %d: %w (it exited)", pid, ErrNoProcess)
	} else if startTime != 0 && got != startTime {
		unix.Close(fd)
		return -1, fmt.Errorf("process %d: %w (it exited and its PID was reused)", pid, ErrNoProcess)
	}
	return fd, nil
}

// Signal sends sig to pid, but only if pid is still the process that
// started at startTime (a StartTime from a scan); a recycled PID is never
// signalled. startTime 0 skips the check, for callers that hold the process
// some other way. It returns an error wrapping ErrNoProcess when the
// process is gone.
func Signal(pid int, startTime uint64, sig unix.Signal) error {
	fd, err := openPidfd(pid, startTime)
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
			return fmt.Errorf("signal %s to process %d: %w (it exited)", SignalName(sig), pid, ErrNoProcess)
		}
		return fmt.Errorf("signal %s to process %d: %w", SignalName(sig), pid, err)
	}
	return nil
}

// WaitGone waits up to timeout for the process pid (started at startTime)
// to exit. It works for processes that are not boxtui's children: the
// kernel marks a pidfd readable when its process exits. It returns true if
// the process is gone (or was already).
func WaitGone(pid int, startTime uint64, timeout time.Duration) (bool, error) {
	fd, err := openPidfd(pid, startTime)
	if err != nil {
		if errors.Is(err, ErrNoProcess) {
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
