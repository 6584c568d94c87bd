package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"boxtui/runtime/rootfs"
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

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"4096": 4096, "1K": 1024, "1KiB": 1024, "1kb": 1024, "500M": 500 << 20, "16GiB": 16 << 30,
		"16G": 16 << 30, "1.5G": 3 << 29, "2T": 2 << 40, " 3 MiB ": 3 << 20, "10B": 10,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "lots", "-1G", "0", "G", "GiB", "NaN", "Inf", "1X", "99999999P", "1e400", "0.1", "0.5B"} {
		if got, err := parseSize(in); err == nil || !strings.Contains(err.Error(), "--max-size") {
			t.Errorf("parseSize(%q) = %d, %v; want an error naming --max-size", in, got, err)
		}
	}
	// The default shown in --help reads back as itself.
	if got, err := parseSize(rootfs.SizeString(rootfs.DefaultMaxBytes)); err != nil || got != rootfs.DefaultMaxBytes {
		t.Errorf("the default --max-size %s reads back as %d, %v", rootfs.SizeString(rootfs.DefaultMaxBytes), got, err)
	}
}
