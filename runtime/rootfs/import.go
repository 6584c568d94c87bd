package rootfs

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"boxtui/internal/openat2"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// ImportReport says what Import unpacked.
type ImportReport struct {
	Dir                                       string
	Files, Dirs, Symlinks, Hardlinks, Devices int
	// Bytes is the total size of the regular files written.
	Bytes int64
	// Skipped lists entries not unpacked, as "NAME: reason" (device nodes
	// without root, names climbing out with "..", unknown entry types).
	Skipped []string
	// Created lists directories a container needs (proc, dev, sys, tmp)
	// that the archive lacked and Import added.
	Created []string
	// DeviceNodes lists the device nodes made (only with AllowDevices, as
	// root), as "NAME (char|block MAJOR:MINOR)".
	DeviceNodes []string
	Duration    time.Duration
}

// Default limits of Import: above a `docker export` of a big distribution
// image (a few GiB, a few hundred thousand entries), far below what fills
// a disk or an inode table by surprise.
const (
	DefaultMaxBytes   int64 = 16 << 30
	DefaultMaxEntries       = 1_000_000
)

// ImportOptions tune Import; the zero value is the safe default.
type ImportOptions struct {
	// AllowDevices unpacks char and block device nodes (as root); without
	// it an archive holding one is refused.
	AllowDevices bool
	// MaxBytes caps the unpacked size: regular files' contents and symlink
	// targets, counted from the headers before anything is written, so a
	// compression bomb stops at the limit. 0 means DefaultMaxBytes.
	MaxBytes int64
	// MaxEntries caps the number of archive entries read, skipped ones
	// included. 0 means DefaultMaxEntries.
	MaxEntries int
}

// Import unpacks a `docker export`-style tar archive, plain or gzipped
// (told apart by magic bytes), into dir, which must not exist or be empty.
//
// The archive is treated as hostile. Every entry's parent directory is
// resolved inside dir (a symlink planted by an earlier entry, absolute or
// full of "..", resolves as if dir were "/"), the entry is created relative
// to that directory's handle without following a symlink in its last
// component, and hard links only reach targets inside dir. Names that climb
// out with ".." are skipped. Ownership (setuid bits included) is kept only
// when running as root, and then dir must be out of other users' reach
// (see PrepareParent). Device nodes are refused unless opts.AllowDevices,
// and the unpacked size and the number of entries are capped while
// reading. It unpacks into a temporary directory next to dir, reachable
// by root alone until it is whole, and renames it into place, so a failure
// leaves nothing behind.
func Import(tarball, dir string, opts ImportOptions) (ImportReport, error) {
	start := time.Now()
	rep := ImportReport{Dir: dir}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return rep, fmt.Errorf("import into %s: %w", dir, err)
	}
	rep.Dir = dir
	if err := checkDest(dir, false, "remove it or choose another directory"); err != nil {
		return rep, err
	}
	f, err := os.Open(tarball)
	if err != nil {
		return rep, fmt.Errorf("open tarball: %w", err)
	}
	defer f.Close()
	r, err := decompress(f)
	if err != nil {
		return rep, fmt.Errorf("read tarball %s: %w", tarball, err)
	}

	dir, undoParent, err := prepareParent(dir)
	if err != nil {
		return rep, err
	}
	rep.Dir = dir
	// 0700 until whole: nobody but root walks into a half-made tree.
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		undoParent()
		return rep, fmt.Errorf("create temporary directory next to %s: %w", dir, err)
	}
	done := false
	defer func() {
		if !done {
			removeTree(tmp)
			undoParent()
		}
	}()
	if err := unpack(r, tmp, &rep, opts); err != nil {
		return rep, fmt.Errorf("import %s: %w", tarball, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return rep, err
	}
	if err := install(tmp, dir, false); err != nil {
		return rep, err
	}
	done = true
	rep.Duration = time.Since(start)
	return rep, nil
}

// removeTree removes a half-unpacked tree; without root, read-only
// directories from the archive are first made writable again.
func removeTree(dir string) {
	if os.RemoveAll(dir) == nil {
		return
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o700)
		}
		return nil
	})
	os.RemoveAll(dir)
}

