package enter

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"boxtui/runtime/containerenv"
	"boxtui/runtime/discovery"
	"boxtui/runtime/namespace"
	"boxtui/runtime/nsjoin"
	"boxtui/runtime/procfs"
	"boxtui/runtime/reexec"

	"golang.org/x/sys/unix"
)

// StageNewMountProc is the hidden re-exec stage of Options.NewMountProc.
// A fresh proc shows the PID namespace of the process that mounts it (its
// active one, which setns does not change), so the mount must be made by a
// process already born inside the container's PID namespace: this stage.
const StageNewMountProc = reexec.Prefix + "enter-proc"

func init() {
	reexec.Register(StageNewMountProc, newMountProcStage)
	// Run the stage right here rather than from main: package inits of
	// the UI libraries, still to come, would delay the command for
	// nothing. Inits run on the main thread.
	if len(os.Args) > 1 && os.Args[1] == StageNewMountProc {
		os.Exit(newMountProcStage(os.Args[2:]))
	}
}

// The stage's inherited descriptors (os/exec ExtraFiles start at 3).
const (
	stageMntFD    = 3 // the container init's mount namespace
	stageRootFD   = 4 // O_PATH on the init's root
	stageStatusFD = 5 // closed on exec; a failure is written here first
)

// Status lines the stage writes before exiting on failure.
const (
	stageNotFound = "notfound\n"
	stageFailed   = "error\n"
)

// startNewMountProc starts the stage from a thread that joined only the
// container's PID namespace; everything else happens in the stage.
func (s *starter) startNewMountProc(c discovery.Container) error {
	// The process entered: the one the TARGET named, else the init. Its
	// mount namespace and root are the ones the stage starts from.
	ep := c.EntryProcess()
	entry, err := nsjoin.Open(ep.PID, ep.StartTime, nsjoin.Options{Namespaces: []namespace.Type{namespace.PID}})
	if err != nil {
		return err
	}
	defer entry.Close()
	mntFD, err := openProcFile(ep.PID, "ns/mnt", unix.O_RDONLY)
	if err != nil {
		return err
	}
	s.close = append(s.close, mntFD)
	rootFD, err := openProcFile(ep.PID, "root", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	s.close = append(s.close, rootFD)
	// The files above were opened after nsjoin.Open checked the init: make
	// sure they still belong to it and not to a process that took its PID.
	if st, err := procfs.StartTime(ep.PID); err != nil || (ep.StartTime != 0 && st != ep.StartTime) {
		return fmt.Errorf("process %d: %w (it exited while being entered)", ep.PID, procfs.ErrNoProcess)
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("make status pipe: %w", err)
	}
	s.close = append(s.close, statusR, statusW)

	dir := s.opts.Dir
	if dir == "" {
		dir = "/"
	}
	s.cmd.Path = "/proc/self/exe"
	s.cmd.Args = append([]string{"boxtui", StageNewMountProc, dir, "--"}, s.opts.Command...)
	s.cmd.ExtraFiles = []*os.File{mntFD, rootFD, statusW}
	err = entry.Do(func() error { return s.startCmd(c, "boxtui "+StageNewMountProc) })
	if err != nil {
		return err
	}
	statusW.Close()
	// EOF with nothing written: the stage exec'd the command.
	msg, _ := io.ReadAll(statusR)
	if len(msg) == 0 {
		return nil
	}
	// The stage failed and exits on its own: reap it before reporting.
	s.cmd.Wait()
	s.started = false
	text := string(msg)
	if rest, ok := strings.CutPrefix(text, stageNotFound); ok {
		return &CommandNotFoundError{Command: rest}
	}
	text = strings.TrimPrefix(text, stageFailed)
	return fmt.Errorf("enter container %d with a new mount namespace: %s", c.PID, text)
}

func openProcFile(pid int, name string, flags int) (*os.File, error) {
	p := fmt.Sprintf("/proc/%d/%s", pid, name)
	fd, err := unix.Open(p, flags|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
			return nil, fmt.Errorf("process %d: %w (it exited while being entered)", pid, procfs.ErrNoProcess)
		}
		return nil, fmt.Errorf("open %s: %w", p, err)
	}
	return os.NewFile(uintptr(fd), p), nil
}

// newMountProcStage runs in the container's PID namespace, still in the
// host's mount namespace and root. args: DIR -- [COMMAND ARGS...].
func newMountProcStage(args []string) int {
	// All of the below changes this thread only (its fs_struct is
	// unshared first), and the exec at the end must come from it.
	runtime.LockOSThread()
	status := os.NewFile(stageStatusFD, "status")
	fail := func(kind, format string, a ...any) int {
		fmt.Fprintf(status, kind+format, a...)
		return 1
	}
	if len(args) < 2 || args[1] != "--" {
		return fail(stageFailed, "bad stage arguments %q", args)
	}
	dir, argv := args[0], args[2:]
	for _, fd := range []int{stageMntFD, stageRootFD, stageStatusFD} {
		unix.CloseOnExec(fd)
	}
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fail(stageFailed, "unshare fs: %v", err)
	}
	// Copy the container's mount namespace, not the host's: its root may
	// exist only there (a pivot_root container's, typically).
	if err := unix.Setns(stageMntFD, unix.CLONE_NEWNS); err != nil {
		return fail(stageFailed, "join mount namespace: %v", err)
	}
	// Stand in the container's root before the copy: unshare moves the
	// root and working directory of the caller to their copies, which is
	// the only way to name the root inside the new namespace.
	if err := unix.Fchdir(stageRootFD); err != nil {
		return fail(stageFailed, "change to the container's root: %v", err)
	}
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fail(stageFailed, "unshare mount namespace: %v", err)
	}
	// Our root is still the namespace's root: make the whole copy a
	// slave, so the proc mounted next never propagates back into the
	// container's (or the host's) namespace, while mounts made there
	// still show up here.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
		return fail(stageFailed, "make / rslave: %v", err)
	}
	var st unix.Stat_t
	if err := unix.Stat("proc", &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fail(stageFailed, "the container has no /proc directory to mount a fresh proc on")
	}
	if err := unix.Mount("proc", "proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fail(stageFailed, "mount proc on /proc: %v", err)
	}
	if err := unix.Chroot("."); err != nil {
		return fail(stageFailed, "chroot to the container's root: %v", err)
	}
	if err := unix.Chdir(dir); err != nil {
		return fail(stageFailed, "working directory %s not found in the container", dir)
	}
	env := os.Environ()
	path, argv, err := lookCommand(argv, containerenv.EnvPath(env), statInRoot)
	if err != nil {
		var nf *CommandNotFoundError
		if errors.As(err, &nf) {
			return fail(stageNotFound, "%s", nf.Command)
		}
		return fail(stageFailed, "%v", err)
	}
	err = unix.Exec(path, argv, env)
	if errors.Is(err, unix.ENOENT) {
		return fail(stageNotFound, "%s", path)
	}
	return fail(stageFailed, "exec %s: %v", path, err)
}
