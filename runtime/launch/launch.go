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
	"boxtui/pty"
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	"boxtui/runtime"
	"boxtui/runtime/containerenv"
	"boxtui/runtime/launch/stage0"
	"boxtui/runtime/rootfs"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
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
	runtime.RegisterStage(holderStage, holderMain)
	runtime.RegisterStage(initStage, stage0.RunInit)
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
	Mounts []runtime.MountRecord
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
	InitStart   uint64 // its start time, for runtime.Signal
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
	if err := runtime.RequireRoot("run"); err != nil {
		return nil, err
	}
	cfg, err := resolveOptions(opts)
	if err != nil {
		return nil, err
	}
	st := runtime.State{
		Rootfs:   cfg.Rootfs,
		Command:  cfg.Command,
		Hostname: cfg.Hostname,
		Net:      cfg.Net,
		Remove:   cfg.Remove,
		Status:   runtime.StatusCreating,
		Created:  time.Now(),
		Mounts:   opts.Mounts,
	}
	st.ClaimPID = os.Getpid()
	st.ClaimStart, _ = runtime.ProcessStartTime(st.ClaimPID)
	if opts.Name != "" {
		if err := runtime.ValidateName(opts.Name); err != nil {
			return nil, err
		}
		st.Name = opts.Name
		if err := runtime.CreateState(st); err != nil {
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

// resolveOptions fills in defaults and checks what can be checked before
// anything is created.
func resolveOptions(opts Options) (holderConfig, error) {
	cfg := holderConfig{
		Rootfs:   opts.Rootfs,
		Command:  opts.Command,
		Hostname: opts.Hostname,
		Net:      opts.Net,
		Remove:   opts.Remove,
		Rows:     opts.Rows,
		Cols:     opts.Cols,
		Raw:      opts.Raw,
	}
	if cfg.Rootfs == "" {
		cfg.Rootfs = DefaultRootfs
	}
	if cfg.Hostname != "" {
		if len(cfg.Hostname) > 64 || strings.ContainsAny(cfg.Hostname, "/\x00 ") {
			return cfg, fmt.Errorf("invalid hostname %q: at most 64 characters, no spaces or '/'", cfg.Hostname)
		}
	}
	fi, err := os.Stat(cfg.Rootfs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if opts.Rootfs == "" {
			return cfg, fmt.Errorf("%w: the default rootfs %s does not exist (create it with `sudo boxtui rootfs create`, or pass --rootfs DIR)", ErrNoRootfs, cfg.Rootfs)
		}
		return cfg, fmt.Errorf("%w: %s does not exist (create one with `sudo boxtui rootfs create %s`)", ErrNoRootfs, cfg.Rootfs, cfg.Rootfs)
	case err != nil:
		return cfg, fmt.Errorf("open rootfs %s: %w", cfg.Rootfs, err)
	case !fi.IsDir():
		return cfg, fmt.Errorf("rootfs %s is not a directory", cfg.Rootfs)
	}
	if cfg.Rootfs, err = absClean(cfg.Rootfs); err != nil {
		return cfg, err
	}
	if len(cfg.Command) == 0 {
		cfg.Command = []string{"/bin/sh"}
		if _, err := findInRootfs(cfg.Rootfs, "/bin/bash"); err == nil {
			cfg.Command = []string{"/bin/bash"}
		}
	}
	if _, err := findInRootfs(cfg.Rootfs, cfg.Command[0]); err != nil {
		return cfg, err
	}
	env := []string{"PATH=" + containerenv.Path, "HOME=/root", "TERM=" + termName()}
	cfg.Env = append(env, opts.Env...)
	for _, kv := range opts.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return cfg, fmt.Errorf("invalid environment variable %q: write KEY=VALUE", kv)
		}
	}
	return cfg, nil
}

func absClean(dir string) (string, error) {
	if path.IsAbs(dir) {
		return path.Clean(dir), nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("resolve rootfs %s: %w", dir, err)
	}
	return path.Join(wd, dir), nil
}

