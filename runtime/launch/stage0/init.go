package stage0

import (
	"fmt"
	"os"
	"strings"

	"boxtui/internal/openat2"
	"boxtui/runtime/containerenv"

	"golang.org/x/sys/unix"
)

// mountError makes a failed mount step readable: what, onto what, why.
type mountError struct {
	op     string
	target string
	err    error
}

func (e *mountError) Error() string { return fmt.Sprintf("%s %s: %v", e.op, e.target, e.err) }
func (e *mountError) Unwrap() error { return e.err }

// initMain is the __boxtui-init stage (in builds without cgo; with cgo,
// initstage.c does the same before Go starts): PID 1 of fresh PID, mount, UTS and
// IPC namespaces, stdio on the console. fd 3 is the ready pipe to the
// holder, fd 4 the go pipe from the client.
func initMain(args []string) int {
	// This stage remounts / and pivots the root: run anywhere but as PID 1
	// of a fresh namespace set made by a holder, it would do that to the
	// host. Refuse unless it is PID 1 with its two launch pipes.
	if os.Getpid() != 1 || !isPipe(3) || !isPipe(4) {
		fmt.Fprintln(os.Stderr, "boxtui: __boxtui-init is internal to boxtui run; it only runs as a container's init")
		return 2
	}
	ready := os.NewFile(3, "ready")
	unix.CloseOnExec(3)
	unix.CloseOnExec(4)
	fail := func(err error) int {
		ready.Write(initMessage(err))
		return 1
	}
	cfg, err := ParseInitArgs(args)
	if err != nil {
		return fail(err)
	}
	if err := setupContainer(cfg); err != nil {
		return fail(err)
	}
	if _, err := ready.Write([]byte{InitReady}); err != nil {
		return 1 // the holder is gone: nobody would hold the console
	}
	var goByte [1]byte
	if n, _ := unix.Read(4, goByte[:]); n != 1 {
		ready.Write([]byte{InitAbort})
		return 1
	}
	unix.Close(4)
	argv0, err := lookPathInside(cfg.Command[0], containerenv.Stat)
	if err != nil {
		return fail(err)
	}
	unix.Umask(0o022)
	env := append([]string{"HOSTNAME=" + cfg.Hostname}, cfg.Env...)
	err = unix.Exec(argv0, cfg.Command, env)
	return fail(fmt.Errorf("exec %s: %w", cfg.Command[0], err))
}

// maxInitMessage is the most the holder reads of an init's error, in one
// read: 'E' and the message, cut to fit. initstage.c's fail cuts at the
// same length (MAX_INIT_MESSAGE), so both inits write the same bytes.
const maxInitMessage = 4096

// initMessage is the error message the init writes on its ready pipe.
func initMessage(err error) []byte {
	msg := append([]byte{InitError}, err.Error()...)
	return msg[:min(len(msg), maxInitMessage)]
}

