package enter

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"boxtui/runtime/containerenv"
	"boxtui/runtime/discovery"
	"boxtui/runtime/events"
	"boxtui/runtime/exitstatus"
	"boxtui/runtime/namespace"
	"boxtui/runtime/nsjoin"
	"boxtui/runtime/procfs"
	"boxtui/runtime/reexec"
	"boxtui/runtime/signals"

	"github.com/creack/pty"
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

// Options says what to run in the container and how.
type Options struct {
	// Command and its arguments. Empty runs the container's /bin/bash, or
	// /bin/sh when it has no bash. A name without a slash is looked up in
	// the PATH of Env inside the container's root.
	Command []string
	// Namespaces to join. Empty joins every namespace of the process
	// entered (the container's init, or the process the TARGET named) that
	// differs from boxtui's own (cgroup, ipc, uts, net, pid, mnt; user and time
	// too through the C enter stage).
	Namespaces []namespace.Type
	// NewMountProc reproduces the seed's recipe (`nsenter --pid=... unshare
	// --fork --mount-proc=ROOT/proc chroot ROOT`): join only the PID
	// namespace, get a mount namespace of the process's own with a fresh
	// /proc for the container's PID namespace, and chroot into the
	// container's root. Namespaces must then be empty or just pid.
	NewMountProc bool
	// Dir is the working directory inside the container; empty keeps the
	// init's (with NewMountProc: "/").
	Dir string
	// Env entries (KEY=VALUE) override the defaults PATH=containerenv.Path,
	// HOME=/root and, with TTY, TERM=xterm.
	Env []string
	// TTY runs the command on a new PTY, as session leader with the PTY as
	// its controlling terminal; Process.Master is the master side.
	TTY bool
	// Rows and Cols are the PTY's first window size (0: the kernel's 0x0).
	Rows, Cols uint16
	// AsEngine execs as the container's engine would (docker exec, podman
	// exec), on top of the namespaces: the entered process's cgroups,
	// capability sets, no_new_privs, seccomp filters, uid/gid/groups and
	// environment (runtime/asengine), and with TTY a terminal from the
	// container's own devpts. It needs the C enter stage.
	AsEngine bool
	// Stdin, Stdout and Stderr are used without TTY; nil means /dev/null.
	// An *os.File is handed to the command as is; anything else is copied.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

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

// buildEnv lays user entries over the defaults; a later entry wins.
func buildEnv(user []string, tty bool) ([]string, error) {
	// The container's own environment is not read (nsenter does not either).
	env := []string{"PATH=" + containerenv.Path, "HOME=/root"}
	if tty {
		env = append(env, "TERM=xterm")
	}
	for _, kv := range user {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" || strings.ContainsRune(kv, 0) {
			return nil, fmt.Errorf("invalid environment entry %q: want KEY=VALUE", kv)
		}
		env = setEnv(env, kv)
	}
	return env, nil
}

func setEnv(env []string, kv string) []string {
	k, _, _ := strings.Cut(kv, "=")
	for i, e := range env {
		if strings.HasPrefix(e, k+"=") {
			env[i] = kv
			return env
		}
	}
	return append(env, kv)
}

// ParseNamespaces reads a --ns list ("pid,mnt,uts"; "all" or "" means the
// default: every namespace that differs from boxtui's own).
func ParseNamespaces(list string) ([]namespace.Type, error) {
	list = strings.TrimSpace(list)
	if list == "" || list == "all" {
		return nil, nil
	}
	var out []namespace.Type
	seen := map[namespace.Type]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		t, err := parseNSName(name)
		if err != nil {
			return nil, err
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out, nil
}

// joinable are the names --ns accepts; user and time are joined by the C
// enter stage (a binary without it refuses them with the reason).
var joinable = []namespace.Type{
	namespace.Cgroup, namespace.IPC, namespace.Mnt, namespace.Net,
	namespace.PID, namespace.UTS, namespace.User, namespace.Time,
}

func parseNSName(name string) (namespace.Type, error) {
	if name == "mount" {
		name = "mnt"
	}
	for _, t := range joinable {
		if t.String() == name {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown namespace %q in --ns: give a comma-separated list of cgroup, ipc, mnt, net, pid, time, user, uts", name)
}