// termName is the console's TERM: the one the emulator that draws every
// console implements (the holder's, a pane's), not the caller's.
func termName() string { return pty.TERM }

// findInRootfs resolves a command as the container will: an absolute (or
// relative with a slash) path inside the rootfs, or a bare name in its PATH.
// Symlinks are followed inside the rootfs only (securejoin), so a hostile
// rootfs cannot make us look at host files.
func findInRootfs(rootfs, unsafeCommand string) (string, error) {
	// The init looks a bare name up in containerenv.Path and takes a name
	// with a slash as it is, from /.
	name := unsafeCommand
	if strings.Contains(name, "/") {
		name = path.Join("/", name)
	}
	inRootfs := func(name string) (uint32, error) {
		p, err := securejoin.SecureJoin(rootfs, name)
		if err != nil {
			return 0, err
		}
		return containerenv.Stat(p)
	}
	if c, ok := containerenv.LookPath(name, containerenv.Path, inRootfs); ok {
		return c, nil
	}
	return "", fmt.Errorf("%w: %q is not an executable file in %s (pass a command the rootfs has, e.g. -- /bin/sh)", ErrNoCommand, unsafeCommand, rootfs)
}

var adjectives = []string{
	"amber", "brave", "calm", "dusty", "eager", "fuzzy", "gentle", "happy", "icy", "jolly",
	"keen", "lucky", "misty", "nimble", "odd", "plucky", "quiet", "rapid", "shy", "tidy",
	"upbeat", "vivid", "witty", "young", "zesty",
}

var nouns = []string{
	"otter", "badger", "crane", "dingo", "egret", "ferret", "gecko", "heron", "ibis", "jackal",
	"koala", "lemur", "marmot", "newt", "ocelot", "panda", "quail", "raven", "stoat", "tapir",
	"urchin", "vole", "walrus", "yak", "zebra",
}

// claimGeneratedName picks a short memorable name and claims it; after a few
// collisions it falls back to random hex, which does not collide in practice.
func claimGeneratedName(st runtime.State) (string, error) {
	var b [4]byte
	for i := 0; i < 16; i++ {
		rand.Read(b[:])
		if i < 8 {
			st.Name = adjectives[int(b[0])%len(adjectives)] + "-" + nouns[int(b[1])%len(nouns)]
		} else {
			st.Name = "box-" + hex.EncodeToString(b[:])
		}
		err := runtime.CreateState(st)
		if err == nil {
			return st.Name, nil
		}
		if !errors.Is(err, runtime.ErrNameTaken) {
			return "", err
		}
	}
	return "", fmt.Errorf("pick a container name: every try was taken; pass --name")
}

