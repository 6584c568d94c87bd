package exeseal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrUnsealed is returned by EnsureSealed when no sealed copy of the
// binary could be made.
var ErrUnsealed = errors.New("cannot run from a sealed copy of boxtui's binary")

// disabled reports whether BOXTUI_EXESEAL=0 turned the protection off.
func disabled() bool { return os.Getenv("BOXTUI_EXESEAL") == "0" }

// NeedsSeal is the rule for which invocations start processes inside
// containers: the UI without arguments, exec, run and debug. It is the
// twin of seal.c's boxtui_needs_seal.
func NeedsSeal(args []string) bool {
	if len(args) == 1 {
		return true
	}
	if len(args) < 2 {
		return false
	}
	switch args[1] {
	case "exec", "run", "debug":
		return true
	}
	return false
}

func init() {
	// With cgo, seal.c has already done this before the runtime started and
	// the check below finds the binary sealed.
	if NeedsSeal(os.Args) {
		if err := EnsureSealed(); err != nil {
			fmt.Fprintf(os.Stderr, "boxtui: %v\n", err)
			os.Exit(125)
		}
	}
}

// Sealed reports whether the running binary can never be written: it is on
// a read-only mount or superblock, or a memfd sealed against writes.
func Sealed() (bool, error) {
	f, err := os.Open("/proc/self/exe")
	if err != nil {
		return false, err
	}
	defer f.Close()
	return FileSealed(int(f.Fd())), nil
}

// FileSealed reports whether the file open at fd (not O_PATH) can never be
// written: it is on a read-only mount or superblock, or a memfd sealed
// against writes. It is the twin of seal.c's boxtui_exe_sealed.
func FileSealed(fd int) bool {
	var st unix.Statfs_t
	if unix.Fstatfs(fd, &st) == nil && st.Flags&unix.ST_RDONLY != 0 {
		return true
	}
	seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
	return err == nil && seals&(unix.F_SEAL_WRITE|unix.F_SEAL_FUTURE_WRITE) != 0 && seals&unix.F_SEAL_SEAL != 0
}

// EnsureSealed re-executes the process from a sealed copy of its binary,
// with the same arguments and environment, unless it already runs from one
// (or BOXTUI_EXESEAL=0). It returns only when the binary is sealed, or
// with an error saying why no copy could be made.
func EnsureSealed() error {
	if disabled() {
		return nil
	}
	if ok, err := Sealed(); err != nil || ok {
		return err
	}
	c, err := SealedCopy()
	if err != nil {
		return err
	}
	// The copy is checked sealed before it runs, so this cannot loop.
	err = syscall.Exec(c.Path, os.Args, os.Environ())
	c.Close()
	return fmt.Errorf("%w: exec the sealed copy: %v (BOXTUI_EXESEAL=0 accepts the risk)", ErrUnsealed, err)
}

// Copy is a sealed copy of the running binary.
type Copy struct {
	// Path executes the copy: through the overlay's directory, so the new
	// process keeps boxtui's name (execve names it after the path's last
	// element), or the memfd itself.
	Path string
	fds  []int
}

// Close releases the copy; processes started from it keep it.
func (c *Copy) Close() {
	for _, fd := range c.fds {
		unix.Close(fd)
	}
	c.fds = nil
}

// SealedCopy makes a sealed copy of the running binary: seen through a
// detached read-only overlay of its directory if it can, else a sealed
// memfd. Its fds are close-on-exec.
func SealedCopy() (*Copy, error) {
	exe, err := os.Open("/proc/self/exe")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsealed, err)
	}
	defer exe.Close()
	c, oerr := overlayCopy(exe)
	if oerr == nil {
		return c, nil
	}
	fd, merr := memfdCopy(exe)
	if merr == nil && FileSealed(fd) {
		return &Copy{Path: fmt.Sprintf("/proc/self/fd/%d", fd), fds: []int{fd}}, nil
	}
	if merr == nil {
		unix.Close(fd)
		merr = errors.New("check the seals: not sealed")
	}
	return nil, fmt.Errorf("%w (overlay: %v; memfd: %v; BOXTUI_EXESEAL=0 accepts the risk)", ErrUnsealed, oerr, merr)
}

