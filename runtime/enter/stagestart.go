package enter

import (
	"fmt"
	"io"
	"os"
	"strings"

	"boxtui/runtime/discovery"
	"boxtui/runtime/enter/stage"
	"boxtui/runtime/namespace"
	"boxtui/runtime/nsjoin"

	"golang.org/x/sys/unix"
)

// useStage says whether Start goes through the C enter stage (package
// stage): whenever the binary has it, unless BOXTUI_ENTER_STAGE=go asks for
// the Go thread path, which tests compare it with (that path cannot join
// user or time namespaces).
func useStage() bool {
	return stage.Available && os.Getenv("BOXTUI_ENTER_STAGE") != "go"
}

// startJoinedStage is startJoined through the enter stage: the process
// entered's namespaces (user and time too), root and working directory.
func (s *starter) startJoinedStage(c discovery.Container) error {
	ep := c.EntryProcess()
	entry, err := nsjoin.Open(ep.PID, ep.StartTime, nsjoin.Options{
		Namespaces: s.opts.Namespaces, Root: true, Cwd: true, UserTime: true,
	})
	if err != nil {
		return err
	}
	defer entry.Close()
	return s.startStage(c, entry, stage.Config{Dir: s.opts.Dir})
}

// startNewMountProcStage is startNewMountProc through the enter stage: born
// in the PID namespace of the process entered, it joins its mount
// namespace (to copy it), and its user and time namespaces when they
// differ from ours, then makes a mount namespace of its own with a fresh
// /proc under the process's root.
func (s *starter) startNewMountProcStage(c discovery.Container) error {
	ep := c.EntryProcess()
	nss := []namespace.Type{namespace.PID, namespace.Mnt}
	if theirs, err := namespace.Read(ep.PID); err == nil {
		ours := namespace.Host()
		for _, t := range []namespace.Type{namespace.User, namespace.Time} {
			if theirs[t] != 0 && theirs[t] != ours[t] {
				nss = append(nss, t)
			}
		}
	} // else nsjoin.Open says the process is gone
	entry, err := nsjoin.Open(ep.PID, ep.StartTime, nsjoin.Options{
		Namespaces: nss, Root: true, UserTime: true,
	})
	if err != nil {
		return err
	}
	defer entry.Close()
	err = s.startStage(c, entry, stage.Config{Dir: s.opts.Dir, MountProc: true})
	if msg, ok := err.(stageError); ok {
		return fmt.Errorf("enter container %d with a new mount namespace: %s", c.PID, string(msg))
	}
	return err
}

// stageError is the stage's own report of a failure: its message as is.
type stageError string

func (e stageError) Error() string { return string(e) }

// startStage starts the enter stage for entry, with cfg completed from the
// entry and s.opts, and returns once the stage has executed the command
// (or reported why not). The stage is this binary: /proc/self/exe, which
// is the sealed copy (package exeseal), as for every stage boxtui starts
// inside a container.
func (s *starter) startStage(c discovery.Container, entry *nsjoin.Entry, cfg stage.Config) error {
	cfg.Target = entry.PID
	cfg.Env, cfg.Args = s.env, s.opts.Command
	cfg.Root, cfg.Cwd = -1, -1

	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("make stage config pipe: %w", err)
	}
	s.close = append(s.close, cfgR, cfgW)
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("make stage status pipe: %w", err)
	}
	s.close = append(s.close, statusR, statusW)
	extra := []*os.File{cfgR, statusW}
	// pass hands fd to the stage as the next descriptor after the fixed
	// ones. A duplicate: the entry keeps and closes its own.
	pass := func(fd int, name string) (int, error) {
		dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return -1, fmt.Errorf("enter process %d: pass its %s to the stage: %w", entry.PID, name, err)
		}
		f := os.NewFile(uintptr(dup), name)
		s.close = append(s.close, f)
		extra = append(extra, f)
		return stage.ConfigFD + len(extra) - 1, nil
	}
	for _, ns := range entry.StageNamespaces() {
		fd, err := pass(ns.FD, ns.Type.String()+" namespace")
		if err != nil {
			return err
		}
		cfg.NS = append(cfg.NS, stage.NS{FD: fd, Flag: ns.Flag})
		if ns.Type == namespace.User {
			// nsenter -U: root inside, its groups dropped.
			cfg.SetID, cfg.UID, cfg.GID = true, 0, 0
		}
	}
	if fd := entry.RootFD(); fd >= 0 {
		if cfg.Root, err = pass(fd, "root"); err != nil {
			return err
		}
	}
	if fd := entry.CwdFD(); fd >= 0 {
		if cfg.Cwd, err = pass(fd, "working directory"); err != nil {
			return err
		}
	}
	if s.engine != nil {
		recs, err := s.engine.records(pass, s.opts.Rows, s.opts.Cols)
		if err != nil {
			return err
		}
		cfg.Profile = append(cfg.Profile, recs...)
	}

	s.cmd.Path = "/proc/self/exe"
	s.cmd.Args = []string{"boxtui", stage.Name}
	// The command's environment travels in the block; the stage itself,
	// a process inside the container, gets none of boxtui's.
	s.cmd.Env = []string{}
	s.cmd.ExtraFiles = extra
	if err := entry.DoInPID(func() error { return s.startCmd(c, "boxtui "+stage.Name) }); err != nil {
		return err
	}
	// Our copies of the stage's ends: the status pipe then reads EOF once
	// the stage has executed the command or exited.
	cfgR.Close()
	statusW.Close()
	block := cfg.Encode()
	_, _ = cfgW.Write(block) // a stage that died early shows on the status pipe
	cfgW.Close()
	msg, _ := io.ReadAll(statusR)
	if len(msg) == 0 {
		return s.engineStarted()
	}
	s.cmd.Wait()
	s.started = false
	text := string(msg)
	if rest, ok := strings.CutPrefix(text, stage.StatusNotFound); ok {
		return &CommandNotFoundError{Command: rest}
	}
	return stageError(strings.TrimPrefix(text, stage.StatusError))
}
