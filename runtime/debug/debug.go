// Package debug is `boxtui debug`: a shell (or a command) from a toolbox
// root, in the PID, network, IPC and UTS namespaces of a container that may
// have no shell at all, with the container's whole mount tree at /target.
//
// How it is built:
//
//  1. From the host, the process entered (the container's init, or the
//     host PID named) is held by a pidfd and its namespaces opened
//     (nsjoin.Open), and a detached copy of its whole mount tree is
//     made from its root handle (mounts.CloneRoot: open_tree on the mount
//     worker thread while it is in the container's mount namespace). The
//     copy is made a slave: nothing mounted below /target reaches the
//     container.
//  2. A thread that joined the IPC, UTS, network and PID namespaces (not
//     the mount namespace) starts the stage (package stage) from the sealed
//     binary, with the copy as fd 3: the stage is born in the container's
//     PID namespace, so the proc it mounts is the container's.
//  3. The stage unshares a mount namespace of its own (a private copy of
//     boxtui's), lays a tmpfs-backed overlay over the toolbox, mounts proc,
//     /dev and a read-only /sys there, copies the target's resolv.conf
//     and hosts into it (names resolve as in the target's network),
//     attaches the copy at /target,
//     pivots into the overlay and detaches the host's tree, then executes
//     the shell.
//
// The container's own mount namespace is never changed, and nothing is
// mounted in boxtui's: the debug namespace has no process but the shell
// and its children, and dies with them, taking every mount with it. The
// toolbox is the overlay's lower layer: whatever the shell writes goes to
// the tmpfs and is gone when it ends.
//
// The user namespace is not joined: the shell is host root in the
// container's other namespaces (as `nsenter` without -U is), so a
// container with its own user namespace can be debugged too, its files and
// processes showing their host uids. The time and cgroup namespaces are not
// joined either.
package debug

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"boxtui/runtime/containerenv"
	"boxtui/runtime/debug/stage"
	"boxtui/runtime/discovery"
	"boxtui/runtime/enter"
	"boxtui/runtime/exitstatus"
	"boxtui/runtime/mounts"
	"boxtui/runtime/namespace"
	"boxtui/runtime/nsjoin"
	"boxtui/runtime/procfs"
	"boxtui/runtime/reexec"
	"boxtui/runtime/rootfs"

	"golang.org/x/sys/unix"
)

// CommandNotFoundError names the command missing from the toolbox. It
// matches enter.ErrCommandNotFound (errors.Is).
type CommandNotFoundError struct{ Command, Tools string }

func (e *CommandNotFoundError) Error() string {
	return fmt.Sprintf("command %s not found in the toolbox %s", e.Command, e.Tools)
}

// Is makes errors.Is(err, enter.ErrCommandNotFound) true.
func (e *CommandNotFoundError) Is(target error) bool { return target == enter.ErrCommandNotFound }

// ExitCode is 127, as a shell and nsenter exit for a command not found.
func (e *CommandNotFoundError) ExitCode() int { return exitstatus.CommandNotFound }

// DefaultTools is the toolbox used without Options.Tools: boxtui's default
// rootfs (`boxtui rootfs create`).
const DefaultTools = rootfs.DefaultDir

