package procfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// ErrNoProcess is returned when a PID names no process.
var ErrNoProcess = errors.New("no such process")

// LiveStartTime returns the start time of pid, or 0 if it is gone. A
// zombie counts as gone: it has exited, only its parent has not reaped it.
func LiveStartTime(pid int) uint64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	st, err := ParseStat(data)
	if err != nil || st.State == 'Z' {
		return 0
	}
	return st.StartTime
}

// StartTime returns the start time (clock ticks after boot) of pid.
func StartTime(pid int) (uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) {
			return 0, fmt.Errorf("process %d: %w", pid, ErrNoProcess)
		}
		return 0, fmt.Errorf("read /proc/%d/stat: %w", pid, err)
	}
	st, err := ParseStat(data)
	if err != nil {
		return 0, err
	}
	return st.StartTime, nil
}

type DirEntry struct {
	PID int
	Ino uint64
}

// ReadPIDs lists the numeric entries of /proc with their inode numbers,
// straight from getdents64 (os.ReadDir does not hand out inode numbers).
func ReadPIDs(dir string) ([]DirEntry, error) {
	return ReadPIDsInto(dir, make([]byte, 32<<10), make([]DirEntry, 0, 512))
}

// ReadPIDsInto is ReadPIDs with the caller's getdents buffer, appending
// to out: a scanner that lists /proc every second reuses both.
func ReadPIDsInto(dir string, buf []byte, out []DirEntry) ([]DirEntry, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return out, nil
		}
		// struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
		for off := 0; off+19 <= n; {
			reclen := int(binary.NativeEndian.Uint16(buf[off+16:]))
			if reclen < 19 || off+reclen > n {
				break
			}
			ino := binary.NativeEndian.Uint64(buf[off:])
			name := buf[off+19 : off+reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if pid, ok := ParsePID(name); ok {
				out = append(out, DirEntry{PID: pid, Ino: ino})
			}
			off += reclen
		}
	}
}

// ParsePID parses a /proc entry name that is all digits.
func ParsePID(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n > 0
}

// ReadFileInto reads a small /proc file into a reused buffer. The result
// is only valid until the next call with the same buffer.
func ReadFileInto(path string, buf *[]byte) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	b := (*buf)[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		b = b[:len(b)+n]
		// /proc files are made whole on the first read: a read that did
		// not fill the buffer got everything, so skip the read of EOF.
		if len(b) < cap(b) {
			break
		}
	}
	*buf = b
	return b, nil
}

var (
	bootOnce sync.Once
	bootAt   time.Time
	PageSize = os.Getpagesize()
)

// ClockTicks is USER_HZ, which is 100 on every Linux boxtui runs on.
const ClockTicks = 100

func TicksToDuration(t uint64) time.Duration {
	return time.Duration(t) * time.Second / ClockTicks
}

// BootTime is when the machine booted, from CLOCK_BOOTTIME.
func BootTime() time.Time {
	bootOnce.Do(func() {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err == nil {
			bootAt = time.Now().Add(-time.Duration(ts.Nano()))
		}
	})
	return bootAt
}

func ReadStatus(pid int) (Status, bool) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Status{}, false
	}
	defer f.Close()
	st, err := ParseStatus(f)
	return st, err == nil
}

// OpenPidfd opens a pidfd for pid and then checks that pid is still the
// process that started at startTime. The order matters: once the pidfd is
// open it names one process for good, so a start time that still matches
// after the open proves the pidfd is the process the caller saw. A PID
// recycled before the open shows a different start time and is refused.
func OpenPidfd(pid int, startTime uint64) (int, error) {
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
	// LiveStartTime counts a zombie as gone: it has exited, only its
	// parent has not reaped it, and a signal would vanish without a word.
	if got := LiveStartTime(pid); got == 0 {
		unix.Close(fd)
		return -1, fmt.Errorf("process %d: %w (it exited)", pid, ErrNoProcess)
	} else if startTime != 0 && got != startTime {
		unix.Close(fd)
		return -1, fmt.Errorf("process %d: %w (it exited and its PID was reused)", pid, ErrNoProcess)
	}
	return fd, nil
}
