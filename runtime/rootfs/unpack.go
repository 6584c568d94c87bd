// Reading the archive: each entry's name, type and size checked against the
// options and limits before anything of it is written.

package rootfs

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

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

func deviceKind(typ byte) string {
	if typ == tar.TypeBlock {
		return "block"
	}
	return "char"
}
