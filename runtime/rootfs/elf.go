package rootfs

import (
	"bufio"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotELF is returned by ReadELF for files that are not ELF objects, such
// as shell scripts; those need no libraries.
var ErrNotELF = errors.New("not an ELF file")

// ELFInfo is what the dynamic loader reads from an executable or shared
// library to decide what else to load.
type ELFInfo struct {
	Class   elf.Class
	Machine elf.Machine
	// Interp is the PT_INTERP dynamic loader path; empty for static
	// binaries and shared libraries.
	Interp string
	// Needed are the DT_NEEDED sonames, in order.
	Needed []string
	// RPath and RunPath are the DT_RPATH and DT_RUNPATH search lists, split
	// on ':' with $ORIGIN left unexpanded.
	RPath   []string
	RunPath []string
}

// ReadELF reads the loader-relevant headers of the ELF object r.
func ReadELF(r io.ReaderAt) (ELFInfo, error) {
	f, err := elf.NewFile(r)
	if err != nil {
		var fe *elf.FormatError
		if errors.As(err, &fe) {
			return ELFInfo{}, ErrNotELF
		}
		return ELFInfo{}, err
	}
	defer f.Close()
	info := ELFInfo{Class: f.Class, Machine: f.Machine}
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b, err := io.ReadAll(p.Open())
		if err != nil {
			return info, fmt.Errorf("read PT_INTERP: %w", err)
		}
		info.Interp = strings.TrimRight(string(b), "\x00")
	}
	if f.Section(".dynamic") == nil && dynamicProg(f) == nil {
		return info, nil // static
	}
	if info.Needed, err = f.DynString(elf.DT_NEEDED); err != nil {
		return info, fmt.Errorf("read DT_NEEDED: %w", err)
	}
	rpath, _ := f.DynString(elf.DT_RPATH)
	runpath, _ := f.DynString(elf.DT_RUNPATH)
	info.RPath = splitPathList(rpath)
	info.RunPath = splitPathList(runpath)
	return info, nil
}

func dynamicProg(f *elf.File) *elf.Prog {
	for _, p := range f.Progs {
		if p.Type == elf.PT_DYNAMIC {
			return p
		}
	}
	return nil
}

func splitPathList(lists []string) []string {
	var out []string
	for _, l := range lists {
		for _, d := range strings.Split(l, ":") {
			if d != "" {
				out = append(out, d)
			}
		}
	}
	return out
}

// ParseLDSOConf reads an ld.so.conf-style file: one directory per line (or
// several separated by spaces, commas or colons), '#' comments, and
// `include GLOB` lines. It returns the directories and the include patterns
// in file order; expanding the patterns is left to the caller.
func ParseLDSOConf(r io.Reader) (dirs, includes []string, err error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "include"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			includes = append(includes, strings.Fields(rest)...)
			continue
		}
		if strings.HasPrefix(line, "hwcap") {
			continue // obsolete glibc directive, names no directory
		}
		for _, d := range strings.FieldsFunc(line, func(r rune) bool {
			return r == ' ' || r == '\t' || r == ',' || r == ':'
		}) {
			// Old glibc allowed "dir=TYPE"; the type is irrelevant here.
			d, _, _ = strings.Cut(d, "=")
			if d != "" {
				dirs = append(dirs, d)
			}
		}
	}
	return dirs, includes, sc.Err()
}

// defaultLibDirs are the places dynamic loaders look when nothing else
// names a library: glibc's built-in lists on Debian-style multiarch,
// Fedora/SUSE lib64 and Arch plain lib systems, and musl's defaults.
var defaultLibDirs = []string{
	"/lib64", "/usr/lib64",
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
	"/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
	"/lib/arm-linux-gnueabihf", "/usr/lib/arm-linux-gnueabihf",
	"/lib/riscv64-linux-gnu", "/usr/lib/riscv64-linux-gnu",
	"/lib/powerpc64le-linux-gnu", "/usr/lib/powerpc64le-linux-gnu",
	"/lib/s390x-linux-gnu", "/usr/lib/s390x-linux-gnu",
	"/lib/i386-linux-gnu", "/usr/lib/i386-linux-gnu",
	"/lib", "/usr/lib",
	"/usr/local/lib64", "/usr/local/lib",
}

// LibResolver finds shared libraries the way the host's dynamic loader
// would: DT_RPATH, DT_RUNPATH, then ld.so.conf directories, then the
// built-in defaults, taking only objects of the requester's ELF class and
// machine (a 64-bit program never loads the 32-bit libc in /usr/lib32).
type LibResolver struct {
	// Root is the host tree the paths are relative to, "/" for the host.
	Root string
	// Dirs is the ordered system search list (ld.so.conf, then defaults).
	Dirs []string
}

// NewLibResolver builds a resolver for the tree at root ("/" for the host)
// from its /etc/ld.so.conf (includes expanded) and /etc/ld-musl-*.path,
// followed by the standard directories of common distributions.
func NewLibResolver(root string) *LibResolver {
	r := &LibResolver{Root: root}
	seen := map[string]bool{}
	add := func(ds ...string) {
		for _, d := range ds {
			d = filepath.Clean(d)
			if !seen[d] && filepath.IsAbs(d) {
				seen[d] = true
				r.Dirs = append(r.Dirs, d)
			}
		}
	}
	muslPaths, _ := filepath.Glob(filepath.Join(root, "etc/ld-musl-*.path"))
	for _, p := range muslPaths {
		r.readConf(p, add, 0)
	}
	r.readConf(filepath.Join(root, "etc/ld.so.conf"), add, 0)
	add(defaultLibDirs...)
	return r
}

