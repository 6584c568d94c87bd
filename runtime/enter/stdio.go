package enter

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/creack/pty"
)

// StdioOptions says how a command started in a container is wired.
type StdioOptions struct {
	TTY        bool   // a new PTY, the command its session leader
	Rows, Cols uint16 // the PTY's first size (0: the kernel's)
	// Without TTY: nil means the host's /dev/null; an *os.File is handed
	// over as is; any other reader is copied into a pipe (Track does it).
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Stdio is a command's streams, opened on the host before anything is
// joined. Close lists what to close once the command has started (or
// failed to); Master (the PTY master) and StdinW (the stdin pipe's write
// end) go to Track, or are closed by the caller on failure.
type Stdio struct {
	Cmd            *exec.Cmd
	Master, StdinW *os.File
	Close          []io.Closer
}

// OpenStdio makes the *exec.Cmd (with env) of a command to start inside a
// container and its streams: a PTY pair, or the plain streams. It is the
// same for `boxtui exec` and `boxtui debug`. On an error, what was opened
// is in the result all the same, for the caller to close.
func OpenStdio(env []string, o StdioOptions) (Stdio, error) {
	cmd := &exec.Cmd{Env: env}
	st := Stdio{Cmd: cmd}
	if o.TTY {
		master, slave, err := pty.Open()
		if err != nil {
			return st, fmt.Errorf("open a pty: %w", err)
		}
		st.Master = master
		st.Close = append(st.Close, slave)
		if o.Rows > 0 || o.Cols > 0 {
			if err := pty.Setsize(master, &pty.Winsize{Rows: o.Rows, Cols: o.Cols}); err != nil {
				return st, fmt.Errorf("set pty size: %w", err)
			}
		}
		cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
		// The command is a session leader with the PTY as its controlling
		// terminal, so job control and ^C work inside.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
		return st, nil
	}
	// Its own process group: a ^C on boxtui's terminal reaches the command
	// once, forwarded by the caller, not twice.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// os/exec opens /dev/null itself for nil streams, at Start: inside
	// the container's root, which may have no /dev/null. Open the host's.
	var devNull *os.File
	if o.Stdin == nil || o.Stdout == nil || o.Stderr == nil {
		f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return st, fmt.Errorf("open %s: %w", os.DevNull, err)
		}
		st.Close = append(st.Close, f)
		devNull = f
	}
	switch in := o.Stdin.(type) {
	case nil:
		cmd.Stdin = devNull
	case *os.File:
		cmd.Stdin = in
	default:
		// os/exec would make Wait wait for this copy, which blocks on
		// the reader for as long as it likes; copy on our own instead.
		r, w, err := os.Pipe()
		if err != nil {
			return st, fmt.Errorf("make stdin pipe: %w", err)
		}
		st.Close = append(st.Close, r)
		st.StdinW = w
		cmd.Stdin = r
	}
	cmd.Stdout, cmd.Stderr = o.Stdout, o.Stderr
	if cmd.Stdout == nil {
		cmd.Stdout = devNull
	}
	if cmd.Stderr == nil {
		cmd.Stderr = devNull
	}
	// A background process inside that keeps the output pipes open must
	// not keep Wait from returning.
	cmd.WaitDelay = 2 * time.Second
	return st, nil
}
