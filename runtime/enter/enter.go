package enter

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strings"

	"boxtui/runtime/containerenv"
	"boxtui/runtime/discovery"
	"boxtui/runtime/exitstatus"
	"boxtui/runtime/namespace"
	"boxtui/runtime/nsjoin"
	"boxtui/runtime/procfs"
	"boxtui/runtime/reexec"

	"golang.org/x/sys/unix"
)

// ErrCommandNotFound matches (errors.Is) the error Start returns when the
// command does not exist, or is not executable, inside the container.
var ErrCommandNotFound = errors.New("command not found in the container")

// CommandNotFoundError names the command that was missing inside the
// container; it reads "command /bin/nope not found in the container".
type CommandNotFoundError struct{ Command string }

// Error reads "command /bin/nope not found in the container".
func (e *CommandNotFoundError) Error() string {
	return fmt.Sprintf("command %s not found in the container", e.Command)
}

// Is makes errors.Is(err, ErrCommandNotFound) true.
func (e *CommandNotFoundError) Is(target error) bool { return target == ErrCommandNotFound }

// ExitCode is 127, as a shell and nsenter exit for a command not found.
func (e *CommandNotFoundError) ExitCode() int { return exitstatus.CommandNotFound }

// Start runs opts.Command inside container c (which names its init by
// c.PID and c.StartTime, as discovery.FindContainer and FindInit return it),
// in the namespaces, root and working directory of c.EntryProcess(): the
// process the TARGET named (c.Named), else the init. It returns once the command runs; its errors are one-line and say
// what was wrong: the container exited (procfs.ErrNoProcess), a user or
// time namespace in a binary without the C enter stage
// (nsjoin.ErrUserNamespace, ErrTimeNamespace), the command is missing
// (ErrCommandNotFound).
func Start(c discovery.Container, opts Options) (*Process, error) {
	if c.PID <= 0 {
		return nil, fmt.Errorf("enter container: no init PID given")
	}
	var engine *engineExec
	if opts.AsEngine {
		var err error
		if engine, err = prepareAsEngine(c, opts); err != nil {
			return nil, err
		}
		defer engine.close()
	}
	env, err := buildEnv(opts.Env, opts.TTY)
	if engine != nil && err == nil {
		env, err = engine.env(opts.Env, opts.TTY)
	}
	if err != nil {
		return nil, err
	}
	if opts.NewMountProc {
		for _, t := range opts.Namespaces {
			if t != namespace.PID && t != namespace.PIDForChildren {
				return nil, fmt.Errorf("new mount proc joins only the pid namespace, not %s: drop the namespace list or give just pid", t)
			}
		}
	}

	// No fd boxtui was started with reaches the command (a directory of
	// the host would let it out: runc's CVE-2024-21626).
	reexec.CloseOnExecFrom(3)
	s := &starter{opts: opts, env: env, engine: engine}
	defer s.closeAll()
	if err := s.openStdio(); err != nil {
		return nil, err
	}
	switch {
	case opts.NewMountProc && useStage():
		err = s.startNewMountProcStage(c)
	case opts.NewMountProc:
		err = s.startNewMountProc(c)
	case useStage():
		err = s.startJoinedStage(c)
	default:
		err = s.startJoined(c)
	}
	if errors.Is(err, procfs.ErrNoProcess) {
		// Whichever step noticed it, say it the same way.
		if c.Named.PID > 0 {
			return nil, fmt.Errorf("process %d: %w (it exited while being entered)", c.Named.PID, procfs.ErrNoProcess)
		}
		return nil, fmt.Errorf("container %d: %w (its init exited while being entered)", c.PID, procfs.ErrNoProcess)
	}
	if err != nil {
		return nil, err
	}
	return s.process(c), nil
}

// starter holds what Start opened, so a failure anywhere releases it.
type starter struct {
	opts  Options
	env   []string
	cmd   *exec.Cmd
	close []io.Closer // closed when Start returns, success or not
	// master and stdinW are handed to the Process on success and closed
	// on failure.
	master, stdinW *os.File
	started        bool
	engine         *engineExec // Options.AsEngine
}

func (s *starter) closeAll() {
	for _, c := range s.close {
		c.Close()
	}
	if !s.started {
		if s.master != nil {
			s.master.Close()
		}
		if s.stdinW != nil {
			s.stdinW.Close()
		}
	}
}

