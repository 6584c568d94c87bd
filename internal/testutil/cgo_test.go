package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestBuiltWithCgo builds one small program with cgo and one without, and
// reads each one's setting back.
func TestBuiltWithCgo(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, want := range []bool{false, true} {
		env := "CGO_ENABLED=0"
		if want {
			if _, err := exec.LookPath("cc"); err != nil {
				continue // no C compiler: only the cgo-less case
			}
			env = "CGO_ENABLED=1"
		}
		out := filepath.Join(dir, env)
		cmd := exec.Command("go", "build", "-o", out, src)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env, "GOFLAGS=", "GO111MODULE=off")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s go build: %v\n%s", env, err, b)
		}
		got, err := builtWithCgo(out)
		if err != nil || got != want {
			t.Errorf("%s: builtWithCgo = %v, %v; want %v", env, got, err, want)
		}
	}
	if _, err := builtWithCgo(src); err == nil {
		t.Error("a source file read as a binary with build settings")
	}
}
