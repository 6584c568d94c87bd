package testutil

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// skipTB records a Skip or a Fatal instead of ending the real test; both
// end the goroutine, as the testing package's do.
type skipTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (s *skipTB) Helper() {}
func (s *skipTB) Skip(args ...any) {
	s.skipped, s.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}
func (s *skipTB) Skipf(format string, args ...any) { s.Skip(fmt.Sprintf(format, args...)) }
func (s *skipTB) Fatalf(format string, args ...any) {
	s.failed, s.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func needMissing(t *testing.T) *skipTB {
	st := &skipTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		NeedEngine(st, "bt-eng-no-such-engine", "bt-eng-no-such-package")
	}()
	<-done
	return st
}

// A missing engine skips the test, saying which package brings it; with
// BOXTUI_REQUIRE_ENGINES set (CI, which installs them all) it fails it.
func TestNeedEngineSkipsUnlessRequired(t *testing.T) {
	RequireRoot(t, "NeedEngine asks for root first")
	t.Setenv(RequireEnginesEnv, "")
	if st := needMissing(t); !st.skipped || st.failed || !strings.Contains(st.msg, "apt-get install bt-eng-no-such-package") {
		t.Errorf("without %s: skipped=%v failed=%v msg=%q", RequireEnginesEnv, st.skipped, st.failed, st.msg)
	}
	t.Setenv(RequireEnginesEnv, "1")
	if st := needMissing(t); !st.failed || st.skipped || !strings.Contains(st.msg, RequireEnginesEnv) {
		t.Errorf("with %s=1: skipped=%v failed=%v msg=%q", RequireEnginesEnv, st.skipped, st.failed, st.msg)
	}
}

// The images' tarball is the same bytes for the same tree (so an image
// imported by an earlier run is found by its tag), and keeps files,
// modes and symlinks.
func TestWriteTarIsReproducible(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "usr/bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "usr/bin/tool"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("usr/bin", filepath.Join(dir, "bin")); err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := writeTar(&a, dir); err != nil {
		t.Fatal(err)
	}
	// Touch the tree: times must not change the tarball.
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(dir, "usr/bin/tool"), later, later)
	if err := writeTar(&b, dir); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two tarballs of the same tree differ")
	}
	got := map[string]string{}
	tr := tar.NewReader(&a)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[h.Name] = fmt.Sprintf("%c %o %s", h.Typeflag, h.Mode&0o7777, h.Linkname)
	}
	want := map[string]string{
		"bin":          fmt.Sprintf("%c %o %s", tar.TypeSymlink, 0o777, "usr/bin"),
		"usr/":         fmt.Sprintf("%c %o ", tar.TypeDir, 0o755),
		"usr/bin/":     fmt.Sprintf("%c %o ", tar.TypeDir, 0o755),
		"usr/bin/tool": fmt.Sprintf("%c %o ", tar.TypeReg, 0o755),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("tarball entries %v, want %v", got, want)
	}
}
