// Writing one entry into the tree, every path resolved inside its root and no
// symlink followed: parents, files, hard links, owner, mode and times.

package rootfs

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	"boxtui/internal/openat2"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// parent returns an O_PATH handle of the directory dir (relative to the
// root), created as needed, every component resolved inside the root.
func (im *importer) parent(dir string) (*os.File, error) {
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		fd, err := unix.Dup(int(im.root.Fd()))
		if err != nil {
			return nil, err
		}
		unix.CloseOnExec(fd)
		return os.NewFile(uintptr(fd), im.root.Name()), nil
	}
	return pathrs.MkdirAllHandle(im.root, dir, 0o755)
}

// clearEntry removes whatever is at base in pfd so a new entry can take its
// place, as tar does; a directory stays when a directory is wanted there.
// Removing never follows a symlink: it removes the link itself.
func clearEntry(pfd int, base string, wantDir bool) (isDir bool, err error) {
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return false, nil
		}
		return false, err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if wantDir {
			return true, nil
		}
		return false, unix.Unlinkat(pfd, base, unix.AT_REMOVEDIR)
	}
	return false, unix.Unlinkat(pfd, base, 0)
}

func (im *importer) writeFile(pfd int, base, name string, mode uint32, hdr *tar.Header, body io.Reader) error {
	// O_EXCL|O_NOFOLLOW: the name was just cleared, so anything there now
	// (a symlink raced in) makes this fail instead of writing through it.
	fd, err := unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), name)
	// The header's size was checked against the limit; the tar reader
	// never returns more than it.
	n, err := io.Copy(f, io.LimitReader(body, hdr.Size))
	if err == nil && im.asRoot {
		err = f.Chown(hdr.Uid, hdr.Gid)
	}
	if err == nil {
		// After chown, which clears set-uid bits.
		err = unix.Fchmod(fd, mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	im.rep.Files++
	im.rep.Bytes += n
	return im.times(pfd, base, name, hdr)
}

// hardlink links base to the archive member hdr.Linkname, resolved inside
// the root without following a symlink in its last component.
func (im *importer) hardlink(pfd int, base, name string, hdr *tar.Header) error {
	target, ok := CleanEntryName(hdr.Linkname)
	if !ok {
		return fmt.Errorf("hard link %s -> %s: target outside the archive root", name, hdr.Linkname)
	}
	tfd, err := openat2.Open(int(im.root.Fd()), target, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
	})
	if err != nil {
		return fmt.Errorf("hard link %s -> %s: target is not in the archive before it: %w", name, hdr.Linkname, err)
	}
	defer unix.Close(tfd)
	var st unix.Stat_t
	if err := unix.Fstat(tfd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return fmt.Errorf("hard link %s -> %s: target is a directory", name, hdr.Linkname)
	}
	if im.asRoot {
		err = unix.Linkat(tfd, "", pfd, base, unix.AT_EMPTY_PATH)
	} else {
		// AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the fd's magic link
		// names the same inode without it.
		err = unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(tfd), pfd, base, unix.AT_SYMLINK_FOLLOW)
	}
	if err != nil {
		return fmt.Errorf("hard link %s -> %s: %w", name, hdr.Linkname, err)
	}
	im.rep.Hardlinks++
	return nil
}

// own gives base the archive's owner when running as root; otherwise
// everything stays the caller's.
func (im *importer) own(pfd int, base string, hdr *tar.Header) error {
	if !im.asRoot {
		return nil
	}
	if err := unix.Fchownat(pfd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown %s: %w", hdr.Name, err)
	}
	return nil
}

// chmod sets the mode of a non-symlink base through an O_PATH handle
// opened without following symlinks (fchmodat has no working NOFOLLOW).
func (im *importer) chmod(pfd int, base, name string, mode uint32) error {
	fd, err := unix.Openat(pfd, base, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("chmod %s: %w", name, err)
	}
	defer unix.Close(fd)
	if err := unix.Fchmodat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), mode, 0); err != nil {
		return fmt.Errorf("chmod %s: %w", name, err)
	}
	return nil
}

func (im *importer) times(pfd int, base, name string, hdr *tar.Header) error {
	if hdr.ModTime.IsZero() {
		return nil
	}
	ts := unix.NsecToTimespec(hdr.ModTime.UnixNano())
	if err := unix.UtimesNanoAt(pfd, base, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times of %s: %w", name, err)
	}
	return nil
}

// finishDir applies a directory's mode and time once everything inside it
// is unpacked.
func (im *importer) finishDir(hdr *tar.Header) error {
	parent, base := path.Split(hdr.Name)
	pdir, err := im.parent(parent)
	if err != nil {
		return fmt.Errorf("resolve parent of %s: %w", hdr.Name, err)
	}
	defer pdir.Close()
	pfd := int(pdir.Fd())
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil // replaced by a later entry
	}
	if err := im.chmod(pfd, base, hdr.Name, uint32(hdr.Mode)&0o7777); err != nil {
		return err
	}
	return im.times(pfd, base, hdr.Name, hdr)
}
