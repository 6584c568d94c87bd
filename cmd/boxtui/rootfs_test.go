package main

import (
	"os"
	"path/filepath"
	"testing"
)

// The README's set-up command creates the default rootfs; run a second
// time it must find it, not fail.
func TestHasShellRecognisesAMadeRootfs(t *testing.T) {
	dir := t.TempDir()
	if hasShell(dir) {
		t.Fatal("an empty directory has no shell")
	}
	if err := os.MkdirAll(filepath.Join(dir, "usr/bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("usr/bin", filepath.Join(dir, "bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "usr/bin/dash"), []byte("#"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("dash", filepath.Join(dir, "usr/bin/sh")); err != nil {
		t.Fatal(err)
	}
	if !hasShell(dir) {
		t.Fatal("a merged-/usr rootfs with sh -> dash has a shell")
	}
}
