package rootfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
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
	"kill", "ps", "top", "mount", "umount", "hostname",
}

// binDirs are searched in order for each tool; the first hit is copied to
// the same path in the root filesystem.
var binDirs = []string{"/usr/bin", "/bin", "/usr/sbin", "/sbin"}

// terminfoDirs are where ncurses looks for terminal descriptions on common
// distributions; top refuses to start without one for $TERM.
var terminfoDirs = []string{"/etc/terminfo", "/lib/terminfo", "/usr/share/terminfo"}

// terminfoNames are the terminals a container shell is likely to run in.
var terminfoNames = []string{
	"xterm", "xterm-256color", "screen", "screen-256color",
	"tmux", "tmux-256color", "linux", "vt100", "dumb",
}

// layoutLinks are top-level directories that merged-/usr distributions make
// symlinks (bin -> usr/bin); they are recreated as on the host so that
// both /bin/sh and /usr/bin/sh work inside, whatever the host is.
var layoutLinks = []string{
	"bin", "sbin", "lib", "lib32", "lib64", "libx32",
	"usr/sbin", "usr/lib64", "usr/lib32", // Arch: sbin -> bin, lib64 -> lib
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

// checkDest refuses a non-empty destination without force, and any
// destination with mounts inside: removing it would descend into them.
func checkDest(dir string, force bool, hint string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check rootfs directory %s: %w", dir, err)
	}
	if len(entries) == 0 {
		return nil
	}
	if !force {
		return fmt.Errorf("rootfs directory %s already exists and is not empty: %s", dir, hint)
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("check rootfs directory %s: %w", dir, err)
	}
	mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(real))
	if err != nil {
		return fmt.Errorf("check mounts under %s: %w", dir, err)
	}
	if len(mounts) > 0 {
		return fmt.Errorf("refuse to replace rootfs %s: %s is mounted inside it (is a container running from it?)", dir, mounts[0].Mountpoint)
	}
	return nil
}

// install renames the finished tree tmp onto dir. rename(2) replaces a
// missing or empty dir at once; an old non-empty one (force) is first
// renamed aside and removed only once the new tree is in place.
func install(tmp, dir string, force bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		// os.Rename refuses any existing directory as the new name, even
		// an empty one; os.Remove takes only an empty one.
		if err == nil {
			if err := os.Remove(dir); err != nil {
				return fmt.Errorf("replace empty directory %s: %w", dir, err)
			}
		}
		if err := os.Rename(tmp, dir); err != nil {
			return fmt.Errorf("move rootfs into place at %s: %w", dir, err)
		}
		return nil
	}
	if !force {
		return fmt.Errorf("rootfs directory %s already exists and is not empty: remove it or pass --force to replace it", dir)
	}
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil {
		return fmt.Errorf("move old rootfs %s aside: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if rerr := os.Rename(old, dir); rerr != nil {
			return fmt.Errorf("move rootfs into place at %s: %w (old rootfs left at %s)", dir, err, old)
		}
		return fmt.Errorf("move rootfs into place at %s: %w", dir, err)
	}
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("remove old rootfs %s: %w", old, err)
	}
	return nil
}

// builder copies host paths into a new tree, replicating every symlink met
// on the way so the new tree has the host's layout.
type builder struct {
	src, dst string
	libs     *LibResolver
	done     map[string]string // host path -> its real path, once replicated
	files    int
	bytes    int64
}

func newBuilder(src, dst string) *builder {
	if src == "" {
		src = "/"
	}
	return &builder{src: src, dst: dst, libs: NewLibResolver(src), done: map[string]string{}}
}

