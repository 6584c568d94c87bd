// Package stage is the hidden stage of `boxtui debug`: the process that is
// born in the target's PID namespace (and its network, IPC and UTS ones),
// builds the debug mount namespace — the toolbox under a throwaway overlay,
// a fresh /proc of the target's PID namespace, /dev, a read-only /sys of its
// network namespace, and the target's whole mount tree at /target — and
// executes the shell or command there.
//
// It runs from this package's init, before the UI libraries initialise, so
// it must import nothing heavier than the standard library, x/sys and
// boxtui's small early packages.
package stage

import (
	"errors"
	"fmt"
	"os"
	"path"
	"runtime"

	"boxtui/internal/openat2"
	"boxtui/runtime/containerenv"
	"boxtui/runtime/launch/stage0"

	"golang.org/x/sys/unix"
)

// Name is the stage's hidden first argument. It starts with
// reexec.Prefix (not imported: this package stays small).
const Name = "__boxtui-debug"

// The stage's inherited descriptors (os/exec ExtraFiles start at 3).
const (
	TreeFD   = 3 // the detached copy of the target's mount tree
	StatusFD = 4 // closed on exec; a failure is written here first
)

// Status lines the stage writes before exiting on failure; the rest of the
// message follows on the same write.
const (
	StatusNotFound = "notfound\n" // then the command
	StatusNoShell  = "noshell\n"
	StatusFailed   = "error\n" // then the error
)

// TargetDir is where the target's root shows in the debug namespace.
const TargetDir = "target"

// DefaultShells are tried in order when no command is given: the
// toolbox's (containerenv.Shells).
var DefaultShells = containerenv.Shells

func init() {
	if len(os.Args) > 1 && os.Args[1] == Name {
		os.Exit(Main(os.Args[2:]))
	}
}

// Main is the stage. args: TOOLBOX DIR -- [COMMAND ARGS...]. It changes only
// its own thread's mount namespace and root, then executes from that thread.
func Main(args []string) int {
	// A process in the host's namespaces run by hand would only make a
	// private mount namespace and fail; still, refuse without the pipes
	// the client gives it.
	if !isFD(TreeFD) || !isFD(StatusFD) {
		fmt.Fprintln(os.Stderr, "boxtui: "+Name+" is internal to boxtui debug")
		return 2
	}
	runtime.LockOSThread()
	status := os.NewFile(StatusFD, "status")
	fail := func(kind, format string, a ...any) int {
		fmt.Fprintf(status, kind+format, a...)
		return 1
	}
	unix.CloseOnExec(TreeFD)
	unix.CloseOnExec(StatusFD)
	if len(args) < 3 || args[2] != "--" {
		return fail(StatusFailed, "bad stage arguments %q", args)
	}
	toolbox, dir, argv := args[0], args[1], args[3:]
	if err := build(toolbox); err != nil {
		return fail(StatusFailed, "%v", err)
	}
	if err := unix.Chdir(dir); err != nil {
		return fail(StatusFailed, "working directory %s not found in the debug root", dir)
	}
	env := os.Environ()
	p, argv, err := lookCommand(argv, containerenv.EnvPath(env))
	if err != nil {
		var nf *notFound
		if errors.As(err, &nf) {
			return fail(StatusNotFound, "%s", nf.command)
		}
		return fail(StatusNoShell, "")
	}
	err = unix.Exec(p, argv, env)
	if errors.Is(err, unix.ENOENT) {
		return fail(StatusNotFound, "%s", p)
	}
	return fail(StatusFailed, "exec %s: %v", p, err)
}