// startHolder starts the holder for the claimed state cfg.Name and walks it
// through the launch handshake. The holder owns the state from the moment it
// runs: if it reports a failure, it has removed the state itself; only if it
// dies does the client remove it.
func startHolder(cfg holderConfig, opts Options) (c *Container, err error) {
	name := cfg.Name
	abandon := func(e error) error {
		runtime.RemoveClaimedState(name, cfg.ClientPID, cfg.ClientStart)
		return e
	}
	sp, err := spawnHolder(&cfg, opts.Console && opts.Prepare == nil)
	if err != nil {
		return nil, abandon(err)
	}
	holderPID, reportR, goW, preCon, holderDone := sp.pid, sp.report, sp.goW, sp.console, sp.done
	if preCon != nil && !opts.Console {
		preCon.Close() // the holder drops it
		preCon = nil
	}
	defer func() {
		if preCon != nil {
			preCon.Close()
		}
	}()
	defer reportR.Close()
	// Closing goW without writing tells the init to give up; it is closed on
	// every path, after the go byte on success.
	defer goW.Close()
	if holderDone == nil {
		// The holder is our child until we exit; reap it whenever it ends
		// so a long-lived client (the UI) keeps no zombie.
		done := make(chan struct{})
		go func() {
			reap(holderPID)
			close(done)
		}()
		holderDone = done
	}
	holderStart, _ := runtime.ProcessStartTime(holderPID)
	c = &Container{Name: name, Rootfs: cfg.Rootfs, Command: cfg.Command, HolderPID: holderPID, HolderStart: holderStart}

	reports := bufio.NewReader(reportR)
	next := func() (holderReport, error) {
		line, err := reports.ReadBytes('\n')
		if err != nil {
			return holderReport{}, err
		}
		var r holderReport
		if err := json.Unmarshal(line, &r); err != nil {
			return holderReport{}, fmt.Errorf("read holder report %q: %w", line, err)
		}
		return r, nil
	}
	// failed handles a failed launch: if the holder said why, it has already
	// cleaned up; if it died, the state is ours to remove once it is gone.
	failed := func(r holderReport, e error) (*Container, error) {
		goW.Close()
		if c.Console != nil {
			c.Console.Close()
		}
		if r.Error != "" {
			<-holderDone
			return nil, errors.New(r.Error)
		}
		<-holderDone
		if c.InitPID > 0 {
			// The init gives up when goW closes, but it may have been
			// given the go byte already: a container nobody holds must not
			// run on, so kill it, and wait so its mounts are gone with its
			// mount namespace before the name is free.
			runtime.Signal(c.InitPID, c.InitStart, unix.SIGKILL)
			runtime.WaitGone(c.InitPID, c.InitStart, 5*time.Second)
		}
		runtime.RemoveClaimedState(name, cfg.ClientPID, cfg.ClientStart)
		return nil, fmt.Errorf("launch %s: the holder process died: %w", name, e)
	}

	r, err := next()
	if err != nil || r.Error != "" || r.InitPID == 0 {
		if err == nil && r.Error == "" {
			err = fmt.Errorf("unexpected report")
		}
		return failed(r, err)
	}
	c.InitPID, c.InitStart = r.InitPID, r.InitStart
	switch {
	case preCon != nil:
		con, err := consoleFromPrefork(preCon, name)
		preCon = nil
		if err != nil {
			return failed(holderReport{}, err)
		}
		con.gate = callerAlive()
		c.Console = con
	case opts.Console:
		con, err := DialConsole(name)
		if err != nil {
			return failed(holderReport{}, err)
		}
		c.Console = con
	}
	if opts.Prepare != nil {
		if perr := opts.Prepare(c.InitPID); perr != nil {
			goW.Close()
			r, _ := next() // the holder confirms the abort and cleans up
			if r.Error == "" {
				r.Error = "aborted"
			}
			failed(r, nil)
			return nil, fmt.Errorf("prepare container %s: %w", name, perr)
		}
	}
	if !sp.goSent {
		if _, err := goW.Write([]byte{'g'}); err != nil {
			return failed(holderReport{}, fmt.Errorf("start the command: %w", err))
		}
	}
	goW.Close()
	r, err = next()
	if err != nil || !r.Running {
		if err == nil && r.Error == "" {
			err = fmt.Errorf("unexpected report")
		}
		return failed(r, err)
	}
	if sp.done == nil {
		rememberHolder(c.InitPID, c.InitStart, holderDone)
	}
	return c, nil
}

// spawned is a holder spawnHolder started (or took over, or runs in this
// process) for one launch.
type spawned struct {
	pid     int
	report  *os.File // read end of its report pipe
	goW     *os.File // write end of the init's go pipe
	console *os.File // for a preforked or own holder: the console connection it registers first
	done    <-chan struct{}
	goSent  bool // the go byte is already on its way
}

