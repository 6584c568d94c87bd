// What Create puts in a tree: the host's tools and every library they load,
// terminfo, a few /etc files and device nodes.

package rootfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

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