func (b *builder) populate(rep *Report, tools []string) error {
	if tools == nil {
		tools = DefaultTools
	}
	for _, d := range []struct {
		name string
		mode fs.FileMode
	}{
		{"proc", 0o555}, {"sys", 0o555}, {"dev", 0o755}, {"tmp", 0o777 | fs.ModeSticky},
		{"etc", 0o755}, {"root", 0o700}, {"var", 0o755}, {"var/tmp", 0o777 | fs.ModeSticky},
		{"run", 0o755}, {"home", 0o755}, {"usr", 0o755},
	} {
		if err := b.mkdirFixed(d.name, d.mode); err != nil {
			return err
		}
	}
	for _, l := range layoutLinks {
		if fi, err := os.Lstat(filepath.Join(b.src, l)); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			if _, err := b.replicate("/"+l, 0); err != nil {
				return err
			}
		}
	}

	haveShell := ""
	var programs []string
	for _, tool := range tools {
		p := b.lookPath(tool)
		if p == "" {
			rep.Skipped = append(rep.Skipped, tool)
			continue
		}
		if _, err := b.replicate(p, 0); err != nil {
			return fmt.Errorf("copy %s: %w", p, err)
		}
		rep.Binaries = append(rep.Binaries, p)
		programs = append(programs, p)
		if haveShell == "" && (tool == "bash" || tool == "sh") {
			haveShell = p
		}
	}
	if haveShell == "" {
		return fmt.Errorf("neither bash nor sh found in %s on the host", strings.Join(binDirs, ", "))
	}
	// A host without sh (rare) still gets one: scripts expect /bin/sh.
	if b.lookPath("sh") == "" {
		if err := b.addShLink(haveShell); err != nil {
			return err
		}
	}

	libs := map[string]bool{}
	for _, p := range programs {
		deps, err := dependencies(b.libs, p)
		if err != nil {
			return err
		}
		for _, d := range deps {
			libs[d] = true
		}
	}
	// glibc before 2.34 loads user lookups (id, ls -l) from libnss_files
	// with dlopen, which DT_NEEDED never shows.
	if ref := firstELF(b, programs); ref != nil {
		for _, so := range []string{"libnss_files.so.2"} {
			if p, err := b.libs.Find(so, *ref, "/"); err == nil {
				libs[p] = true
				if deps, err := dependencies(b.libs, p); err == nil {
					for _, d := range deps {
						libs[d] = true
					}
				}
			}
		}
	}
	for l := range libs {
		if _, err := b.replicate(l, 0); err != nil {
			return fmt.Errorf("copy library %s: %w", l, err)
		}
		rep.Libraries = append(rep.Libraries, l)
	}
	sort.Strings(rep.Libraries)

	// The loader cache lets the loader find libraries the host keeps in
	// ld.so.conf directories; entries for libraries not copied just miss
	// and the loader falls back to its default directories.
	for _, f := range []string{"/etc/ld.so.cache"} {
		if _, err := os.Lstat(filepath.Join(b.src, f)); err == nil {
			if _, err := b.replicate(f, 0); err != nil {
				return err
			}
		}
	}
	musl, _ := filepath.Glob(filepath.Join(b.src, "etc/ld-musl-*.path"))
	for _, m := range musl {
		if _, err := b.replicate("/"+strings.TrimPrefix(strings.TrimPrefix(m, b.src), "/"), 0); err != nil {
			return err
		}
	}

	for _, name := range terminfoNames {
		for _, d := range terminfoDirs {
			p := filepath.Join(d, name[:1], name)
			if _, err := os.Stat(filepath.Join(b.src, p)); err != nil {
				continue
			}
			if _, err := b.replicate(p, 0); err != nil {
				return fmt.Errorf("copy terminfo %s: %w", p, err)
			}
			rep.Terminfo = append(rep.Terminfo, p)
		}
	}
	sort.Strings(rep.Terminfo)

	if err := b.writeEtc(haveShell); err != nil {
		return err
	}
	return b.makeDevices(rep)
}

// devices are the nodes a plain chroot (the seed walkthrough's unshare +
// chroot, which mounts no /dev) needs: dash opens /dev/null for every
// background job. A launcher mounting a tmpfs on /dev just hides them.
var devices = []struct {
	name         string
	major, minor uint32
	mode         uint32
}{
	{"null", 1, 3, 0o666}, {"zero", 1, 5, 0o666}, {"full", 1, 7, 0o666},
	{"random", 1, 8, 0o666}, {"urandom", 1, 9, 0o666}, {"tty", 5, 0, 0o666},
}

// makeDevices creates the device nodes when running as root; without root
// mknod fails and the rootfs goes without them (listed in the report).
func (b *builder) makeDevices(rep *Report) error {
	for _, d := range devices {
		p := filepath.Join(b.dst, "dev", d.name)
		if os.Geteuid() != 0 {
			rep.Skipped = append(rep.Skipped, "/dev/"+d.name)
			continue
		}
		if err := unix.Mknod(p, unix.S_IFCHR|d.mode, int(unix.Mkdev(d.major, d.minor))); err != nil {
			return fmt.Errorf("create device node /dev/%s: %w", d.name, err)
		}
		if err := os.Chmod(p, fs.FileMode(d.mode)); err != nil { // umask
			return err
		}
		rep.Devices = append(rep.Devices, "/dev/"+d.name)
	}
	return nil
}

func firstELF(b *builder, programs []string) *ELFInfo {
	for _, p := range programs {
		f, err := os.Open(filepath.Join(b.src, p))
		if err != nil {
			continue
		}
		info, err := ReadELF(f)
		f.Close()
		if err == nil {
			return &info
		}
	}
	return nil
}

