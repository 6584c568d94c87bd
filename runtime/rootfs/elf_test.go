package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestReadELFHostBinary(t *testing.T) {
	f, err := os.Open("/bin/sh")
	if err != nil {
		t.Skipf("host has no /bin/sh: %v", err)
	}
	defer f.Close()
	info, err := ReadELF(f)
	if err != nil {
		t.Fatalf("ReadELF(/bin/sh): %v", err)
	}
	if info.Interp == "" || !filepath.IsAbs(info.Interp) {
		t.Errorf("Interp = %q, want an absolute loader path", info.Interp)
	}
	if !slices.ContainsFunc(info.Needed, func(s string) bool { return strings.HasPrefix(s, "libc.") }) {
		t.Errorf("Needed = %v, want a libc", info.Needed)
	}
}

func TestReadELFScript(t *testing.T) {
	_, err := ReadELF(strings.NewReader("#!/bin/sh\necho hi\n"))
	if !errors.Is(err, ErrNotELF) {
		t.Fatalf("ReadELF(script) error = %v, want ErrNotELF", err)
	}
}

func TestDependenciesHost(t *testing.T) {
	for _, bin := range []string{"/bin/ls", "/bin/bash"} {
		if _, err := os.Stat(bin); err != nil {
			continue
		}
		deps, err := Dependencies(bin)
		if err != nil {
			t.Fatalf("Dependencies(%s): %v", bin, err)
		}
		if len(deps) < 2 || !strings.Contains(deps[0], "ld") {
			t.Fatalf("Dependencies(%s) = %v, want the loader first then libraries", bin, deps)
		}
		if !slices.ContainsFunc(deps, func(s string) bool { return filepath.Base(s) == "libc.so.6" || strings.Contains(s, "musl") }) {
			t.Errorf("Dependencies(%s) = %v, want libc", bin, deps)
		}
		seen := map[string]bool{}
		for _, d := range deps {
			if seen[d] {
				t.Errorf("Dependencies(%s) lists %s twice", bin, d)
			}
			seen[d] = true
			if _, err := os.Stat(d); err != nil {
				t.Errorf("dependency %s of %s does not exist: %v", d, bin, err)
			}
		}
	}
}

func TestParseLDSOConf(t *testing.T) {
	in := `# comment
include /etc/ld.so.conf.d/*.conf
/usr/local/lib   # trailing comment

/opt/a:/opt/b, /opt/c
/opt/old=libc6
hwcap 0 nosegneg
include	other/*.conf
`
	dirs, includes, err := ParseLDSOConf(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	wantDirs := []string{"/usr/local/lib", "/opt/a", "/opt/b", "/opt/c", "/opt/old"}
	wantInc := []string{"/etc/ld.so.conf.d/*.conf", "other/*.conf"}
	if !slices.Equal(dirs, wantDirs) || !slices.Equal(includes, wantInc) {
		t.Fatalf("ParseLDSOConf = %q, %q; want %q, %q", dirs, includes, wantDirs, wantInc)
	}
}

func TestLibResolverReadsConfIncludes(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, filepath.Join(root, "etc/ld.so.conf"), "include ld.so.conf.d/*.conf\n")
	mustWrite(t, filepath.Join(root, "etc/ld.so.conf.d/x.conf"), "/opt/x/lib\n")
	r := NewLibResolver(root)
	if len(r.Dirs) == 0 || r.Dirs[0] != "/opt/x/lib" {
		t.Fatalf("Dirs = %v, want /opt/x/lib first", r.Dirs)
	}
}

func TestRealPathUnder(t *testing.T) {
	root := t.TempDir()
	mustMkdir(t, filepath.Join(root, "usr/lib/x"))
	mustWrite(t, filepath.Join(root, "usr/lib/x/libc.so.6"), "")
	mustSymlink(t, "usr/lib", filepath.Join(root, "lib"))
	mustSymlink(t, "/usr/lib/x/libc.so.6", filepath.Join(root, "usr/lib/abs"))
	mustSymlink(t, "../../../../../../usr/lib/x/libc.so.6", filepath.Join(root, "usr/lib/x/climb"))
	for in, want := range map[string]string{
		"/lib/x/libc.so.6": "/usr/lib/x/libc.so.6",
		"/lib/abs":         "/usr/lib/x/libc.so.6",
		"/lib/x/climb":     "/usr/lib/x/libc.so.6",
	} {
		got, err := realPathUnder(root, in)
		if err != nil || got != want {
			t.Errorf("realPathUnder(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func mustWrite(t *testing.T, p, content string) {
	t.Helper()
	mustMkdir(t, filepath.Dir(p))
	if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustMkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustSymlink(t *testing.T, target, p string) {
	t.Helper()
	mustMkdir(t, filepath.Dir(p))
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}
