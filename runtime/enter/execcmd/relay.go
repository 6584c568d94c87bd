package execcmd

import (
	"io"
	"os"
	"syscall"
	"time"

	"boxtui/runtime/enter"
	"boxtui/runtime/exitstatus"

	"github.com/charmbracelet/x/term"
	"golang.org/x/sys/unix"
)

// Session is a command a CLI started inside a container and now relays:
// `boxtui exec`'s (enter.Process) and `boxtui debug`'s.
type Session interface {
	Done() <-chan struct{}
	Wait() (enter.ExitStatus, error)
	Signal(os.Signal) error
	Resize(rows, cols uint16) error
}

// Relay is how `boxtui exec` and `boxtui debug` stay with the command they
// started: with a PTY (master non-nil) the local terminal goes raw and is
// copied both ways (stdin only when it is a terminal or interactive is
// set); the signals arriving on sigs are forwarded (SIGWINCH resizes the
// PTY); and the command's exit comes back as *exitstatus.Error with its
// code (128+N for signal N), nil for 0.
func Relay(p Session, master *os.File, stdin io.Reader, stdout io.Writer, interactive bool, sigs <-chan os.Signal) error {
	inFile, _ := stdin.(*os.File)
	stdinTTY := inFile != nil && IsTerminal(inFile)
	var outDone chan struct{}
	if master != nil {
		if stdinTTY {
			if state, err := term.MakeRaw(inFile.Fd()); err == nil {
				defer term.Restore(inFile.Fd(), state)
			}
		}
		if stdinTTY || interactive {
			go io.Copy(master, stdin)
		}
		outDone = make(chan struct{})
		go func() {
			io.Copy(stdout, master) // ends with EIO once the command is gone
			close(outDone)
		}()
	}
	for waiting := true; waiting; {
		select {
		case <-p.Done():
			waiting = false
		case sig := <-sigs:
			if sig == syscall.SIGWINCH {
				if master != nil {
					p.Resize(TerminalSize(inFile, stdout))
				}
				continue
			}
			p.Signal(sig)
		}
	}
	status, err := p.Wait()
	if master != nil {
		// The output the command wrote is already in the PTY; a process it
		// left in the background may hold the slave open, so do not wait
		// for EOF forever.
		select {
		case <-outDone:
		case <-time.After(time.Second):
		}
		master.Close()
	}
	if err != nil {
		return err
	}
	if code := status.ShellCode(); code != 0 {
		return &exitstatus.Error{Code: code}
	}
	return nil
}

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// TerminalSize returns the window size of the local terminal (stdin's, else
// stdout's), or 24x80 when there is none.
func TerminalSize(in *os.File, out io.Writer) (rows, cols uint16) {
	files := []*os.File{in}
	if f, ok := out.(*os.File); ok {
		files = append(files, f)
	}
	for _, f := range files {
		if f == nil {
			continue
		}
		if w, h, err := term.GetSize(f.Fd()); err == nil && w > 0 && h > 0 {
			return uint16(h), uint16(w)
		}
	}
	return 24, 80
}