var (
	gzipMagic  = []byte{0x1f, 0x8b}
	otherMagic = map[string][]byte{
		"xz":    {0xfd, '7', 'z', 'X', 'Z', 0x00},
		"zstd":  {0x28, 0xb5, 0x2f, 0xfd},
		"bzip2": []byte("BZh"),
	}
)

// decompress returns the tar stream inside r, unzipping gzip.
func decompress(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	head, err := br.Peek(6)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if bytes.HasPrefix(head, gzipMagic) {
		return gzip.NewReader(br)
	}
	for name, magic := range otherMagic {
		if bytes.HasPrefix(head, magic) {
			return nil, fmt.Errorf("it is %s-compressed, which import does not read: decompress it first (or use gzip)", name)
		}
	}
	return br, nil
}

// CleanEntryName turns a tar entry name into a path relative to the
// archive root, as tar does: leading "/" and "./" are dropped and the path
// is cleaned. ok is false for names that climb above the root with "..",
// contain NUL, or name the root itself.
func CleanEntryName(unsafeName string) (name string, ok bool) {
	if strings.IndexByte(unsafeName, 0) >= 0 {
		return "", false
	}
	name = path.Clean("/" + unsafeName)
	// Clean of a rooted path drops every leading "..", so check the raw
	// components for climbing instead.
	depth := 0
	for _, c := range strings.Split(unsafeName, "/") {
		switch c {
		case "", ".":
		case "..":
			if depth--; depth < 0 {
				return "", false
			}
		default:
			depth++
		}
	}
	name = strings.TrimPrefix(name, "/")
	if name == "" {
		return "", false
	}
	return name, true
}

// importer holds the state of one unpack.
type importer struct {
	root   *os.File // O_PATH handle of the temporary root
	asRoot bool
	rep    *ImportReport
	dirs   []*tar.Header // applied last: a 0555 dir must still take entries
	opts   ImportOptions
	bytes  int64 // counted against opts.MaxBytes
}

func unpack(r io.Reader, tmp string, rep *ImportReport, opts ImportOptions) error {
	root, err := os.OpenFile(tmp, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer root.Close()
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	im := &importer{root: root, asRoot: os.Geteuid() == 0, rep: rep, opts: opts}
	tr := tar.NewReader(r)
	for entries := 1; ; entries++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		if entries > opts.MaxEntries {
			return fmt.Errorf("the archive has more than %d entries (the --max-entries limit): pass a larger --max-entries if the image really has that many", opts.MaxEntries)
		}
		if err := im.entry(hdr, tr); err != nil {
			return err
		}
	}
	for i := len(im.dirs) - 1; i >= 0; i-- {
		if err := im.finishDir(im.dirs[i]); err != nil {
			return err
		}
	}
	for _, d := range []struct {
		name string
		mode uint32
	}{{"proc", 0o555}, {"sys", 0o555}, {"dev", 0o755}, {"tmp", 0o1777}} {
		err := unix.Mkdirat(int(root.Fd()), d.name, d.mode)
		if err == nil {
			unix.Fchmodat(int(root.Fd()), d.name, d.mode, 0) // umask
			rep.Created = append(rep.Created, d.name)
		} else if !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create /%s: %w", d.name, err)
		}
	}
	return nil
}

func (im *importer) skip(name, why string) {
	im.rep.Skipped = append(im.rep.Skipped, name+": "+why)
}