// setupContainer builds the container's view of the world, in an order that
// matters:
//  1. / recursively private first, so no mount below propagates to the host
//     (on systemd hosts / is shared and every proc/dev mount would leak);
//  2. the rootfs bind-mounted onto itself, so it is a mount point that
//     pivot_root accepts and that carries our proc and dev;
//  3. proc and dev mounted onto targets resolved inside the rootfs and held
//     by fd (a hostile rootfs's proc -> /etc symlink stays in the rootfs);
//  4. pivot_root, and the old root detached, so the host's tree is not
//     reachable from inside.
func setupContainer(cfg Config) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return &mountError{"make private", "/", err}
	}
	if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
		return fmt.Errorf("set hostname %+q: %w", cfg.Hostname, err) // %+q: initstage.c writes the same
	}
	if err := unix.Mount(cfg.Rootfs, cfg.Rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return &mountError{"bind rootfs onto itself", cfg.Rootfs, err}
	}
	rootfd, err := unix.Open(cfg.Rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open rootfs %s: %w", cfg.Rootfs, err)
	}
	defer unix.Close(rootfd)
	// Device nodes must get exactly the modes asked for.
	unix.Umask(0)
	if err := mountProc(rootfd); err != nil {
		return err
	}
	if err := mountDev(rootfd); err != nil {
		return err
	}
	if err := unix.Fchdir(rootfd); err != nil {
		return fmt.Errorf("enter rootfs %s: %w", cfg.Rootfs, err)
	}
	// pivot_root(".", ".") stacks the old root on top of the new one; the
	// detach then removes it, leaving only the rootfs (runc does the same).
	if err := unix.PivotRoot(".", "."); err != nil {
		return &mountError{"pivot_root into", cfg.Rootfs, err}
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return &mountError{"detach the old root from", cfg.Rootfs, err}
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// openDirInRoot opens (creating if missing) the top-level directory name of
// the root held by rootfd, with every symlink resolved as if rootfd were /.
func openDirInRoot(rootfd int, name string) (int, error) {
	how := &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := openat2.Open(rootfd, name, how)
	if err == unix.ENOENT {
		// mkdirat does not follow a final symlink: a dangling one fails
		// here rather than creating a directory somewhere else.
		if err := unix.Mkdirat(rootfd, name, 0o755); err != nil && err != unix.EEXIST {
			return -1, fmt.Errorf("create /%s in the rootfs: %w", name, err)
		}
		fd, err = openat2.Open(rootfd, name, how)
	}
	if err != nil {
		return -1, fmt.Errorf("open /%s in the rootfs: %w", name, err)
	}
	return fd, nil
}

// newMount creates a detached mount of a fresh filesystem of type fstype.
func newMount(fstype string, options map[string]string, attrs int) (int, error) {
	fsfd, err := unix.Fsopen(fstype, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, &mountError{"create", fstype, err}
	}
	defer unix.Close(fsfd)
	for k, v := range options {
		set := func() error { return unix.FsconfigSetString(fsfd, k, v) }
		if v == "" {
			set = func() error { return unix.FsconfigSetFlag(fsfd, k) }
		}
		if err := set(); err != nil {
			return -1, &mountError{"set " + k + "=" + v + " on", fstype, err}
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, &mountError{"create", fstype, err}
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, attrs)
	if err != nil {
		return -1, &mountError{"mount", fstype, err}
	}
	return mfd, nil
}

// attach moves the detached mount mfd onto the directory held by targetfd:
// no path is looked up again, so nothing can be swapped in between.
func attach(mfd, targetfd int, what string) error {
	err := unix.MoveMount(mfd, "", targetfd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH)
	if err != nil {
		return &mountError{"attach", what, err}
	}
	return nil
}

// mountProc mounts a proc of the new PID namespace (this process is its
// PID 1, and proc takes the mounter's namespace).
func mountProc(rootfd int) error {
	target, err := openDirInRoot(rootfd, "proc")
	if err != nil {
		return err
	}
	defer unix.Close(target)
	mfd, err := newMount("proc", nil, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return err
	}
	defer unix.Close(mfd)
	return attach(mfd, target, "/proc")
}

// devNodes is the minimal /dev every program expects.
var devNodes = []struct {
	name         string
	major, minor uint32
}{
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
}

var devLinks = [][2]string{
	{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
	{"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},
}

// mountDev gives the container a tmpfs /dev of its own with the usual
// nodes and a private devpts. The nodes are made while the tmpfs is still
// detached, where nothing in the container can see or race them.
func mountDev(rootfd int) error {
	target, err := openDirInRoot(rootfd, "dev")
	if err != nil {
		return err
	}
	defer unix.Close(target)
	mfd, err := newMount("tmpfs", map[string]string{"mode": "755", "size": "65536k"}, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return err
	}
	defer unix.Close(mfd)
	for _, n := range devNodes {
		if err := unix.Mknodat(mfd, n.name, unix.S_IFCHR|0o666, int(unix.Mkdev(n.major, n.minor))); err != nil {
			return fmt.Errorf("create /dev/%s: %w", n.name, err)
		}
	}
	for _, l := range devLinks {
		if err := unix.Symlinkat(l[1], mfd, l[0]); err != nil {
			return fmt.Errorf("create /dev/%s: %w", l[0], err)
		}
	}
	if err := unix.Mkdirat(mfd, "pts", 0o755); err != nil {
		return fmt.Errorf("create /dev/pts: %w", err)
	}
	if err := unix.Mkdirat(mfd, "shm", 0o1777); err != nil {
		return fmt.Errorf("create /dev/shm: %w", err)
	}
	if err := attach(mfd, target, "/dev"); err != nil {
		return err
	}
	pts, err := unix.Openat(mfd, "pts", unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /dev/pts: %w", err)
	}
	defer unix.Close(pts)
	ptsfd, err := newMount("devpts", map[string]string{"newinstance": "", "ptmxmode": "0666", "mode": "0620"}, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return err
	}
	defer unix.Close(ptsfd)
	return attach(ptsfd, pts, "/dev/pts")
}

// lookPathInside finds the command in the container (after pivot_root) as
// a shell would, in containerenv.Path (the command's environment does not
// choose where it is found); a name with a slash is taken as it is.
func lookPathInside(command string, stat containerenv.StatFunc) (string, error) {
	if strings.Contains(command, "/") {
		return command, nil
	}
	if p, ok := containerenv.LookPath(command, containerenv.Path, stat); ok {
		return p, nil
	}
	return "", fmt.Errorf("command not found: %+q is not in the container's PATH", command) // %+q: as initstage.c
}

// isPipe reports whether fd is an open pipe.
func isPipe(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO
}

func isSocket(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK
}