// build makes this thread's mount namespace the debug one and its root the
// toolbox overlay. Every step happens in a private copy of boxtui's mount
// namespace, made before the first mount: nothing propagates to the host,
// and the target's namespace is never entered (its tree came ready-made).
func build(toolbox string) error {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("make a mount namespace: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private in the debug namespace: %w", err)
	}
	// Opened in the new namespace: overlayfs takes its layers only from
	// the mounter's own namespace.
	lower, err := unix.Open(toolbox, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open toolbox %s: %w", toolbox, err)
	}
	defer unix.Close(lower)

	// The overlay's writable layer is a tmpfs that dies with the
	// namespace. It is attached over the toolbox's own path (in this
	// private copy only), the one place known to exist; the overlay reaches
	// the toolbox underneath through the handle opened above.
	scratch, err := newMount("tmpfs", map[string]string{"mode": "755"}, 0)
	if err != nil {
		return err
	}
	defer unix.Close(scratch)
	if err := attach(scratch, lower, "the scratch tmpfs"); err != nil {
		return err
	}
	for _, d := range []string{"upper", "work", "root"} {
		if err := unix.Mkdirat(scratch, d, 0o755); err != nil {
			return fmt.Errorf("create the overlay's %s directory: %w", d, err)
		}
	}
	self := "/proc/thread-self/fd/"
	root, err := newMount("overlay", map[string]string{
		"lowerdir": self + fmt.Sprint(lower),
		"upperdir": self + fmt.Sprint(scratch) + "/upper",
		"workdir":  self + fmt.Sprint(scratch) + "/work",
	}, 0)
	if err != nil {
		return fmt.Errorf("%w (the toolbox must be usable as an overlay's lower layer)", err)
	}
	defer unix.Close(root)
	at, err := unix.Openat(scratch, "root", unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open the overlay's mount point: %w", err)
	}
	err = attach(root, at, "the toolbox overlay")
	unix.Close(at)
	if err != nil {
		return err
	}

	// Device nodes must get exactly the modes asked for.
	old := unix.Umask(0)
	defer unix.Umask(old)
	// A fresh proc shows the PID namespace of the process that mounts it:
	// this one was born in the target's.
	if err := stage0.MountProc(root); err != nil {
		return err
	}
	if err := stage0.MountDev(root); err != nil {
		return err
	}
	// sysfs shows the network devices of the mounter's network namespace,
	// the target's; read-only, as the toolbox has no business there.
	if err := mountAt(root, "sys", "sysfs", unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC); err != nil {
		return err
	}
	// Names resolve as in the target, whose network this is.
	for _, name := range NetworkFiles {
		if err := copyFromTarget(root, name); err != nil {
			return err
		}
	}
	target, err := dirIn(root, TargetDir)
	if err != nil {
		return err
	}
	err = attach(TreeFD, target, "the target's root at /"+TargetDir)
	unix.Close(target)
	if err != nil {
		return err
	}
	unix.Close(TreeFD)

	if err := unix.Fchdir(root); err != nil {
		return fmt.Errorf("enter the toolbox root: %w", err)
	}
	// pivot_root(".", ".") stacks the old root on top of the new one; the
	// detach removes it, and with it the host's tree and the scratch
	// tmpfs's mount point (the overlay keeps its own reference).
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root into the toolbox: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the host's root: %w", err)
	}
	return unix.Chdir("/")
}

// NetworkFiles are copied from the target's root into the debug root (when
// the target has them as regular files), so that names resolve as they do
// in the target's network namespace, which the shell is in.
var NetworkFiles = []string{"etc/resolv.conf", "etc/hosts"}

// kernelFS are the filesystem types copyFromTarget never reads from.
var kernelFS = map[int64]bool{
	unix.PROC_SUPER_MAGIC: true, unix.SYSFS_MAGIC: true, unix.DEBUGFS_MAGIC: true, unix.TRACEFS_MAGIC: true,
	unix.CGROUP_SUPER_MAGIC: true, unix.CGROUP2_SUPER_MAGIC: true, unix.SECURITYFS_MAGIC: true,
	unix.BPF_FS_MAGIC: true, 0x62656570 /* configfs */ : true, unix.PSTOREFS_MAGIC: true, unix.EFIVARFS_MAGIC: true,
}

// maxNetworkFile bounds what is copied: these files are small.
const maxNetworkFile = 64 << 10

