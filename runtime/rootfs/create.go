package rootfs

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// DefaultDir is where `boxtui rootfs create` builds when given no directory,
// and where a launch looks for a root filesystem by default.
const DefaultDir = "/var/lib/boxtui/rootfs/default"

// DefaultTools are the programs Create copies from the host, by name. bash
// or sh must exist; the others are skipped (and listed) when missing.
var DefaultTools = []string{
	"bash", "sh",
	"ls", "cat", "echo", "mkdir", "rm", "cp", "mv", "sleep", "true", "false",
	"id", "env", "head", "tail", "wc", "sort", "tee", "touch", "chmod", "ln",
	"readlink", "stat", "uname", "date", "seq", "yes", "dd", "grep",
	"kill", "ps", "top", "mount", "umount", "hostname", "stty",
}

// Options tune Create.
type Options struct {
	// Force replaces an existing non-empty DIR. A DIR with anything mounted
	// inside it (a running container) is refused even then.
	Force bool
	// Tools overrides DefaultTools.
	Tools []string
	// HostRoot is the tree to copy from, "/" when empty. Tests point it at a
	// fake host to check other distributions' layouts.
	HostRoot string
}

// Report says what Create copied.
type Report struct {
	Dir string
	// Binaries are the host paths of the programs copied, in tool order.
	Binaries []string
	// Libraries are the loaders and shared libraries copied, sorted.
	Libraries []string
	// Terminfo are the terminal descriptions copied, sorted.
	Terminfo []string
	// Devices are the device nodes made in /dev (only as root).
	Devices []string
	// Skipped are tools not found on the host, and device nodes not made
	// for want of root.
	Skipped []string
	// Files counts regular files written, Bytes their total size.
	Files int
	Bytes int64
	// Duration is the wall time of the whole build, rename included.
	Duration time.Duration
}

// Create builds a root filesystem in dir out of the host's own programs and
// libraries. It works offline in about a second. dir must not exist or be
// empty unless opts.Force is set; as root, it must be out of other users'
// reach (see PrepareParent).
func Create(dir string, opts Options) (Report, error) {
	start := time.Now()
	rep := Report{Dir: dir}
	if dir == "" {
		dir = DefaultDir
		rep.Dir = dir
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return rep, fmt.Errorf("create rootfs %s: %w", dir, err)
	}
	rep.Dir = dir
	if err := checkDest(dir, opts.Force, "remove it or pass --force to replace it"); err != nil {
		return rep, err
	}
	// The copies keep the host's setuid bits (mount, umount): a copy a
	// host user could reach would stay setuid-root after the host's own
	// is fixed or removed, so dir must be out of their reach.
	dir, undoParent, err := prepareParent(dir)
	if err != nil {
		return rep, err
	}
	rep.Dir = dir
	// 0700 until whole: nobody but root walks into a half-made tree.
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		undoParent()
		return rep, fmt.Errorf("create temporary rootfs next to %s: %w", dir, err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
			undoParent()
		}
	}()

	b := newBuilder(opts.HostRoot, tmp)
	if err := b.populate(&rep, opts.Tools); err != nil {
		return rep, fmt.Errorf("create rootfs %s: %w", dir, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return rep, fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if err := install(tmp, dir, opts.Force); err != nil {
		return rep, err
	}
	done = true
	rep.Files, rep.Bytes = b.files, b.bytes
	rep.Duration = time.Since(start)
	return rep, nil
}
