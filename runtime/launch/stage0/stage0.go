// Package stage0 runs the part of a launch that is on its critical path
// from a package init function, before the rest of boxtui initialises.
//
// Every process of a launch is the boxtui binary, and Go initialises every
// package of a binary before main: the UI's libraries alone cost about as
// much as the Go runtime's own start. This package imports almost nothing,
// so its init runs early: the init stage (__boxtui-init) does all its work
// and execs the container's command from here, and the holder
// (__boxtui-holder) opens the console PTY and starts the init from here,
// so the init starts up while the holder finishes initialising.
//
// It must stay small and import only the standard library and x/sys/unix;
// an import of anything heavier makes it initialise later.
package stage0

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	// Seals the binary before a holder or init can start (package doc).
	_ "boxtui/runtime/exeseal"
)

// Stage names: the hidden first argument of the re-executed binary.
const (
	HolderStage = "__boxtui-holder"
	InitStage   = "__boxtui-init"
)

// Messages the init writes on its ready pipe (its fd 3) to the holder.
const (
	InitReady = 'R' // mounts and root are in place; waiting for the go byte
	InitAbort = 'A' // the go pipe closed without a go byte: launch abandoned
	InitError = 'E' // followed by the error text
)

// Config is what the client hands the holder, and the holder the init, as
// the JSON argument after the stage name.
type Config struct {
	Name     string   `json:"name"`
	Rootfs   string   `json:"rootfs"`
	Command  []string `json:"command"`
	Hostname string   `json:"hostname"`
	Net      bool     `json:"net,omitempty"`
	Remove   bool     `json:"remove,omitempty"`
	Env      []string `json:"env"`
	Rows     int      `json:"rows"`
	Cols     int      `json:"cols"`
	Raw      bool     `json:"raw,omitempty"`
	// ClientPID and ClientStart are the claim of the launch (see
	// state.State.ClaimPID): the holder writes the state only while it is
	// still this launch's.
	ClientPID   int    `json:"client_pid"`
	ClientStart uint64 `json:"client_start"`
	// Log is the file a preforked holder (see prefork.c) moves its stderr
	// to once it has its config; a spawned one gets it as fd 2.
	Log string `json:"log,omitempty"`
}

// Holder is what the early part of a holder process did; nil in any other
// process. The holder's main part (package launch) takes over from it.
type Holder struct {
	Config  Config
	InitPID int
	PidFD   int
	Master  *os.File // the console's PTY master, non-blocking
	ReadyR  *os.File // the init's ready pipe
	// Client is the launching client's console connection when the holder
	// was preforked (see Prefork.Console): the holder's main part
	// registers it before anything else.
	Client *os.File
	Err    error // set when the init could not be started
}

// Early is set in a holder process by this package's init.
var Early *Holder

func init() {
	if len(os.Args) < 2 {
		return
	}
	switch os.Args[1] {
	case InitStage:
		os.Exit(initMain(os.Args[2:]))
	case HolderStage:
		if len(os.Args) == 3 && os.Args[2] == "-" {
			// Preforked (prefork.c): the config comes later, on a pipe.
			// Waiting for it here would hold back every package init
			// still to come; the holder's main waits instead, with all
			// of its start-up done beside the client's.
			return
		}
		Early = startInit(os.Args[2:])
	}
}

// StartPreforked is the early part of a preforked holder, called from its
// main once the whole binary has initialised: it waits for the config on
// fd 5 and then does what a spawned holder does in this package's init.
// A client that closes the pipe without a config (its run failed) ends
// the holder here, quietly.
func StartPreforked() *Holder {
	var client *os.File
	if isSocket(6) {
		unix.CloseOnExec(6)
		client = os.NewFile(6, "console client")
	}
	var h *Holder
	if z := zygoteStarted(); z.pid > 0 {
		h = startFromZygote(z, true)
	} else {
		h = startInit([]string{"-"})
	}
	h.Client = client
	return h
}