// openStdio opens the PTY pair (in the host: the container may have no
// /dev/ptmx) or wires up the plain streams, before anything is joined.
func (s *starter) openStdio() error {
	if s.opts.TTY && s.engine != nil {
		s.cmd = &exec.Cmd{Env: s.env}
		return s.openEngineStdio() // the stage opens the container's own
	}
	st, err := OpenStdio(s.env, StdioOptions{TTY: s.opts.TTY, Rows: s.opts.Rows, Cols: s.opts.Cols,
		Stdin: s.opts.Stdin, Stdout: s.opts.Stdout, Stderr: s.opts.Stderr})
	s.cmd, s.master, s.stdinW = st.Cmd, st.Master, st.StdinW
	s.close = append(s.close, st.Close...)
	return err
}

// startJoined is the default without the enter stage (a binary without
// cgo, BOXTUI_ENTER_STAGE=go): join the namespaces, root and working
// directory of the process entered (the one named, else the init) on a
// throwaway thread and start the command from there. It cannot join a user
// or time namespace.
func (s *starter) startJoined(c discovery.Container) error {
	ep := c.EntryProcess()
	entry, err := nsjoin.Open(ep.PID, ep.StartTime, nsjoin.Options{
		Namespaces: s.opts.Namespaces, Root: true, Cwd: true,
	})
	if err != nil {
		return err
	}
	defer entry.Close()
	return entry.Do(func() error {
		// Everything below resolves inside the container: this thread is
		// chrooted into its root and sits in its working directory.
		path, args, err := lookCommand(s.opts.Command, containerenv.EnvPath(s.env), statInRoot)
		if err != nil {
			return err
		}
		if s.opts.Dir != "" {
			var st unix.Stat_t
			// Change there on this thread (its cwd is its own), so the
			// check below sees where the command will start.
			if err := unix.Stat(s.opts.Dir, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR ||
				unix.Chdir(s.opts.Dir) != nil {
				return fmt.Errorf("working directory %s not found in the container", s.opts.Dir)
			}
		}
		// The init's working directory, or -w relative to it, may lie
		// outside its root (an init that chrooted and kept its old cwd):
		// a command started there could walk up to the host's files.
		if !cwdInside() {
			return errCwdOutside
		}
		s.cmd.Path, s.cmd.Args = path, args
		return s.startCmd(c, path)
	})
}

// errCwdOutside is the refusal when the working directory is not under the
// root entered (fastexec.c's CWD_OUTSIDE says the same: keep them equal).
var errCwdOutside = errors.New("working directory is outside the container's root: refusing to start there (a process there could reach the host's files)")

// cwdInside reports whether this thread's working directory is reachable
// from its root: the kernel's getcwd prefixes "(unreachable)" otherwise.
func cwdInside() bool {
	buf := make([]byte, unix.PathMax+1)
	n, err := unix.Getcwd(buf)
	return err == nil && n > 0 && buf[0] == '/'
}

// startCmd starts s.cmd and translates the ways the kernel says no.
func (s *starter) startCmd(c discovery.Container, path string) error {
	if err := s.cmd.Start(); err != nil {
		var pathErr *fs.PathError
		switch {
		case errors.As(err, &pathErr) && pathErr.Op == "fork/exec" && errors.Is(err, unix.ENOENT):
			return &CommandNotFoundError{Command: path}
		case errors.Is(err, unix.ENOMEM):
			// fork into a PID namespace whose init has exited.
			return fmt.Errorf("container %d: %w (it exited while being entered)", c.PID, procfs.ErrNoProcess)
		case errors.As(err, &pathErr) && pathErr.Op == "fork/exec":
			// As the enter stage and fastexec.c say it.
			return fmt.Errorf("exec %s: %w", path, pathErr.Err)
		}
		return fmt.Errorf("start %s in container %d: %w", path, c.PID, err)
	}
	s.started = true
	return nil
}

// process wraps the started command and reaps it in the background. The
// exec's opening and its end go into c's history (informative: failing to
// write it never fails the exec); the end is recorded before Done closes,
// so a caller that exits right after Wait does not lose it.
func (s *starter) process(c discovery.Container) *Process {
	what := strings.Join(s.opts.Command, " ")
	if what == "" {
		what = "the container's shell"
	}
	if s.engine != nil {
		what += " (--as-engine)"
	}
	return Track(c, s.cmd, s.master, s.opts.Stdin, s.stdinW, what, "boxtui exec")
}
