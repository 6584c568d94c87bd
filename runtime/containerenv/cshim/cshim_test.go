//go:build cgo

package cshim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"boxtui/runtime/containerenv"
)

// TestContainerPathIsGos: the one C PATH is the one Go PATH.
func TestContainerPathIsGos(t *testing.T) {
	if got := ContainerPath(); got != containerenv.Path {
		t.Fatalf("containerenv.h says PATH %q, containerenv.go %q", got, containerenv.Path)
	}
}

func TestShellIsGos(t *testing.T) {
	c, cok := Shell()
	g, gok := containerenv.Shell(containerenv.Stat)
	if c != g || cok != gok {
		t.Fatalf("C's shell %q %v, Go's %q %v", c, cok, g, gok)
	}
}

// tree makes a directory with what a lookup must tell apart, and makes it
// the working directory (an empty PATH entry means it).
func tree(t testing.TB) string {
	root := t.TempDir()
	for _, d := range []string{"bin", "sbin", "usr/bin", "dir.d/x", "noexec", "long/" + strings.Repeat("d", 250)} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]os.FileMode{
		"bin/sh": 0o755, "bin/data": 0o644, "sbin/sh": 0o700, "usr/bin/tool": 0o111, "usr/bin/both": 0o755,
		"bin/both": 0o755, "noexec/tool": 0o644, "here": 0o755, "dir.d/run": 0o755,
		"long/" + strings.Repeat("d", 250) + "/" + strings.Repeat("x", 250): 0o755,
	}
	for f, mode := range files {
		if err := os.WriteFile(filepath.Join(root, f), []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(root, f), mode); err != nil {
			t.Fatal(err)
		}
	}
	for link, to := range map[string]string{"bin/ln": "sh", "bin/dangling": "nope", "bin/todir": "../usr", "usr/bin/up": "../../bin/sh"} {
		if err := os.Symlink(to, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func lookCases(root string) [][2]string {
	r := root
	long := r + "/long/" + strings.Repeat("d", 250)
	deep := r + strings.Repeat("/.", 2000) // past PATH_MAX once joined: skipped by C, ENAMETOOLONG for Go
	return [][2]string{
		{"sh", r + "/bin"}, {"sh", r + "/noexec:" + r + "/sbin"}, {"data", r + "/bin"}, {"tool", r + "/noexec:" + r + "/usr/bin"},
		{"both", r + "/usr/bin:" + r + "/bin"}, {"both", r + "/bin:" + r + "/usr/bin"}, {"ln", r + "/bin"}, {"dangling", r + "/bin"},
		{"todir", r + "/bin"}, {"up", r + "/usr/bin"}, {"here", ""}, {"here", r + "/bin:"}, {"here", ":" + r + "/bin"},
		{"here", "::"}, {"sh", r + "/bin/"}, {"sh", r + "//bin"}, {"sh", r + "/nope/../bin"}, {"sh", r + "/usr/../bin"},
		{"x", r + "/dir.d"}, {"run", r + "/dir.d"}, {".", r + "/bin"}, {"..", r + "/bin"}, {"", r + "/bin"},
		{r + "/bin/sh", ""}, {r + "/bin/data", r + "/bin"}, {"bin/sh", ""}, {"./here", ""}, {"dir.d/run", r + "/bin"},
		{r + "/bin", ""}, {strings.Repeat("x", 250), long}, {"sh", deep + "/bin"}, {"sh", r + "/bin" + strings.Repeat("/", 5000)},
		{"sh", containerenv.Path}, {"sh", "relative/bin:bin"},
	}
}

// TestLookPathMatchesGo: bx_look_path and containerenv.LookPath find the
// same file, by the same path, or both nothing.
func TestLookPathMatchesGo(t *testing.T) {
	root := tree(t)
	t.Chdir(root)
	for _, c := range lookCases(root) {
		checkLook(t, c[0], c[1])
	}
}

func checkLook(t *testing.T, name, pathList string) {
	t.Helper()
	if strings.IndexByte(name, 0) >= 0 || strings.IndexByte(pathList, 0) >= 0 {
		return // a C string cannot hold one; nor can argv or environ
	}
	c, cok := LookPath(name, pathList)
	g, gok := containerenv.LookPath(name, pathList, containerenv.Stat)
	if c != g || cok != gok {
		t.Fatalf("look up %q in %q: C finds %q %v, Go %q %v", name, pathList, c, cok, g, gok)
	}
}

func FuzzLookPath(f *testing.F) {
	root := tree(f)
	for _, c := range lookCases(root) {
		f.Add(c[0], c[1])
	}
	wd, err := os.Getwd()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, pathList string) {
		// An empty PATH entry is the working directory: the tree's. (A
		// fuzz function cannot use t.Chdir; the next test gets wd back.)
		if err := os.Chdir(root); err != nil {
			t.Fatal(err)
		}
		defer os.Chdir(wd)
		checkLook(t, name, pathList)
	})
}