// entry unpacks one archive member.
func (im *importer) entry(hdr *tar.Header, body io.Reader) error {
	name, ok := CleanEntryName(hdr.Name)
	if !ok {
		if strings.Trim(hdr.Name, "./") != "" {
			im.skip(hdr.Name, "name leaves the archive root")
		}
		return nil
	}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeChar, tar.TypeBlock, tar.TypeFifo, tar.TypeDir, tar.TypeSymlink, tar.TypeLink:
	case tar.TypeXGlobalHeader:
		return nil
	default:
		im.skip(name, fmt.Sprintf("entry type %q not supported", hdr.Typeflag))
		return nil
	}
	if hdr.Typeflag == tar.TypeChar || hdr.Typeflag == tar.TypeBlock {
		if !im.opts.AllowDevices {
			return fmt.Errorf("entry %s is a %s device node (%d:%d), refused: whoever reaches it reaches that host device; pass --allow-devices to unpack device nodes (containers get their own /dev anyway)",
				name, deviceKind(hdr.Typeflag), hdr.Devmajor, hdr.Devminor)
		}
		if !im.asRoot {
			im.skip(name, "device node needs root")
			return nil
		}
	}
	var size int64
	switch hdr.Typeflag {
	case tar.TypeReg:
		size = hdr.Size
	case tar.TypeSymlink:
		size = int64(len(hdr.Linkname))
	}
	if im.bytes+size > im.opts.MaxBytes || im.bytes+size < im.bytes {
		return fmt.Errorf("the archive unpacks to more than %s (the --max-size limit; reached at %s): pass a larger --max-size if the image really is that big",
			SizeString(im.opts.MaxBytes), name)
	}
	im.bytes += size

	parent, base := path.Split(name)
	pdir, err := im.parent(parent)
	if err != nil {
		return fmt.Errorf("entry %s: its parent %s does not resolve to a directory inside the archive root (a symlink to something missing?): %w",
			name, strings.TrimSuffix(parent, "/"), bareErr(err))
	}
	defer pdir.Close()
	pfd := int(pdir.Fd())

	isDir, err := clearEntry(pfd, base, hdr.Typeflag == tar.TypeDir)
	if err != nil {
		return fmt.Errorf("replace existing %s: %w", name, err)
	}
	mode := uint32(hdr.Mode) & 0o7777
	switch hdr.Typeflag {
	case tar.TypeDir:
		if !isDir {
			if err := unix.Mkdirat(pfd, base, 0o700); err != nil {
				return fmt.Errorf("create directory %s: %w", name, err)
			}
		}
		im.rep.Dirs++
		h := *hdr
		h.Name = name
		im.dirs = append(im.dirs, &h)
		return im.own(pfd, base, hdr)
	case tar.TypeReg:
		return im.writeFile(pfd, base, name, mode, hdr, body)
	case tar.TypeSymlink:
		if err := unix.Symlinkat(hdr.Linkname, pfd, base); err != nil {
			return fmt.Errorf("create symlink %s: %w", name, err)
		}
		im.rep.Symlinks++
		if err := im.own(pfd, base, hdr); err != nil {
			return err
		}
		return im.times(pfd, base, name, hdr)
	case tar.TypeLink:
		return im.hardlink(pfd, base, name, hdr)
	default: // devices and FIFOs
		kind := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[hdr.Typeflag]
		dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
		if err := unix.Mknodat(pfd, base, kind|mode, int(dev)); err != nil {
			return fmt.Errorf("create device node %s: %w", name, err)
		}
		if hdr.Typeflag != tar.TypeFifo {
			im.rep.Devices++
			im.rep.DeviceNodes = append(im.rep.DeviceNodes, fmt.Sprintf("%s (%s %d:%d)", name, deviceKind(hdr.Typeflag), hdr.Devmajor, hdr.Devminor))
		}
		if err := im.own(pfd, base, hdr); err != nil {
			return err
		}
		if err := im.chmod(pfd, base, name, mode); err != nil {
			return err
		}
		return im.times(pfd, base, name, hdr)
	}
}

// bareErr drops the path of a PathError: it names the temporary
// directory, which means nothing to the user.
func bareErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

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

func deviceKind(typ byte) string {
	if typ == tar.TypeBlock {
		return "block"
	}
	return "char"
}

// SizeString formats n exactly, in the largest binary unit that divides
// it: 16GiB, 1536KiB, 1000. The --max-size flag reads it back.
func SizeString(n int64) string {
	units := []string{"", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for i < len(units)-1 && n >= 1024 && n%1024 == 0 {
		n /= 1024
		i++
	}
	return strconv.FormatInt(n, 10) + units[i]
}
