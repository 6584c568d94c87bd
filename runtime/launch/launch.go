// Package launch starts boxtui containers that outlive whoever started them,
// serves their consoles, and stops and removes them.
//
// A launch is three processes, all of them this same binary re-executed:
// the client (`boxtui run` or the UI) calls Run; Run starts a setsid'd
// holder (stage __boxtui-holder) that owns the container's PTY master, and
// the holder starts the init stage (__boxtui-init) in new PID, mount, UTS and
// IPC namespaces. The init stage makes its mounts, changes root, waits for a
// go byte from the client (so Options.Prepare can add mounts first) and then
// execs the command, which thereby is PID 1 of the container. The client may
// die at any time after that; the holder reaps the init, records its exit
// status and serves the console on a root-only unix socket.
//
// Like its parent package it must never import the UI.
package launch

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"boxtui/runtime/launch/stage0"
	"boxtui/runtime/privilege"
	"boxtui/runtime/procfs"
	"boxtui/runtime/reexec"
	"boxtui/runtime/rootfs"
	"boxtui/runtime/state"
)

// DefaultRootfs is the rootfs used when Options.Rootfs is empty: where
// `boxtui rootfs create` puts it.
const DefaultRootfs = rootfs.DefaultDir

// Stage names of the hidden re-exec entry points; their early parts run in
// package stage0.
const (
	holderStage = stage0.HolderStage
	initStage   = stage0.InitStage
)

func init() {
	reexec.Register(holderStage, holderMain)
	reexec.Register(initStage, stage0.RunInit)
}

// Options describes a container to launch.
type Options struct {
	// Name is the container's name; empty picks a short unused one.
	Name string
	// Rootfs is the directory that becomes the container's root; empty
	// means DefaultRootfs.
	Rootfs string
	// Command is the command and its arguments, run as PID 1. Empty means
	// /bin/bash if the rootfs has it, else /bin/sh. A name without a slash
	// is looked up in the container's PATH.
	Command []string
	// Hostname defaults to the name.
	Hostname string
	// Net gives the container its own (empty) network namespace.
	Net bool
	// Remove drops the state when the container exits (`run --rm`).
	Remove bool
	// Mounts are recorded in the state as the container's bind mounts. Run
	// does not make them: Prepare does.
	Mounts []state.MountRecord
	// Prepare, if set, is called with the host PID of the container's init
	// once its namespaces, mounts and root are in place but before it execs
	// the command, so mounts added into its mount namespace are there from
	// the command's first instruction. An error aborts the launch.
	Prepare func(initPID int) error
	// Env is added to the command's environment (KEY=VALUE), after
	// PATH, HOME, TERM and HOSTNAME, which it can override.
	Env []string
	// Rows and Cols are the initial console size (0: 24x80).
	Rows, Cols int
	// Raw turns off echo and output processing on the console, for a
	// client whose stdin and stdout are not a terminal: the command's output
	// then arrives byte for byte. Canonical input stays on, so the client
	// can send end-of-file as ^D.
	Raw bool
	// Console dials the console before the command starts, so not a byte of
	// its output and its exit status are missed even if it exits at once.
	Console bool
}

// Container is a container Run launched.
type Container struct {
	Name        string
	Rootfs      string
	Command     []string
	InitPID     int    // host PID of the command, PID 1 inside
	InitStart   uint64 // its start time, for signals.Send
	HolderPID   int
	HolderStart uint64
	// Console is the console connection when Options.Console was set.
	Console *Console
}

// ErrNoRootfs is returned when the rootfs directory does not exist.
var ErrNoRootfs = errors.New("rootfs not found")

// ErrNoCommand is returned when the command is not in the rootfs.
var ErrNoCommand = errors.New("command not found in rootfs")

// holderConfig is what the client hands the holder, and the holder the init.
type holderConfig = stage0.Config

// holderReport is one line the holder writes to the client during a launch.
type holderReport struct {
	InitPID   int    `json:"init_pid,omitempty"`
	InitStart uint64 `json:"init_start,omitempty"`
	Running   bool   `json:"running,omitempty"`
	Error     string `json:"error,omitempty"`
}

// Run launches a container and returns once its command runs (or failed to
// start). On any failure nothing is left behind: no state, process or mount.
func Run(opts Options) (*Container, error) {
	if err := privilege.RequireRoot("run"); err != nil {
		return nil, err
	}
	cfg, err := resolveOptions(opts)
	if err != nil {
		return nil, err
	}
	st := state.State{
		Rootfs:   cfg.Rootfs,
		Command:  cfg.Command,
		Hostname: cfg.Hostname,
		Net:      cfg.Net,
		Remove:   cfg.Remove,
		Status:   state.StatusCreating,
		Created:  time.Now(),
		Mounts:   opts.Mounts,
	}
	st.ClaimPID = os.Getpid()
	st.ClaimStart, _ = procfs.StartTime(st.ClaimPID)
	if opts.Name != "" {
		if err := state.ValidateName(opts.Name); err != nil {
			return nil, err
		}
		st.Name = opts.Name
		if err := state.Create(st); err != nil {
			return nil, err
		}
	} else if st.Name, err = claimGeneratedName(st); err != nil {
		return nil, err
	}
	cfg.Name = st.Name
	cfg.ClientPID, cfg.ClientStart = st.ClaimPID, st.ClaimStart
	if cfg.Hostname == "" {
		cfg.Hostname = st.Name
	}
	c, err := startHolder(cfg, opts)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ExitStatus is how a container's command ended.
type ExitStatus struct {
	Code   int    `json:"code"`             // exit code; 128+N for a signal, as shells report it
	Signal string `json:"signal,omitempty"` // signal name ("KILL") if it was killed
}

func (s ExitStatus) String() string {
	if s.Signal != "" {
		return "killed by SIG" + s.Signal
	}
	return fmt.Sprintf("exit code %d", s.Code)
}

var _ io.Closer = (*Console)(nil)
