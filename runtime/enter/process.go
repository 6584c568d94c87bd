package enter

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	"github.com/creack/pty"

	"boxtui/runtime/discovery"
	"boxtui/runtime/events"
	"boxtui/runtime/signals"
)

// ExitStatus says how an entered process ended.
type ExitStatus struct {
	// Code is the exit code, or -1 when a signal killed the process.
	Code int
	// Signal is the signal that killed it, 0 when it exited.
	Signal syscall.Signal
}

// ShellCode is the status a shell would report in $?: the exit code, or
// 128 plus the number of the signal that killed the process.
func (s ExitStatus) ShellCode() int {
	if s.Signal != 0 {
		return 128 + int(s.Signal)
	}
	return s.Code
}

// String reads "exited with status 7" or "killed by signal TERM".
func (s ExitStatus) String() string {
	if s.Signal != 0 {
		return "killed by signal " + signals.Name(s.Signal)
	}
	return fmt.Sprintf("exited with status %d", s.Code)
}

// Process is a command running inside a container. It is reaped as soon as
// it exits, whether or not anyone calls Wait.
type Process struct {
	// Pid is the host PID of the command.
	Pid int
	// Master is the PTY master when Options.TTY was set, nil otherwise.
	// The caller owns it and closes it once it has read the output (reads
	// fail with EIO after the last holder of the slave side exits).
	Master *os.File

	proc   *os.Process
	done   chan struct{}
	status ExitStatus
	err    error
}

// Wait blocks until the process has exited and returns how it ended. It can
// be called any number of times, from any goroutine.
func (p *Process) Wait() (ExitStatus, error) {
	<-p.done
	return p.status, p.err
}

// Done is closed once the process has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Signal sends sig to the process. The process is held by a pidfd, so a
// signal never reaches another process that reused its PID; once it has
// exited, Signal returns os.ErrProcessDone.
func (p *Process) Signal(sig os.Signal) error {
	select {
	case <-p.done:
		return os.ErrProcessDone
	default:
	}
	return p.proc.Signal(sig)
}

// Resize sets the window size of the PTY (and so sends SIGWINCH to the
// command). It is a no-op without TTY.
func (p *Process) Resize(rows, cols uint16) error {
	if p.Master == nil {
		return nil
	}
	if err := pty.Setsize(p.Master, &pty.Winsize{Rows: rows, Cols: cols}); err != nil {
		return fmt.Errorf("resize pty of process %d: %w", p.Pid, err)
	}
	return nil
}

// Track makes the Process of cmd, just started inside container c with
// the PTY master (or nil): it copies stdin into stdinW (when not nil),
// records the exec-opened event ("host pid N: " and what), reaps the
// command as soon as it exits and records exec-closed as by. `boxtui exec`
// and `boxtui debug` both start their commands this way.
func Track(c discovery.Container, cmd *exec.Cmd, master *os.File, stdin io.Reader, stdinW *os.File, what, by string) *Process {
	p := &Process{
		Pid:    cmd.Process.Pid,
		Master: master,
		proc:   cmd.Process,
		done:   make(chan struct{}),
	}
	if stdinW != nil {
		go func(in io.Reader, w *os.File) {
			io.Copy(w, in)
			w.Close()
		}(stdin, stdinW)
	}
	_ = events.RecordExecOpened(c, fmt.Sprintf("host pid %d: %s", p.Pid, what))
	go func() {
		err := cmd.Wait()
		var exit *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &exit):
			err = nil
		case errors.Is(err, exec.ErrWaitDelay):
			err = nil
		}
		p.status = statusOf(cmd.ProcessState)
		p.err = err
		_ = events.Record(c, events.ExecClosed, fmt.Sprintf("host pid %d: %s", p.Pid, p.status), by)
		close(p.done)
	}()
	return p
}

func statusOf(ps *os.ProcessState) ExitStatus {
	if ps == nil {
		return ExitStatus{Code: -1}
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ExitStatus{Code: -1, Signal: ws.Signal()}
	}
	return ExitStatus{Code: ps.ExitCode()}
}