// copyFromTarget copies name from the target's tree (not yet attached) to
// the same place in the toolbox overlay. The target controls the file: it
// is resolved inside the target's root (a symlink cannot leave it), opened
// without blocking (a FIFO never hangs the stage), copied only when it is
// a regular file, and only its bytes are used. Missing or odd: the
// toolbox's own file stays.
func copyFromTarget(root int, name string) error {
	src, err := openat2.Open(TreeFD, name, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC | unix.O_NOCTTY,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return nil
	}
	defer unix.Close(src)
	var st unix.Stat_t
	if unix.Fstat(src, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size > maxNetworkFile {
		return nil
	}
	// Not a kernel file that the target's /etc points into (proc, sysfs,
	// tracefs...): their reads may block or have effects.
	var fs unix.Statfs_t
	if unix.Fstatfs(src, &fs) != nil || kernelFS[fs.Type] {
		return nil
	}
	buf := make([]byte, maxNetworkFile+1)
	n := 0
	for n < len(buf) {
		m, err := unix.Read(src, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || m == 0 {
			break
		}
		n += m
	}
	if n > maxNetworkFile {
		return nil
	}
	dir, base := path.Split(name)
	dirfd, err := dirIn(root, path.Clean(dir))
	if err != nil {
		return err
	}
	defer unix.Close(dirfd)
	// Replace whatever the toolbox has there (a symlink, often) in the
	// overlay only.
	if err := unix.Unlinkat(dirfd, base, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("replace /%s in the toolbox overlay: %w", name, err)
	}
	dst, err := unix.Openat(dirfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("create /%s in the toolbox overlay: %w", name, err)
	}
	defer unix.Close(dst)
	for w := 0; w < n; {
		m, err := unix.Write(dst, buf[w:n])
		if err != nil {
			return fmt.Errorf("write /%s in the toolbox overlay: %w", name, err)
		}
		w += m
	}
	return nil
}

// mountAt mounts a fresh fstype on the directory name of the root.
func mountAt(root int, name, fstype string, attrs int) error {
	dir, err := dirIn(root, name)
	if err != nil {
		return err
	}
	defer unix.Close(dir)
	m, err := newMount(fstype, nil, attrs)
	if err != nil {
		return err
	}
	defer unix.Close(m)
	return attach(m, dir, "/"+name)
}

// dirIn opens (creating it in the overlay when missing) the top-level
// directory name of the toolbox root, resolved inside it.
func dirIn(root int, name string) (int, error) {
	how := &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := openat2.Open(root, name, how)
	if errors.Is(err, unix.ENOENT) {
		if err := unix.Mkdirat(root, name, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
			return -1, fmt.Errorf("create /%s in the toolbox overlay: %w", name, err)
		}
		fd, err = openat2.Open(root, name, how)
	}
	if err != nil {
		return -1, fmt.Errorf("open /%s in the toolbox: %w", name, err)
	}
	return fd, nil
}

// newMount creates a detached mount of a fresh filesystem.
func newMount(fstype string, options map[string]string, attrs int) (int, error) {
	fsfd, err := unix.Fsopen(fstype, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("create %s: %w", fstype, err)
	}
	defer unix.Close(fsfd)
	for k, v := range options {
		if err := unix.FsconfigSetString(fsfd, k, v); err != nil {
			return -1, fmt.Errorf("create %s: set %s: %w", fstype, k, err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, fmt.Errorf("create %s: %w", fstype, err)
	}
	m, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, attrs)
	if err != nil {
		return -1, fmt.Errorf("mount %s: %w", fstype, err)
	}
	return m, nil
}

func attach(m, dir int, what string) error {
	if err := unix.MoveMount(m, "", dir, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("attach %s: %w", what, err)
	}
	return nil
}

func isFD(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil
}

type notFound struct{ command string }

func (e *notFound) Error() string { return "command " + e.command + " not found in the toolbox" }

// lookCommand resolves argv[0] in the debug root the way a shell would
// (containerenv.LookPath), or picks the toolbox's shell when argv is empty.
func lookCommand(argv []string, pathEnv string) (string, []string, error) {
	if len(argv) == 0 {
		sh, ok := containerenv.Shell(containerenv.Stat)
		if !ok {
			return "", nil, errors.New("no shell")
		}
		return sh, []string{sh}, nil
	}
	if argv[0] == "" {
		return "", nil, &notFound{`""`}
	}
	p, ok := containerenv.LookPath(argv[0], pathEnv, containerenv.Stat)
	if !ok {
		return "", nil, &notFound{argv[0]}
	}
	return p, argv, nil
}
