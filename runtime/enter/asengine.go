package enter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"boxtui/runtime/asengine"
	"boxtui/runtime/discovery"
	"boxtui/runtime/procfs"

	// The C that applies the profile in the enter stage: its hooks
	// (capply/hook.c) replace the stage's weak ones.
	_ "boxtui/runtime/asengine/capply"
	"boxtui/runtime/enter/stage"

	"golang.org/x/sys/unix"
)

// Profile records of the enter stage (stage.ProfileFirst and up); keep in
// step with capply/hook.c.
const (
	// tagEnginePlan carries an asengine.Plan (Plan.Encode).
	tagEnginePlan = stage.ProfileFirst
	// tagEnginePTY: u32 fd of a unix socket, u16 rows, u16 cols: open a
	// terminal from the container's devpts, send its master there.
	tagEnginePTY = stage.ProfileFirst + 1
)

// engineExec is what Start keeps for Options.AsEngine: the profile of the
// process entered, the cgroup.procs files to join, and with a terminal the
// socket the stage sends its master back on.
type engineExec struct {
	profile  *asengine.Profile
	plan     *asengine.Plan
	procs    []asengine.CgroupProcs
	sockPair [2]*os.File // ours, the stage's; nil without a terminal
}

// prepareAsEngine reads the engine profile of the process entered (its
// credentials, capabilities, no_new_privs, seccomp filters, environment
// and cgroups) and opens what the stage needs from the host.
func prepareAsEngine(c discovery.Container, opts Options) (*engineExec, error) {
	if !useStage() {
		return nil, errors.New("--as-engine needs the C enter stage, which this boxtui was built without (cgo): exec without --as-engine")
	}
	if opts.NewMountProc {
		return nil, errors.New("--as-engine and --new-mount-proc do not go together: an engine's exec joins the container's own mount namespace")
	}
	ep := c.EntryProcess()
	p, err := asengine.Read(ep.PID, ep.StartTime, asengine.Options{Seccomp: true})
	if err != nil {
		if errors.Is(err, asengine.ErrNoProcess) {
			return nil, fmt.Errorf("process %d: %w (it exited while being read)", ep.PID, procfs.ErrNoProcess)
		}
		return nil, err
	}
	plan, err := p.Plan()
	if err != nil {
		return nil, err
	}
	e := &engineExec{profile: p, plan: plan}
	procs, _, err := asengine.OpenCgroupProcs(p.Cgroups)
	if err != nil {
		return nil, fmt.Errorf("process %d: %w", ep.PID, err)
	}
	e.procs = procs
	if opts.TTY {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			e.close()
			return nil, fmt.Errorf("make terminal socket: %w", err)
		}
		e.sockPair = [2]*os.File{os.NewFile(uintptr(fds[0]), "pty socket"), os.NewFile(uintptr(fds[1]), "pty socket (stage)")}
	}
	return e, nil
}

func (e *engineExec) close() {
	for _, p := range e.procs {
		p.File.Close()
	}
	for _, f := range e.sockPair {
		if f != nil {
			f.Close()
		}
	}
}

// env is the command's environment: the process's own (as it was
// started), TERM=xterm with a terminal when it has none (docker exec -t
// does the same), then the caller's entries.
func (e *engineExec) env(user []string, tty bool) ([]string, error) {
	env := append([]string(nil), e.profile.Env...)
	if tty {
		has := false
		for _, kv := range env {
			has = has || strings.HasPrefix(kv, "TERM=")
		}
		if !has {
			env = append(env, "TERM=xterm")
		}
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

// records are the stage's profile records; pass hands an fd to the stage
// and says its number there.
func (e *engineExec) records(pass func(fd int, name string) (int, error), rows, cols uint16) ([]stage.Record, error) {
	plan := *e.plan
	plan.CgroupFDs = nil
	for _, p := range e.procs {
		fd, err := pass(int(p.File.Fd()), "cgroup "+p.Path)
		if err != nil {
			return nil, err
		}
		plan.CgroupFDs = append(plan.CgroupFDs, fd)
	}
	block, err := plan.Encode()
	if err != nil {
		return nil, err
	}
	recs := []stage.Record{{Tag: tagEnginePlan, Payload: block}}
	if e.sockPair[1] != nil {
		fd, err := pass(int(e.sockPair[1].Fd()), "terminal socket")
		if err != nil {
			return nil, err
		}
		// fd, rows, cols in the machine's byte order, as stage records.
		p := binary.NativeEndian.AppendUint32(nil, uint32(fd))
		p = binary.NativeEndian.AppendUint16(p, rows)
		p = binary.NativeEndian.AppendUint16(p, cols)
		recs = append(recs, stage.Record{Tag: tagEnginePTY, Payload: p})
	}
	return recs, nil
}

// openStdio for a terminal from the container: the stage opens it and
// makes it the command's stdio and controlling terminal (it starts its own
// session), so the stage itself gets the host's /dev/null and no session
// or process group of its own.
func (s *starter) openEngineStdio() error {
	f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	s.close = append(s.close, f)
	s.cmd.Stdin, s.cmd.Stdout, s.cmd.Stderr = f, f, f
	s.cmd.SysProcAttr = &syscall.SysProcAttr{}
	return nil
}

// receiveMaster takes the terminal's master from the stage, which sent it
// before it executed the command: Start calls this once the stage has
// executed it, so the message is there, or never will be (no waiting).
func (e *engineExec) receiveMaster() (*os.File, error) {
	e.sockPair[1].Close() // our copy of the stage's end
	e.sockPair[1] = nil
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	var n, oobn int
	var err error
	for {
		n, oobn, _, _, err = unix.Recvmsg(int(e.sockPair[0].Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC|unix.MSG_DONTWAIT)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil || n != 1 {
		return nil, fmt.Errorf("the enter stage sent no terminal (%v)", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, errors.New("the enter stage sent no terminal")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, errors.New("the enter stage sent no terminal")
	}
	return os.NewFile(uintptr(fds[0]), "pty master (container)"), nil
}

// engineStarted finishes a start through the stage that has executed the
// command: with --as-engine and a terminal, the master it sent is the
// Process's. Without it, the command is stopped: nobody could talk to it.
func (s *starter) engineStarted() error {
	if s.engine == nil || s.engine.sockPair[0] == nil {
		return nil
	}
	m, err := s.engine.receiveMaster()
	if err != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.started = false
		return err
	}
	s.master = m
	if s.opts.Rows > 0 || s.opts.Cols > 0 {
		// The stage set it on the slave already; a no-op unless that
		// failed.
		_ = unix.IoctlSetWinsize(int(m.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: s.opts.Rows, Col: s.opts.Cols})
	}
	return nil
}