// startInit is the holder's early part. fd 3 is the report pipe to the
// client (left for the holder's main part), fd 4 the go pipe from the
// client, handed on to the init as its fd 4 and then closed here.
func startInit(args []string) *Holder {
	h := &Holder{PidFD: -1}
	if !isPipe(3) || !isPipe(4) {
		h.Err = errors.New("__boxtui-holder is internal to boxtui run: it needs its launch pipes")
		return h
	}
	unix.CloseOnExec(3)
	unix.CloseOnExec(4)
	goPipe := os.NewFile(4, "go")
	defer goPipe.Close()
	if len(args) != 1 {
		h.Err = errors.New("holder stage: want one config argument")
		return h
	}
	if arg := args[0]; arg == "-" && isPipe(5) {
		// Preforked: the client sends the config when it has one, or
		// closes the pipe without one, and then there is nothing to do.
		data, err := readConfig(5)
		if len(data) == 0 {
			os.Exit(0)
		}
		if err != nil {
			h.Err = fmt.Errorf("holder stage: read config: %w", err)
			return h
		}
		if h.Config, err = decodePreforkConfig(data); err != nil {
			h.Err = err
			return h
		}
	} else if err := json.Unmarshal([]byte(arg), &h.Config); err != nil {
		h.Err = fmt.Errorf("holder stage: decode config: %w", err)
		return h
	}
	if h.Config.Log != "" {
		if fd, err := unix.Open(h.Config.Log, unix.O_WRONLY|unix.O_CREAT|unix.O_APPEND|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600); err == nil {
			unix.Dup3(fd, 2, 0)
			unix.Close(fd)
		}
	}
	cfg := h.Config
	master, slave, err := openPTY()
	if err != nil {
		h.Err = fmt.Errorf("open a pty for %s: %w", cfg.Name, err)
		return h
	}
	defer slave.Close()
	h.Master = master
	rows, cols := cfg.Rows, cfg.Cols
	if rows <= 0 || cols <= 0 {
		rows, cols = 24, 80
	}
	unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(rows), Col: uint16(cols)})
	if cfg.Raw {
		setRawOutput(int(slave.Fd()))
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		h.Err = fmt.Errorf("create init pipe: %w", err)
		return h
	}
	defer readyW.Close()
	cloneFlags := uintptr(unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC)
	if cfg.Net {
		cloneFlags |= unix.CLONE_NEWNET
	}
	fds := []uintptr{slave.Fd(), slave.Fd(), slave.Fd(), readyW.Fd(), goPipe.Fd()}
	// The holder keeps neither the slave (so the master reads EOF once the
	// container's last process is gone) nor the go pipe (so the init sees
	// EOF if the client dies): the defers above close them.
	// Only the init stage sees this environment (the command gets
	// Config.Env): a fixed GOMAXPROCS spares a Go init reading cgroup
	// limits; BOXTUI_INIT_STAGE=go lets tests pick the Go init.
	initEnv := []string{"GOMAXPROCS=1"}
	if v := os.Getenv("BOXTUI_INIT_STAGE"); v != "" {
		initEnv = append(initEnv, "BOXTUI_INIT_STAGE="+v)
	}
	pid, err := syscall.ForkExec("/proc/self/exe", InitArgs(cfg), &syscall.ProcAttr{
		Dir:   "/",
		Env:   initEnv,
		Files: fds,
		Sys: &syscall.SysProcAttr{
			Cloneflags: cloneFlags,
			Setsid:     true,
			Setctty:    true,
			Ctty:       0,
			PidFD:      &h.PidFD,
		},
	})
	if err != nil {
		readyR.Close()
		h.Err = fmt.Errorf("start the init of %s: %w", cfg.Name, err)
		return h
	}
	h.InitPID, h.ReadyR = pid, readyR
	return h
}

// InitArgs is the init stage's argv: plain strings, no JSON, so that the C
// init (initstage.c) can read it before any runtime exists:
//
//	boxtui-init __boxtui-init ROOTFS HOSTNAME NENV ENV... CMD ARGS...
func InitArgs(cfg Config) []string {
	args := []string{"boxtui-init", InitStage, cfg.Rootfs, cfg.Hostname, strconv.Itoa(len(cfg.Env))}
	args = append(args, cfg.Env...)
	return append(args, cfg.Command...)
}

// ParseInitArgs reads InitArgs's form back (without the first two): the
// init stage's argv, checked as initstage.c checks it (its cshim holds
// the two equal).
func ParseInitArgs(args []string) (Config, error) {
	var cfg Config
	if len(args) < 4 {
		return cfg, errors.New("init stage: want ROOTFS HOSTNAME NENV ENV... CMD")
	}
	// NENV is plain digits (as strconv.Itoa writes it: no sign, no
	// space), compared with what args leaves, never added to: a huge one
	// must not wrap around. initstage.c's init_args checks the same way.
	n, err := strconv.Atoi(args[2])
	if err != nil || strings.TrimLeft(args[2], "0123456789") != "" || n > len(args)-4 {
		return cfg, fmt.Errorf("init stage: bad environment count %q", args[2])
	}
	cfg.Rootfs, cfg.Hostname = args[0], args[1]
	cfg.Env = args[3 : 3+n]
	cfg.Command = args[3+n:]
	return cfg, nil
}

// readConfig reads the config pipe to its end, then closes it.
func readConfig(fd int) ([]byte, error) {
	defer unix.Close(fd)
	var data []byte
	buf := make([]byte, 4096)
	for {
		n, err := unix.Read(fd, buf)
		if n > 0 {
			data = append(data, buf[:n]...)
		}
		switch {
		case err == unix.EINTR:
		case err != nil:
			return data, err
		case n == 0:
			return data, nil
		case len(data) > 1<<20:
			return data, errors.New("config larger than 1 MiB")
		}
	}
}

// openPTY opens a new PTY pair. The master is non-blocking so that Go's
// poller serves it and Close interrupts a pending Read.
func openPTY() (master, slave *os.File, err error) {
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(m)
		return nil, nil, fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(m, unix.TIOCGPTN)
	if err != nil {
		unix.Close(m)
		return nil, nil, fmt.Errorf("read pty number: %w", err)
	}
	name := "/dev/pts/" + strconv.Itoa(n)
	s, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(m)
		return nil, nil, fmt.Errorf("open %s: %w", name, err)
	}
	return os.NewFile(uintptr(m), "/dev/ptmx"), os.NewFile(uintptr(s), name), nil
}

// setRawOutput turns off echo and output post-processing on the console, for
// clients that pipe data through rather than show a terminal.
func setRawOutput(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Lflag &^= unix.ECHO | unix.ECHOE | unix.ECHOK | unix.ECHONL | unix.ECHOCTL
	t.Oflag &^= unix.OPOST
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

// RunInit is the init stage; this package's init runs it before main, so
// launch registers it only to keep the stage table complete.
func RunInit(args []string) int { return initMain(args) }
