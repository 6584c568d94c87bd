package rootfs

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
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
