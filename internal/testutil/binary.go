package testutil

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
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

// BinaryFor returns a copy of the binary under test that the user uid:gid
// can run, for tests that run boxtui as another user (nobody). The binary
// under test may sit where only root can reach it (a 0700 home or build
// directory); the copy goes in a new 0755 directory under the first of
// os.TempDir(), /tmp and /var/tmp whose every path component others may
// enter, and is removed at cleanup. The test fails, rather than skips,
// when uid cannot run the copy: that is the setup's fault, not the
// test's reason to pass. Needs root (the copy is checked as uid).
func BinaryFor(t testing.TB, uid, gid int) string {
	t.Helper()
	src := Binary(t)
	var tried []string
	for _, parent := range []string{os.TempDir(), "/tmp", "/var/tmp"} {
		if err := othersCanEnter(parent); err != nil {
			tried = append(tried, err.Error())
			continue
		}
		dir, err := os.MkdirTemp(parent, "boxtui-bin-for-")
		if err != nil {
			tried = append(tried, err.Error())
			continue
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		dst := filepath.Join(dir, "boxtui")
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := copyFile(src, dst, 0o755); err != nil {
			t.Fatalf("copy the binary under test for uid %d: %v", uid, err)
		}
		// access(X_OK) as uid: also false on a noexec mount.
		check := exec.Command("test", "-x", dst)
		check.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		if err := check.Run(); err != nil {
			tried = append(tried, fmt.Sprintf("uid %d cannot run %s: %v", uid, dst, err))
			continue
		}
		return dst
	}
	t.Fatalf("no place for a copy of the binary under test that uid %d can run: %s", uid, strings.Join(tried, "; "))
	return ""
}

// othersCanEnter says why a user other than the owner cannot reach dir,
// or nil when every directory on its path has the x bit for others.
func othersCanEnter(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for p := abs; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s is %v: others cannot enter it", p, fi.Mode().Perm())
		}
		if p == "/" {
			return nil
		}
	}
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, mode) // past the umask
}
