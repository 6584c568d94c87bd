// The client's side of a launch: starting a holder (or handing the launch to
// a preforked or in-process one) and walking it through the handshake until
// the command runs.

package launch

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"boxtui/runtime/launch/stage0"
	"boxtui/runtime/procfs"
	"boxtui/runtime/reexec"
	"boxtui/runtime/signals"
	"boxtui/runtime/state"

	"golang.org/x/sys/unix"
)

// startHolder starts the holder for the claimed state cfg.Name and walks it
// through the launch handshake. The holder owns the state from the moment it
// runs: if it reports a failure, it has removed the state itself; only if it
// dies does the client remove it.
func startHolder(cfg holderConfig, opts Options) (c *Container, err error) {
	name := cfg.Name
	abandon := func(e error) error {
		state.RemoveClaimed(name, cfg.ClientPID, cfg.ClientStart)
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
	holderStart, _ := procfs.StartTime(holderPID)
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
			signals.Send(c.InitPID, c.InitStart, unix.SIGKILL)
			signals.WaitGone(c.InitPID, c.InitStart, 5*time.Second)
		}
		state.RemoveClaimed(name, cfg.ClientPID, cfg.ClientStart)
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
	logPath := state.Dir(cfg.Name) + "/holder.log"
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

// spawn starts path with files as its fds 0, 1, 2, 3... It uses
// syscall.ForkExec rather than os/exec: os probes pidfd support with an
// extra clone on its first start, a cost every launch would pay twice.
func spawn(path string, argv, env []string, files []*os.File, sys *syscall.SysProcAttr) (int, error) {
	// ForkExec passes on every fd not marked close-on-exec, and the holder
	// lives as long as the container: none that our caller left open may
	// reach it (prefork.c's holder closes them the same way).
	reexec.CloseOnExecFrom(3)
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
