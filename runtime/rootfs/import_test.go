package rootfs

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// entry is one member of a test archive.
type entry struct {
	name, link string
	typ        byte
	mode       int64
	body       string
	major      int64
	minor      int64
	uid, gid   int
}

func file(name, body string) entry {
	return entry{name: name, typ: tar.TypeReg, mode: 0o644, body: body}
}
func dir(name string) entry             { return entry{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, target string) entry { return entry{name: name, typ: tar.TypeSymlink, link: target} }
func hardlink(name, target string) entry {
	return entry{name: name, typ: tar.TypeLink, link: target}
}

func buildTar(t testing.TB, entries []entry, gz bool) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: e.mode,
			Size: int64(len(e.body)), ModTime: mtime, Devmajor: e.major, Devminor: e.minor, Uid: e.uid, Gid: e.gid, Format: tar.FormatPAX}
		if e.typ != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("write header %q: %v", e.name, err)
		}
		if hdr.Size > 0 {
			tw.Write([]byte(e.body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if gz {
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		zw.Write(data)
		zw.Close()
		data = zb.Bytes()
	}
	p := filepath.Join(t.TempDir(), "in.tar")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// sentinel is a directory outside the destination that no archive may
// change: it holds a canary file and is snapshotted before each import.
type sentinel struct {
	dir    string
	before map[string]string
}

func newSentinel(t testing.TB) *sentinel {
	t.Helper()
	s := &sentinel{dir: t.TempDir()}
	if err := os.WriteFile(filepath.Join(s.dir, "canary"), []byte("tweet"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chmod(s.dir, 0o750)
	s.before = s.snapshot(t)
	return s
}

func (s *sentinel) snapshot(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return nil
		}
		st := fi.Sys().(*syscall.Stat_t)
		data, _ := os.ReadFile(p)
		out[p] = fi.Mode().String() + " " + string(data) + " nlink=" + itoa(int(st.Nlink))
		return nil
	})
	return out
}

func (s *sentinel) check(t testing.TB) {
	t.Helper()
	after := s.snapshot(t)
	for p, v := range after {
		if s.before[p] != v {
			t.Errorf("outside the destination, %s changed: %q -> %q", p, s.before[p], v)
		}
	}
	for p := range s.before {
		if _, ok := after[p]; !ok {
			t.Errorf("outside the destination, %s vanished", p)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// onlyDest fails if the destination's parent holds anything but dest:
// no temporary directory, no stray entry.
func onlyDest(t testing.TB, dest string, wantDest bool) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Dir(dest))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := 0
	if wantDest {
		want = 1
	}
	if len(names) != want || (wantDest && names[0] != filepath.Base(dest)) {
		t.Errorf("next to the destination: %v, want only %v", names, wantDest)
	}
}

func TestImportNormal(t *testing.T) {
	for _, gz := range []bool{false, true} {
		entries := []entry{
			dir("./"), dir("./usr/"), dir("./usr/bin/"),
			{name: "./usr/bin/tool", typ: tar.TypeReg, mode: 0o4755, body: "#!/bin/sh\necho hi\n"},
			symlink("./bin", "usr/bin"),
			hardlink("./usr/bin/tool2", "./usr/bin/tool"),
			file("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
			{name: "home/user/", typ: tar.TypeDir, mode: 0o700, uid: 1000, gid: 1000},
			{name: "home/user/.profile", typ: tar.TypeReg, mode: 0o600, uid: 1000, gid: 100},
			{name: "run/fifo", typ: tar.TypeFifo, mode: 0o600},
			{name: "dev/null", typ: tar.TypeChar, mode: 0o666, major: 1, minor: 3},
			{name: "ro/", typ: tar.TypeDir, mode: 0o555},
			file("ro/inside", "x"),
			{name: "tmp/", typ: tar.TypeDir, mode: 0o1777},
		}
		dest := filepath.Join(t.TempDir(), "rootfs")
		t.Cleanup(func() { os.Chmod(filepath.Join(dest, "ro"), 0o755) }) // for non-root RemoveAll
		rep, err := Import(buildTar(t, entries, gz), dest, ImportOptions{AllowDevices: true})
		if err != nil {
			t.Fatalf("Import (gzip=%v): %v", gz, err)
		}
		onlyDest(t, dest, true)
		if data, _ := os.ReadFile(filepath.Join(dest, "bin/tool")); string(data) != "#!/bin/sh\necho hi\n" {
			t.Errorf("bin/tool through the bin symlink = %q", data)
		}
		if l, _ := os.Readlink(filepath.Join(dest, "bin")); l != "usr/bin" {
			t.Errorf("bin -> %q, want usr/bin", l)
		}
		a, _ := os.Stat(filepath.Join(dest, "usr/bin/tool"))
		b, _ := os.Stat(filepath.Join(dest, "usr/bin/tool2"))
		if a == nil || b == nil || !os.SameFile(a, b) {
			t.Errorf("tool2 is not a hard link of tool")
		}
		wantMode := fs.FileMode(0o755)
		if os.Geteuid() == 0 {
			wantMode |= fs.ModeSetuid
		}
		if a != nil && a.Mode() != wantMode && a.Mode() != 0o755|fs.ModeSetuid {
			t.Errorf("tool mode = %v, want %v", a.Mode(), wantMode)
		}
		if a != nil && !a.ModTime().Equal(time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)) {
			t.Errorf("tool mtime = %v, want the archive's", a.ModTime())
		}
		if fi, err := os.Stat(filepath.Join(dest, "ro")); err != nil || fi.Mode().Perm() != 0o555 {
			t.Errorf("ro mode = %v (%v), want 0555 applied after its content", fi.Mode(), err)
		}
		if fi, err := os.Stat(filepath.Join(dest, "tmp")); err != nil || fi.Mode()&fs.ModeSticky == 0 {
			t.Errorf("tmp mode = %v (%v), want sticky", fi.Mode(), err)
		}
		if fi, err := os.Lstat(filepath.Join(dest, "run/fifo")); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
			t.Errorf("run/fifo = %v (%v), want a FIFO", fi.Mode(), err)
		}
		fi, err := os.Lstat(filepath.Join(dest, "dev/null"))
		if os.Geteuid() == 0 {
			if err != nil || fi.Mode()&fs.ModeCharDevice == 0 || rep.Devices != 1 {
				t.Errorf("dev/null = %v (%v), devices %d; want a char device", fi, err, rep.Devices)
			}
		} else if err == nil || len(rep.Skipped) != 1 || !strings.Contains(rep.Skipped[0], "needs root") {
			t.Errorf("without root dev/null should be skipped and reported: %v, skipped %v", err, rep.Skipped)
		}
		if rep.Files != 4 || rep.Hardlinks != 1 || rep.Symlinks != 1 {
			t.Errorf("report %+v, want 4 files, 1 hard link, 1 symlink", rep)
		}
		if os.Geteuid() == 0 {
			for p, want := range map[string][2]uint32{"home/user": {1000, 1000}, "home/user/.profile": {1000, 100}, "etc/passwd": {0, 0}} {
				fi, err := os.Lstat(filepath.Join(dest, p))
				if err != nil {
					t.Errorf("%s: %v", p, err)
					continue
				}
				st := fi.Sys().(*syscall.Stat_t)
				if st.Uid != want[0] || st.Gid != want[1] {
					t.Errorf("%s owned by %d:%d, want %d:%d from the archive", p, st.Uid, st.Gid, want[0], want[1])
				}
			}
		}
		wantCreated := "proc sys"
		if os.Geteuid() != 0 {
			wantCreated = "proc sys dev" // dev/null was skipped
		}
		if strings.Join(rep.Created, " ") != wantCreated {
			t.Errorf("Created = %v, want %s", rep.Created, wantCreated)
		}
	}
}

// TestImportHostile runs each trick a hostile archive can play; each must
// leave the sentinel directory untouched and, where it fails, nothing at
// all behind.
func TestImportHostile(t *testing.T) {
	cases := []struct {
		name    string
		entries func(sentinel, climb string) []entry
		fails   bool
		// either: the planted symlink dangles inside the root, so the
		// import may fail (leaving nothing) rather than create through it.
		either bool
		// check runs on the unpacked tree when the import succeeded.
		check func(t *testing.T, dest, sentinel string)
	}{
		{name: "dotdot names", entries: func(s, climb string) []entry {
			return []entry{file("../escape", "x"), file("a/../../escape2", "x"), file(climb+s+"/pwned", "x"), file("ok", "y")}
		}, check: func(t *testing.T, dest, _ string) {
			if _, err := os.Stat(filepath.Join(dest, "ok")); err != nil {
				t.Errorf("the good entry is missing: %v", err)
			}
		}},
		{name: "absolute name", entries: func(s, _ string) []entry {
			return []entry{file(s+"/pwned", "x"), file("/abs", "x")}
		}, check: func(t *testing.T, dest, s string) {
			for _, p := range []string{filepath.Join(dest, s, "pwned"), filepath.Join(dest, "abs")} {
				if _, err := os.Stat(p); err != nil {
					t.Errorf("absolute name not unpacked inside: %v", err)
				}
			}
		}},
		{name: "absolute symlink parent", entries: func(s, _ string) []entry {
			return []entry{symlink("evil", s), file("evil/pwned", "x"), file("evil/canary", "overwritten")}
		}, either: true},
		{name: "evil -> /etc then evil/passwd", entries: func(_, _ string) []entry {
			return []entry{dir("etc/"), symlink("evil", "/etc"), file("evil/passwd", "mine")}
		}, check: func(t *testing.T, dest, _ string) {
			if data, err := os.ReadFile(filepath.Join(dest, "etc/passwd")); err != nil || string(data) != "mine" {
				t.Errorf("evil/passwd should land at DIR/etc/passwd: %q %v", data, err)
			}
		}},
		{name: "evil -> ../../.. then evil/etc/passwd", entries: func(_, _ string) []entry {
			return []entry{dir("etc/"), symlink("evil", "../../.."), file("evil/etc/passwd", "mine")}
		}, check: func(t *testing.T, dest, _ string) {
			if data, err := os.ReadFile(filepath.Join(dest, "etc/passwd")); err != nil || string(data) != "mine" {
				t.Errorf("evil/etc/passwd should land at DIR/etc/passwd: %q %v", data, err)
			}
		}},
		{name: "climbing symlink parent", entries: func(s, climb string) []entry {
			return []entry{symlink("up", climb), file("up"+s+"/pwned", "x")}
		}, either: true},
		{name: "relative symlink to sentinel", entries: func(s, climb string) []entry {
			return []entry{dir("a/"), symlink("a/rel", "../"+climb+s), file("a/rel/pwned", "x"), dir("a/rel/sub/"), file("a/rel/sub/deep", "x")}
		}, either: true},
		{name: "symlink chain", entries: func(s, climb string) []entry {
			return []entry{symlink("l1", "l2"), symlink("l2", "/l3"), symlink("l3", climb+s), file("l1/pwned", "x")}
		}, either: true},
		{name: "file over symlink", entries: func(s, _ string) []entry {
			return []entry{symlink("l", s+"/canary"), file("l", "overwritten")}
		}, check: func(t *testing.T, dest, _ string) {
			if fi, err := os.Lstat(filepath.Join(dest, "l")); err != nil || !fi.Mode().IsRegular() {
				t.Errorf("l should now be a regular file: %v %v", fi, err)
			}
		}},
		{name: "dir over symlink", entries: func(s, _ string) []entry {
			return []entry{symlink("d", s), dir("d/"), file("d/pwned", "x")}
		}},
		{name: "symlink replaces dir before its mode is applied", entries: func(s, _ string) []entry {
			return []entry{{name: "cd/", typ: tar.TypeDir, mode: 0o777}, symlink("cd", s)}
		}},
		{name: "fifo and device through symlink", entries: func(s, _ string) []entry {
			return []entry{symlink("e", s), {name: "e/fifo", typ: tar.TypeFifo, mode: 0o666}, {name: "e/null", typ: tar.TypeChar, mode: 0o666, major: 1, minor: 3}}
		}, either: true},
		{name: "hard link to host file", entries: func(s, _ string) []entry {
			return []entry{hardlink("hl", s+"/canary")}
		}, fails: true},
		{name: "hard link climbing", entries: func(s, climb string) []entry {
			return []entry{hardlink("hl", climb+s+"/canary")}
		}, fails: true},
		{name: "hard link through planted symlink", entries: func(s, _ string) []entry {
			return []entry{symlink("evil", s), hardlink("hl", "evil/canary")}
		}, fails: true},
		{name: "hard link to shadow", entries: func(_, _ string) []entry {
			return []entry{hardlink("shadow", "/etc/shadow")}
		}, fails: true},
		{name: "hard link to symlink pointing out", entries: func(s, _ string) []entry {
			return []entry{symlink("s", s+"/canary"), hardlink("h", "s")}
		}, check: func(t *testing.T, dest, s string) {
			if l, err := os.Readlink(filepath.Join(dest, "h")); err != nil || l != s+"/canary" {
				t.Errorf("h should be the symlink itself: %q %v", l, err)
			}
		}},
		{name: "hard link to directory", entries: func(_, _ string) []entry {
			return []entry{dir("d/"), hardlink("h", "d")}
		}, fails: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sen := newSentinel(t)
			dest := filepath.Join(t.TempDir(), "rootfs")
			climb := strings.Repeat("../", strings.Count(dest, "/")+2)
			climb = strings.TrimSuffix(climb, "/")
			rep, err := Import(buildTar(t, c.entries(sen.dir, climb), false), dest, ImportOptions{})
			sen.check(t)
			if c.either && err != nil {
				t.Logf("failed (allowed): %v", err)
				onlyDest(t, dest, false)
				return
			}
			if c.fails {
				if err == nil {
					t.Fatalf("Import succeeded, want an error")
				}
				t.Logf("error (as wanted): %v", err)
				onlyDest(t, dest, false)
				return
			}
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			onlyDest(t, dest, true)
			t.Logf("skipped: %v", rep.Skipped)
			if c.check != nil {
				c.check(t, dest, sen.dir)
			}
		})
	}
}

func TestImportRefusesNonEmpty(t *testing.T) {
	dest := t.TempDir()
	os.WriteFile(filepath.Join(dest, "keep"), nil, 0o644)
	_, err := Import(buildTar(t, []entry{file("a", "b")}, false), dest, ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("Import into a non-empty dir: %v", err)
	}
}

func TestImportRejectsOtherCompression(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.tar.xz")
	os.WriteFile(p, []byte{0xfd, '7', 'z', 'X', 'Z', 0, 1, 2, 3}, 0o644)
	dest := filepath.Join(t.TempDir(), "rootfs")
	_, err := Import(p, dest, ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "xz-compressed") {
		t.Fatalf("Import of xz: %v, want a clear error", err)
	}
	onlyDest(t, dest, false)
}

func TestImportTruncatedLeavesNothing(t *testing.T) {
	p := buildTar(t, []entry{file("a", strings.Repeat("x", 5000)), file("b", "y")}, false)
	data, _ := os.ReadFile(p)
	os.WriteFile(p, data[:3000], 0o644)
	dest := filepath.Join(t.TempDir(), "rootfs")
	if _, err := Import(p, dest, ImportOptions{}); err == nil {
		t.Fatal("Import of a truncated archive succeeded")
	}
	onlyDest(t, dest, false)
}

func TestCleanEntryName(t *testing.T) {
	for in, want := range map[string]string{
		"./usr/bin/": "usr/bin", "/etc/passwd": "etc/passwd", "a/./b//c": "a/b/c",
		"a/../b": "b", "../x": "", "a/../../x": "", ".": "", "./": "", "/": "", "x\x00y": "",
		"//abs": "abs", "a/b/../../c": "c",
	} {
		got, ok := CleanEntryName(in)
		if got != want || ok != (want != "") {
			t.Errorf("CleanEntryName(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// FuzzImportNames plants a symlink and then a file, a directory and a
// hard link under fuzzed names: whatever they are, nothing outside the
// destination may change and a failed import leaves nothing.
func FuzzImportNames(f *testing.F) {
	f.Add("evil", "/", "evil/etc/pwned", "h", "evil/canary")
	f.Add("up", "../../../../../..", "up/tmp/pwned", "h", "../../x")
	f.Add("a/b", "../../..", "a/b/c/d", "a/h", "/a/b/c/d")
	f.Add("x", "x", "x/y", "y", "x")
	f.Add("evil", "SENTINEL", "evil/pwned", "h", "SENTINEL/canary")
	f.Add("evil", "../../../../../../../../SENTINEL", "evil/pwned", "evil/h", "evil/canary")
	f.Add("SENTINEL", "SENTINEL/canary", "SENTINEL", "h", "SENTINEL")
	f.Fuzz(func(t *testing.T, linkName, linkTarget, fileName, hardName, hardTarget string) {
		sen := newSentinel(t)
		dest := filepath.Join(t.TempDir(), "rootfs")
		expand := func(s string) string { return strings.ReplaceAll(s, "SENTINEL", sen.dir) }
		entries := []entry{
			symlink(expand(linkName), expand(linkTarget)),
			file(expand(fileName), "pwned"),
			dir(expand(fileName) + "d/"),
			hardlink(expand(hardName), expand(hardTarget)),
		}
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, e := range entries {
			hdr := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: e.mode, Size: int64(len(e.body)), Format: tar.FormatPAX}
			if e.typ != tar.TypeReg {
				hdr.Size = 0
			}
			if tw.WriteHeader(hdr) != nil {
				t.Skip("archive/tar cannot write these names")
			}
			tw.Write([]byte(e.body))
		}
		tw.Close()
		p := filepath.Join(t.TempDir(), "in.tar")
		os.WriteFile(p, buf.Bytes(), 0o644)
		_, err := Import(p, dest, ImportOptions{})
		sen.check(t)
		onlyDest(t, dest, err == nil)
	})
}