func (r *LibResolver) readConf(path string, add func(...string), depth int) {
	if depth > 8 {
		return // an include loop; the loader itself would give up too
	}
	f, err := os.Open(path)
	if err != nil {
		return
	}
	dirs, includes, _ := ParseLDSOConf(f)
	f.Close()
	add(dirs...)
	for _, pat := range includes {
		if !filepath.IsAbs(pat) {
			pat = filepath.Join(filepath.Dir(strings.TrimPrefix(path, r.Root)), pat)
		}
		matches, _ := filepath.Glob(filepath.Join(r.Root, pat))
		for _, m := range matches {
			r.readConf(m, add, depth+1)
		}
	}
}

// Find returns the host path (relative to Root, absolute) of the library
// soname needed by an object with the given class, machine and search
// lists; origin is the directory of that object, for $ORIGIN.
func (r *LibResolver) Find(soname string, from ELFInfo, origin string) (string, error) {
	if strings.Contains(soname, "/") {
		return soname, nil
	}
	expand := func(ds []string) []string {
		out := make([]string, 0, len(ds))
		for _, d := range ds {
			d = strings.ReplaceAll(d, "${ORIGIN}", origin)
			d = strings.ReplaceAll(d, "$ORIGIN", origin)
			out = append(out, d)
		}
		return out
	}
	var search []string
	if len(from.RunPath) == 0 {
		search = append(search, expand(from.RPath)...)
	}
	search = append(search, expand(from.RunPath)...)
	search = append(search, r.Dirs...)
	for _, d := range search {
		p := filepath.Join(d, soname)
		if r.matches(p, from) {
			return p, nil
		}
	}
	return "", fmt.Errorf("find library %s: not in any of %d search directories", soname, len(search))
}

// matches reports whether the file at p (under Root) is an ELF object the
// requester can load.
func (r *LibResolver) matches(p string, from ELFInfo) bool {
	f, err := openUnder(r.Root, p)
	if err != nil {
		return false
	}
	defer f.Close()
	ef, err := elf.NewFile(f)
	if err != nil {
		return false
	}
	defer ef.Close()
	return ef.Class == from.Class && ef.Machine == from.Machine
}

// Dependencies returns every file the dynamic loader maps to run the host
// program at path: its PT_INTERP loader first, then the shared libraries it
// needs, transitively, as the paths the loader finds them under. A static
// binary or a script has none.
func Dependencies(path string) ([]string, error) {
	return dependencies(NewLibResolver("/"), path)
}

func dependencies(r *LibResolver, path string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	var walk func(p string, top bool) error
	walk = func(p string, top bool) error {
		f, err := openUnder(r.Root, p)
		if err != nil {
			return err
		}
		info, err := ReadELF(f)
		f.Close()
		if errors.Is(err, ErrNotELF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read ELF headers of %s: %w", p, err)
		}
		if top && info.Interp != "" && !seen[info.Interp] {
			seen[info.Interp] = true
			out = append(out, info.Interp)
		}
		real, err := realPathUnder(r.Root, p)
		if err != nil {
			return err
		}
		origin := filepath.Dir(real)
		for _, so := range info.Needed {
			lib, err := r.Find(so, info, origin)
			if err != nil {
				return fmt.Errorf("resolve %s needed by %s: %w", so, p, err)
			}
			if seen[lib] {
				continue
			}
			seen[lib] = true
			out = append(out, lib)
			if err := walk(lib, false); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(path, true); err != nil {
		return nil, err
	}
	return out, nil
}

// openUnder opens p of the tree at root with its symlinks resolved inside
// that tree: an absolute link in a fake host must not reach the real one.
func openUnder(root, p string) (*os.File, error) {
	real, err := realPathUnder(root, p)
	if err != nil {
		return nil, err
	}
	return os.Open(filepath.Join(root, real))
}

// realPathUnder resolves every symlink of p inside the tree at root,
// absolute links included, and returns the result relative to root.
func realPathUnder(root, p string) (string, error) {
	if root == "/" || root == "" {
		return filepath.EvalSymlinks(p)
	}
	cur := "/"
	rest := strings.Split(strings.Trim(filepath.Clean(p), "/"), "/")
	for hops := 0; len(rest) > 0; {
		name := rest[0]
		rest = rest[1:]
		if name == "" || name == "." {
			continue
		}
		next := filepath.Join(cur, name)
		fi, err := os.Lstat(filepath.Join(root, next))
		if err != nil {
			return "", err
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			cur = next
			continue
		}
		if hops++; hops > 40 {
			return "", fmt.Errorf("resolve %s: too many symlinks", p)
		}
		target, err := os.Readlink(filepath.Join(root, next))
		if err != nil {
			return "", err
		}
		if filepath.IsAbs(target) {
			cur = "/"
		}
		rest = append(strings.Split(strings.Trim(target, "/"), "/"), rest...)
	}
	return cur, nil
}
