package procfs

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Status is what boxtui needs from /proc/PID/status.
type Status struct {
	Name string
	PPid int
	UID  int // real uid
	// NSpid lists the PID of the process in each PID namespace it is a
	// member of, outermost (the reader's own view) first, innermost last.
	NSpid []int
	// SigCgt is the mask of signals the process catches (has a handler
	// for); SigBlk the mask its main thread blocks. An init that blocks a
	// signal and reads it with signalfd or sigwaitinfo (systemd does) has
	// it in SigBlk only.
	SigCgt uint64
	SigBlk uint64
}

// InnerPID is the PID the process has in its own (innermost) PID namespace.
func (s Status) InnerPID() int {
	if len(s.NSpid) == 0 {
		return 0
	}
	return s.NSpid[len(s.NSpid)-1]
}

// CatchesSignal reports whether the process installed a handler for sig.
func (s Status) CatchesSignal(sig int) bool {
	if sig < 1 || sig > 64 {
		return false
	}
	return s.SigCgt&(1<<(uint(sig)-1)) != 0
}

// BlocksSignal reports whether the process's main thread blocks sig: the
// kernel then queues it, for a namespace's PID 1 too, for the process to
// read with signalfd or sigwaitinfo.
func (s Status) BlocksSignal(sig int) bool {
	if sig < 1 || sig > 64 {
		return false
	}
	return s.SigBlk&(1<<(uint(sig)-1)) != 0
}

// HandlesSignal reports whether sig sent to the process would reach it
// rather than be dropped, as the kernel drops a signal to a PID
// namespace's init that neither catches nor blocks it: caught or blocked.
func (s Status) HandlesSignal(sig int) bool {
	return s.CatchesSignal(sig) || s.BlocksSignal(sig)
}

// ParseStatus reads the fields of /proc/PID/status that boxtui uses.
// Unknown lines are ignored; a missing field stays zero.
func ParseStatus(r io.Reader) (Status, error) {
	var st Status
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch key {
		case "Name":
			st.Name = val
		case "PPid":
			n, err := strconv.Atoi(val)
			if err != nil {
				return st, fmt.Errorf("parse status PPid %q: %w", val, err)
			}
			st.PPid = n
		case "Uid":
			f := strings.Fields(val)
			if len(f) == 0 {
				return st, fmt.Errorf("parse status Uid: empty")
			}
			n, err := strconv.Atoi(f[0])
			if err != nil {
				return st, fmt.Errorf("parse status Uid %q: %w", val, err)
			}
			st.UID = n
		case "NSpid":
			f := strings.Fields(val)
			st.NSpid = make([]int, 0, len(f))
			for _, s := range f {
				n, err := strconv.Atoi(s)
				if err != nil || n <= 0 {
					return st, fmt.Errorf("parse status NSpid %q: bad pid %q", val, s)
				}
				st.NSpid = append(st.NSpid, n)
			}
		case "SigCgt", "SigBlk":
			n, err := strconv.ParseUint(val, 16, 64)
			if err != nil {
				return st, fmt.Errorf("parse status %s %q: %w", key, val, err)
			}
			if key == "SigCgt" {
				st.SigCgt = n
			} else {
				st.SigBlk = n
			}
		}
	}
	if err := sc.Err(); err != nil {
		return st, fmt.Errorf("read status: %w", err)
	}
	return st, nil
}

// Stat is what boxtui needs from /proc/PID/stat.
type Stat struct {
	PID   int
	Comm  string
	State byte
	PPid  int
	// StartTime is field 22: when the process started, in clock ticks after
	// boot. With the PID it names one process for ever: a recycled PID has
	// a later start time.
	StartTime uint64
	UTime     uint64 // field 14, clock ticks
	STime     uint64 // field 15, clock ticks
	RSSPages  int64  // field 24
}

// ParseStat parses the single line of /proc/PID/stat. The command name may
// itself hold spaces and parentheses, so it is taken up to the last ')'.
func ParseStat(data []byte) (Stat, error) {
	var st Stat
	open := bytes.IndexByte(data, '(')
	closeIdx := bytes.LastIndexByte(data, ')')
	if open < 0 || closeIdx < open {
		return st, fmt.Errorf("parse stat: no command name in %q", truncate(data, 64))
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(data[:open])))
	if err != nil {
		return st, fmt.Errorf("parse stat: bad pid: %w", err)
	}
	st.PID = pid
	st.Comm = string(data[open+1 : closeIdx])
	fields := strings.Fields(string(data[closeIdx+1:]))
	// fields[0] is field 3 (state); field N is fields[N-3].
	if len(fields) < 22 {
		return st, fmt.Errorf("parse stat: %d fields after the command, want at least 22", len(fields))
	}
	if len(fields[0]) != 1 {
		return st, fmt.Errorf("parse stat: bad state %q", fields[0])
	}
	st.State = fields[0][0]
	num := func(field int) (uint64, error) {
		v, err := strconv.ParseUint(fields[field-3], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse stat field %d %q: %w", field, fields[field-3], err)
		}
		return v, nil
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		return st, fmt.Errorf("parse stat: bad ppid: %w", err)
	}
	st.PPid = ppid
	if st.UTime, err = num(14); err != nil {
		return st, err
	}
	if st.STime, err = num(15); err != nil {
		return st, err
	}
	if st.StartTime, err = num(22); err != nil {
		return st, err
	}
	rss, err := strconv.ParseInt(fields[24-3], 10, 64)
	if err != nil {
		return st, fmt.Errorf("parse stat field 24: %w", err)
	}
	st.RSSPages = rss
	return st, nil
}

// ParseCmdline turns the NUL-separated /proc/PID/cmdline into arguments.
func ParseCmdline(data []byte) []string {
	data = bytes.TrimRight(data, "\x00")
	if len(data) == 0 {
		return nil
	}
	parts := bytes.Split(data, []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
