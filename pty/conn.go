// Package pty runs shells on pseudo-terminals and emulates the terminal they
// draw on, so the UI can show them as panes. It knows nothing about the UI
// toolkit: the UI reads Render, Cursor and Updates and feeds keys in.
//
// The emulator is our own, on x/ansi's parser, because a flood of output is
// mostly scrolling: the screen and its scrollback are one ring of lines of
// 8-byte cells with interned styles, so a scrolled line rotates the ring
// instead of copying the screen, and printable ASCII skips the parser.
// x/vt, which copied ~112-byte cells on every scroll, was 33x slower than
// tmux on `seq 1 300000`; this is about half of tmux's time (bench/).
package pty

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// Conn is a console byte stream with a window size: a PTY master we own, or
// a holder's console socket.
type Conn interface {
	io.ReadWriteCloser
	// Resize tells the other side the new window size (SIGWINCH for a PTY).
	Resize(cols, rows int) error
}

// ptyConn is a Conn over a PTY master file.
type ptyConn struct {
	*os.File
}

// NewPTYConn wraps a PTY master and takes ownership of it. Resize sets the
// window size of the PTY so the kernel sends SIGWINCH to the foreground
// process group.
//
// The master is re-opened as a non-blocking file on Go's poller: creack/pty
// calls File.Fd on it, which switches it to blocking mode, and then Close
// cannot interrupt a pending Read, so closing a pane would not hang up the
// shell until it printed something. If re-opening fails the master is used
// as it is.
func NewPTYConn(master *os.File) Conn {
	if f, err := pollable(master); err == nil {
		return ptyConn{f}
	}
	return ptyConn{master}
}

// pollable returns a non-blocking duplicate of f registered with Go's
// poller, and closes f.
func pollable(f *os.File) (*os.File, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	nfd := -1
	var derr error
	if err := rc.Control(func(fd uintptr) {
		nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, derr
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		_ = unix.Close(nfd)
		return nil, err
	}
	nf := os.NewFile(uintptr(nfd), f.Name())
	_ = f.Close()
	return nf, nil
}

// Resize sets the PTY window size. It goes through SyscallConn rather than
// cpty.Setsize, whose File.Fd call would put the master back in blocking
// mode.
func (c ptyConn) Resize(cols, rows int) error {
	rc, err := c.SyscallConn()
	if err == nil {
		cerr := rc.Control(func(fd uintptr) {
			err = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Col: uint16(cols), Row: uint16(rows)})
		})
		if err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("set size of pty %s to %dx%d: %w", c.Name(), cols, rows, err)
	}
	return nil
}

// TryWrite writes what of p the PTY takes now, without waiting: nothing
// when its input queue is full. Terminal writes keys this way when nothing
// is queued before them, sparing the hand-off to its writer goroutine.
func (c ptyConn) TryWrite(p []byte) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	n := 0
	var werr error
	if err := rc.Write(func(fd uintptr) bool {
		n, werr = unix.Write(int(fd), p)
		return true
	}); err != nil {
		return 0, err
	}
	if n < 0 {
		n = 0
	}
	if werr == unix.EAGAIN {
		werr = nil
	}
	return n, werr
}