// writeEtc writes the few configuration files that tools read at start.
func (b *builder) writeEtc(shell string) error {
	files := map[string]string{
		"etc/passwd":        "root:x:0:0:root:/root:" + shell + "\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
		"etc/group":         "root:x:0:\nnogroup:x:65534:\n",
		"etc/hostname":      "boxtui\n",
		"etc/hosts":         "127.0.0.1\tlocalhost\n::1\tlocalhost\n",
		"etc/nsswitch.conf": "passwd: files\ngroup: files\nshadow: files\nhosts: files\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(b.dst, name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// lookPath finds tool in binDirs on the host; a hit must be an executable
// regular file once symlinks are followed.
func (b *builder) lookPath(tool string) string {
	for _, d := range binDirs {
		p := filepath.Join(d, tool)
		real, err := realPathUnder(b.src, p)
		if err != nil {
			continue
		}
		fi, err := os.Stat(filepath.Join(b.src, real))
		if err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// addShLink makes sh a symlink to shell next to it and, when the tree has
// no /bin/sh yet, in /bin too. Links are made in real directories of the
// new tree, never through its symlinks, which may be absolute.
func (b *builder) addShLink(shell string) error {
	real := b.done[shell]
	if real == "" {
		real = shell
	}
	if err := b.symlinkIn(filepath.Join(filepath.Dir(real), "sh"), filepath.Base(real)); err != nil {
		return err
	}
	if _, err := realPathUnder(b.dst, "/bin/sh"); err == nil {
		return nil
	}
	if _, err := os.Lstat(filepath.Join(b.dst, "bin")); errors.Is(err, fs.ErrNotExist) {
		if err := b.mkdirFixed("bin", 0o755); err != nil {
			return err
		}
		return b.symlinkIn("/bin/sh", real)
	}
	return nil
}

func (b *builder) mkdirFixed(name string, mode fs.FileMode) error {
	p := filepath.Join(b.dst, name)
	if err := os.Mkdir(p, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create %s: %w", name, err)
	}
	return os.Chmod(p, mode)
}

func (b *builder) symlinkIn(p, target string) error {
	err := os.Symlink(target, filepath.Join(b.dst, p))
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create symlink %s: %w", p, err)
	}
	return nil
}

// replicate makes the host path p exist in the new tree exactly as on the
// host: each directory on the way with its mode, each symlink on the way
// as the same symlink (and its target replicated too), and the final file
// copied. It returns p's real path on the host.
func (b *builder) replicate(p string, hops int) (string, error) {
	p = filepath.Clean(p)
	if real, ok := b.done[p]; ok {
		return real, nil
	}
	if hops > 40 {
		return "", fmt.Errorf("replicate %s: too many levels of symbolic links", p)
	}
	cur := "/"
	parts := strings.Split(strings.Trim(p, "/"), "/")
	for i, name := range parts {
		if name == "" {
			continue
		}
		next := filepath.Join(cur, name)
		last := i == len(parts)-1
		if real, ok := b.done[next]; ok {
			cur = real
			continue
		}
		fi, err := os.Lstat(filepath.Join(b.src, next))
		if err != nil {
			return "", err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(filepath.Join(b.src, next))
			if err != nil {
				return "", err
			}
			if err := b.symlinkIn(next, target); err != nil {
				return "", err
			}
			abs := target
			if !filepath.IsAbs(target) {
				abs = filepath.Join(cur, target)
			}
			real, err := b.replicate(abs, hops+1)
			if err != nil {
				return "", fmt.Errorf("follow %s -> %s: %w", next, target, err)
			}
			b.done[next] = real
			cur = real
		case fi.IsDir():
			dst := filepath.Join(b.dst, next)
			if err := os.Mkdir(dst, fi.Mode().Perm()); err != nil && !errors.Is(err, fs.ErrExist) {
				return "", fmt.Errorf("create directory %s: %w", next, err)
			}
			b.done[next] = next
			cur = next
		case fi.Mode().IsRegular():
			if !last {
				return "", fmt.Errorf("replicate %s: %s is not a directory", p, next)
			}
			if err := b.copyFile(next, fi); err != nil {
				return "", err
			}
			b.done[next] = next
			cur = next
		default:
			return "", fmt.Errorf("replicate %s: %s is neither file, directory nor symlink", p, next)
		}
	}
	b.done[p] = cur
	return cur, nil
}

// copyFile copies a regular file with its permission bits (setuid
// included: mount needs none as root, but a copied tree should not differ
// from the host in surprising ways).
func (b *builder) copyFile(p string, fi fs.FileInfo) error {
	in, err := os.Open(filepath.Join(b.src, p))
	if err != nil {
		return err
	}
	defer in.Close()
	dst := filepath.Join(b.dst, p)
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", p, err)
	}
	n, err := io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy %s: %w", p, err)
	}
	mode := fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	if err := os.Chmod(dst, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", p, err)
	}
	b.files++
	b.bytes += n
	return nil
}