// detachedMount finishes a configured filesystem context into a detached
// mount and closes the context.
func detachedMount(fsfd int, attrs int) (int, error) {
	defer unix.Close(fsfd)
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, err
	}
	return unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, attrs)
}

func overlayCopy(exe *os.File) (*Copy, error) {
	path, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return nil, fmt.Errorf("read /proc/self/exe: %w", err)
	}
	if strings.HasSuffix(path, " (deleted)") || !filepath.IsAbs(path) {
		return nil, fmt.Errorf("find the running binary: %q is gone", path)
	}
	dir, base := filepath.Split(path)
	dirfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open the binary's directory: %w", err)
	}
	defer unix.Close(dirfd)
	// overlayfs without an upper layer wants two lower ones that do not
	// overlap: the second is an empty, read-only tmpfs.
	tfs, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("make an empty tmpfs: %w", err)
	}
	if err := unix.FsconfigSetString(tfs, "size", "4k"); err != nil {
		unix.Close(tfs)
		return nil, fmt.Errorf("make an empty tmpfs: %w", err)
	}
	if err := unix.FsconfigSetString(tfs, "mode", "0555"); err != nil {
		unix.Close(tfs)
		return nil, fmt.Errorf("make an empty tmpfs: %w", err)
	}
	empty, err := detachedMount(tfs, unix.MOUNT_ATTR_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("make an empty tmpfs: %w", err)
	}
	defer unix.Close(empty)
	ofs, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("mount the overlay: %w", err)
	}
	if err := unix.FsconfigSetFd(ofs, "lowerdir+", dirfd); err != nil {
		unix.Close(ofs)
		return nil, fmt.Errorf("mount the overlay: %w", err)
	}
	if err := unix.FsconfigSetFd(ofs, "lowerdir+", empty); err != nil {
		unix.Close(ofs)
		return nil, fmt.Errorf("mount the overlay: %w", err)
	}
	mnt, err := detachedMount(ofs, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOSUID)
	if err != nil {
		return nil, fmt.Errorf("mount the overlay: %w", err)
	}
	fd, err := unix.Openat(mnt, base, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		unix.Close(mnt)
		return nil, fmt.Errorf("open the binary in the overlay: %w", err)
	}
	c := &Copy{Path: fmt.Sprintf("/proc/self/fd/%d/%s", mnt, base), fds: []int{mnt, fd}}
	if !sameFile(fd, int(exe.Fd())) {
		c.Close()
		return nil, errors.New("find the running binary in its directory: it was replaced")
	}
	if !FileSealed(fd) {
		c.Close()
		return nil, errors.New("check the overlay: not read-only")
	}
	return c, nil
}

// sameFile reports whether the overlay's view of the binary is the file the
// process runs.
func sameFile(a, b int) bool {
	var sa, sb unix.Stat_t
	if unix.Fstat(a, &sa) != nil || unix.Fstat(b, &sb) != nil {
		return false
	}
	return sa.Mode&unix.S_IFMT == unix.S_IFREG && sa.Mode == sb.Mode && sa.Size == sb.Size &&
		sa.Mtim == sb.Mtim && sa.Ctim == sb.Ctim
}

func memfdCopy(exe *os.File) (int, error) {
	fd, err := unix.MemfdCreate("boxtui", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) { // kernels before 6.3 know no MFD_EXEC
		fd, err = unix.MemfdCreate("boxtui", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return -1, fmt.Errorf("memfd_create: %w", err)
	}
	mf := os.NewFile(uintptr(fd), "memfd:boxtui")
	if _, err := io.Copy(mf, io.NewSectionReader(exe, 0, 1<<62)); err != nil {
		mf.Close()
		return -1, fmt.Errorf("copy the binary: %w", err)
	}
	// Dup before os.File's finaliser can close the fd we hand out.
	out, err := unix.FcntlInt(mf.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	mf.Close()
	if err != nil {
		return -1, fmt.Errorf("copy the binary: %w", err)
	}
	if _, err := unix.FcntlInt(uintptr(out), unix.F_ADD_SEALS,
		unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE|unix.F_SEAL_SEAL); err != nil {
		unix.Close(out)
		return -1, fmt.Errorf("seal the copy: %w", err)
	}
	return out, nil
}
