package testutil

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// Binary returns the boxtui binary under test: $BOXTUI_BIN (what `make
// test` sets), else one built once per test binary from this source tree,
// in a world-readable directory (tests run it as uid 65534 too) that
// Cleanup removes.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("BOXTUI_BIN"); p != "" {
		return p
	}
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "boxtui-test-bin-")
		if binErr != nil {
			return
		}
		os.Chmod(binDir, 0o755)
		binPath = filepath.Join(binDir, "boxtui")
		out, err := exec.Command("go", "build", "-o", binPath, "boxtui/cmd/boxtui").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build boxtui: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func removeBinary() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

// LockedBuffer collects a child's output: os/exec copies into it from its
// own goroutine while a test (or a failing test's message) reads it.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// RunBinary runs the boxtui binary under test with args and stdin, and
// returns its stdout, stderr and exit code. A failure to run it at all
// fails the test.
func RunBinary(t testing.TB, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return RunBinaryEnv(t, nil, stdin, args...)
}

// RunBinaryEnv is RunBinary with env added to the test's environment (a
// later KEY=VALUE wins).
func RunBinaryEnv(t testing.TB, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(Binary(t), args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("run boxtui %q: %v", args, err)
	}
	return out.String(), errOut.String(), code
}