// spawnHolder starts the holder for cfg, or hands cfg to the one prefork.c
// started, or holds the container in this process when it is its own
// holder. For an own holder, done is closed when its part has ended; a
// holder process is reaped by the caller.
//
// A preforked or own holder registers this client's console before it
// reads the init's first byte, so with goNow (a console and no Prepare)
// the go byte follows the config at once: the command starts as soon as
// its container is built, whether or not the holder's Go part is up yet
// (the console keeps its output until then).
func spawnHolder(cfg *holderConfig, goNow bool) (sp spawned, err error) {
	logPath := runtime.StateDir(cfg.Name) + "/holder.log"
	if o := stage0.TakeOwnHolder(); o != nil {
		cfg.Log = logPath
		return startOwnHolder(cfg, o, goNow)
	}
	if pf := stage0.TakePrefork(); pf != nil {
		cfg.Log = logPath
		// A config that cannot be sent leaves the holder with EOF: it
		// exits, and its closed report pipe tells the caller.
		msg, err := stage0.EncodePreforkConfig(*cfg)
		if err == nil {
			pf.Config.Write(msg)
		}
		pf.Config.Close()
		if err != nil {
			pf.Report.Close()
			pf.Go.Close()
			pf.Console.Close()
			reap(pf.PID)
			return sp, err
		}
		sp = spawned{pid: pf.PID, report: pf.Report, goW: pf.Go, console: pf.Console}
		sp.goSent = goNow && sendGo(pf.Go)
		return sp, nil
	}
	arg, err := json.Marshal(cfg)
	if err != nil {
		return sp, fmt.Errorf("encode launch config: %w", err)
	}
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return sp, fmt.Errorf("create holder log: %w", err)
	}
	defer logf.Close()
	reportR, reportW, err := os.Pipe()
	if err != nil {
		return sp, fmt.Errorf("create launch pipe: %w", err)
	}
	defer reportW.Close()
	goR, goW, err := os.Pipe()
	if err != nil {
		reportR.Close()
		return sp, fmt.Errorf("create launch pipe: %w", err)
	}
	defer goR.Close()
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		reportR.Close()
		goW.Close()
		return sp, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	defer devNull.Close()
	// Setsid detaches the holder from the client's session and terminal:
	// a hangup or ctrl+c there must not reach it.
	pid, err := spawn("/proc/self/exe", []string{"boxtui", holderStage, string(arg)}, stageEnv(os.Environ()),
		[]*os.File{devNull, devNull, logf, reportW, goR}, &unix.SysProcAttr{Setsid: true})
	if err != nil {
		reportR.Close()
		goW.Close()
		return sp, fmt.Errorf("start holder: %w", err)
	}
	return spawned{pid: pid, report: reportR, goW: goW}, nil
}

// sendGo writes the init's go byte; false if it could not.
func sendGo(goW *os.File) bool {
	_, err := goW.Write([]byte{'g'})
	return err == nil
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

// spawn starts path with files as its fds 0, 1, 2, 3... It uses
// syscall.ForkExec rather than os/exec: os probes pidfd support with an
// extra clone on its first start, a cost every launch would pay twice.
func spawn(path string, argv, env []string, files []*os.File, sys *syscall.SysProcAttr) (int, error) {
	// ForkExec passes on every fd not marked close-on-exec, and the holder
	// lives as long as the container: none that our caller left open may
	// reach it (prefork.c's holder closes them the same way).
	runtime.CloseOnExecFrom(3)
	fds := make([]uintptr, len(files))
	for i, f := range files {
		fds[i] = f.Fd()
	}
	return syscall.ForkExec(path, argv, &syscall.ProcAttr{Dir: "/", Env: env, Files: fds, Sys: sys})
}

// reap waits for the child pid to exit and returns how it ended.
func reap(pid int) (syscall.WaitStatus, error) {
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err != syscall.EINTR {
			return ws, err
		}
	}
}

// stageEnv is the environment of the holder: the client's (BOXTUI_RUN_DIR
// matters), with GOMAXPROCS fixed. Without it the Go runtime of each stage
// process reads its cgroup limits at start, which made a launch ~30%
// slower; a console relay needs one P.
func stageEnv(env []string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, "GOMAXPROCS=") {
			out = append(out, kv)
		}
	}
	return append(out, "GOMAXPROCS=1")
}