// Options says what to run and how.
type Options struct {
	// Tools is the toolbox directory, a root filesystem whose programs the
	// shell runs; empty means DefaultTools. It is never written to.
	Tools string
	// ReadOnly makes every mount under /target read-only (in the debug
	// namespace only; the container's mounts keep their flags).
	ReadOnly bool
	// Command and its arguments, looked up in the toolbox; empty runs the
	// toolbox's /bin/bash, else /bin/sh.
	Command []string
	// Dir is the working directory in the debug root; empty means "/".
	Dir string
	// Env entries (KEY=VALUE) override PATH=containerenv.Path, HOME=/root
	// and, with TTY, TERM=xterm.
	Env []string
	// TTY runs the command on a new PTY as session leader;
	// Process.Master is the master side.
	TTY        bool
	Rows, Cols uint16
	// Stdin, Stdout and Stderr are used without TTY; nil means /dev/null.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Process is the debug shell or command, reaped as soon as it exits: the
// same as exec's.
type Process = enter.Process

// ToolsDir returns the toolbox directory opts names, absolute, after
// checking that it is a directory.
func ToolsDir(tools string) (string, error) {
	if tools == "" {
		if _, err := os.Stat(DefaultTools); err != nil {
			return "", fmt.Errorf("no toolbox at %s: create it with `boxtui rootfs create`, or give one with --tools DIR", DefaultTools)
		}
		return DefaultTools, nil
	}
	abs, err := filepath.Abs(tools)
	if err != nil {
		return "", fmt.Errorf("toolbox %s: %w", tools, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("toolbox %s: %w", tools, errors.Unwrap(err))
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("toolbox %s is not a directory: give a root filesystem with --tools DIR", tools)
	}
	return abs, nil
}

// Start starts the debug shell (or opts.Command) for container c, in the
// namespaces of c.EntryProcess(): the process a host PID named, else the
// init. Errors are one line: the container exited (procfs.ErrNoProcess),
// the command is not in the toolbox (enter.ErrCommandNotFound), ...
func Start(c discovery.Container, opts Options) (*Process, error) {
	if c.PID <= 0 {
		return nil, fmt.Errorf("debug container: no init PID given")
	}
	tools, err := ToolsDir(opts.Tools)
	if err != nil {
		return nil, err
	}
	env, err := buildEnv(opts.Env, opts.TTY)
	if err != nil {
		return nil, err
	}
	dir := opts.Dir
	if dir == "" {
		dir = "/"
	}
	// No fd boxtui was started with reaches the shell.
	reexec.CloseOnExecFrom(3)
	s := &starter{opts: opts}
	defer s.closeAll()
	if err := s.openStdio(env); err != nil {
		return nil, err
	}
	err = s.start(c, tools, dir)
	if errors.Is(err, procfs.ErrNoProcess) {
		if c.Named.PID > 0 {
			return nil, fmt.Errorf("process %d: %w (it exited while being entered)", c.Named.PID, procfs.ErrNoProcess)
		}
		return nil, fmt.Errorf("container %d: %w (its init exited while being entered)", c.PID, procfs.ErrNoProcess)
	}
	if err != nil {
		return nil, err
	}
	return s.process(c, tools), nil
}

// joined are the namespaces the stage is born in. Not mnt (the stage makes
// its own), not user (see the package comment), not cgroup or time.
var joined = []namespace.Type{namespace.IPC, namespace.UTS, namespace.Net, namespace.PID}

type starter struct {
	opts           Options
	cmd            *exec.Cmd
	close          []io.Closer
	master, stdinW *os.File
	started        bool
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

// openStdio opens the PTY pair on the host, or wires the plain streams,
// as exec does.
func (s *starter) openStdio(env []string) error {
	st, err := enter.OpenStdio(env, enter.StdioOptions{TTY: s.opts.TTY, Rows: s.opts.Rows, Cols: s.opts.Cols,
		Stdin: s.opts.Stdin, Stdout: s.opts.Stdout, Stderr: s.opts.Stderr})
	s.cmd, s.master, s.stdinW = st.Cmd, st.Master, st.StdinW
	s.close = append(s.close, st.Close...)
	return err
}

func (s *starter) start(c discovery.Container, tools, dir string) error {
	ep := c.EntryProcess()
	entry, err := nsjoin.Open(ep.PID, ep.StartTime, nsjoin.Options{Namespaces: joined})
	if err != nil {
		return err
	}
	defer entry.Close()
	tree, err := mounts.CloneRoot(ep.PID, ep.StartTime, s.opts.ReadOnly)
	if err != nil {
		return err
	}
	s.close = append(s.close, tree)
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("make status pipe: %w", err)
	}
	s.close = append(s.close, statusR, statusW)

	s.cmd.Path = "/proc/self/exe"
	s.cmd.Args = append([]string{"boxtui", stage.Name, tools, dir, "--"}, s.opts.Command...)
	s.cmd.ExtraFiles = []*os.File{tree, statusW}
	err = entry.Do(func() error {
		if err := s.cmd.Start(); err != nil {
			if errors.Is(err, unix.ENOMEM) {
				// fork into a PID namespace whose init has exited
				return fmt.Errorf("container %d: %w", c.PID, procfs.ErrNoProcess)
			}
			return fmt.Errorf("start the debug stage: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.started = true
	// Only the stage holds the copy and the pipe's write end now.
	tree.Close()
	statusW.Close()
	msg, _ := io.ReadAll(statusR)
	if len(msg) == 0 {
		return nil // EOF with nothing written: the stage exec'd the command
	}
	s.cmd.Wait()
	s.started = false
	text := string(msg)
	if rest, ok := strings.CutPrefix(text, stage.StatusNotFound); ok {
		return &CommandNotFoundError{Command: rest, Tools: tools}
	}
	if strings.HasPrefix(text, stage.StatusNoShell) {
		return fmt.Errorf("no shell in the toolbox %s (neither /bin/bash nor /bin/sh): give a command after --, or another toolbox with --tools", tools)
	}
	return fmt.Errorf("debug container %d: %s", c.PID, strings.TrimPrefix(text, stage.StatusFailed))
}

func (s *starter) process(c discovery.Container, tools string) *Process {
	what := strings.Join(s.opts.Command, " ")
	if what == "" {
		what = "shell"
	}
	return enter.Track(c, s.cmd, s.master, s.opts.Stdin, s.stdinW, fmt.Sprintf("debug %s (toolbox %s)", what, tools), "boxtui debug")
}

func buildEnv(user []string, tty bool) ([]string, error) {
	env := []string{"PATH=" + containerenv.Path, "HOME=/root"}
	if tty {
		env = append(env, "TERM=xterm")
	}
	for _, kv := range user {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" || strings.ContainsRune(kv, 0) {
			return nil, fmt.Errorf("invalid environment entry %q: want KEY=VALUE", kv)
		}
		replaced := false
		for i, e := range env {
			if strings.HasPrefix(e, k+"=") {
				env[i], replaced = kv, true
			}
		}
		if !replaced {
			env = append(env, kv)
		}
	}
	return env, nil
}
