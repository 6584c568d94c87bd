package testutil

// Real container engines for end-to-end tests: docker, podman, LXC,
// systemd-nspawn and bubblewrap, each starting containers from a root
// filesystem built here offline (rootfs.Create), never from a registry.
//
// A package that uses them ends with EngineMain:
//
//	func TestMain(m *testing.M) { testutil.EngineMain(m) }
//
// which stops a docker daemon the tests started and removes the images'
// tarball and the root filesystem. Every container is removed in its
// test's cleanup, which waits for its processes to be gone.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequireEnginesEnv, when set to anything but "" or "0", turns a missing
// engine (binary, daemon that will not start) from a skip into a failure.
// .ci/run sets it: CI installs every engine, so a skip there would hide
// that the engine tests did not run.
const RequireEnginesEnv = "BOXTUI_REQUIRE_ENGINES"

// EnginePrefix starts the name of everything the engine helpers create
// (containers, images, cgroups, directories), so that no other test's
// cleanup touches them and a leftover is easy to find.
const EnginePrefix = "bt-eng-"

// engineTimeout bounds one engine command (docker run, lxc-stop...): a
// hang fails the test instead of holding CI up.
const engineTimeout = 90 * time.Second

// EnginesRequired reports whether RequireEnginesEnv is set.
func EnginesRequired() bool {
	v := os.Getenv(RequireEnginesEnv)
	return v != "" && v != "0"
}

// engineUnavailable skips the test with why, or fails it when engines are
// required.
func engineUnavailable(t testing.TB, why string) {
	t.Helper()
	if EnginesRequired() {
		t.Fatalf("%s (%s is set: every engine must be there)", why, RequireEnginesEnv)
	}
	t.Skip(why)
}

// NeedEngine returns the path of an engine's program bin, installed by the
// Debian package pkg. Without it the test skips, or fails when
// RequireEnginesEnv is set. It also skips unless the test runs as root.
func NeedEngine(t testing.TB, bin, pkg string) string {
	t.Helper()
	RequireRoot(t, "starts containers with real engines")
	p, err := exec.LookPath(bin)
	if err != nil {
		engineUnavailable(t, fmt.Sprintf("needs %s (Debian: apt-get install %s)", bin, pkg))
	}
	return p
}

// EngineName returns a container name for the test's container short:
// EnginePrefix, short and the test binary's PID, so two test binaries on
// one host never pick the same name. It is a valid host name too.
func EngineName(short string) string {
	return fmt.Sprintf("%s%s-%d", EnginePrefix, short, os.Getpid())
}

// runEngine runs an engine command with a deadline and returns its
// combined output, trimmed; the error says what ran and what it printed.
func runEngine(env []string, stdin io.Reader, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), engineTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdin = stdin
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	text := strings.TrimSpace(out.String())
	if ctx.Err() != nil {
		return text, fmt.Errorf("%s %s: no answer within %v\n%s", filepath.Base(name), strings.Join(args, " "), engineTimeout, text)
	}
	if err != nil {
		return text, fmt.Errorf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, text)
	}
	return text, nil
}

// engine holds what the helpers made once per test binary.
var engine struct {
	mu sync.Mutex

	dir string // EnginePrefix+"work.*": rootfs, tarball; removed by EngineMain

	rootfs    string
	rootfsErr error

	tarball string // the rootfs as a tar, and its content hash
	tarHash string
	tarErr  error

	images    map[string]string // engine -> image tag
	imageErrs map[string]error

	dockerChecked bool
	dockerErr     error
	dockerd       *ownDockerd
}

// workDir returns the helpers' scratch directory, which only root can
// enter (rootfs.Create insists: the rootfs has setuid programs). Call
// with engine.mu held.
func workDir() (string, error) {
	if engine.dir != "" {
		return engine.dir, nil
	}
	dir, err := os.MkdirTemp("", EnginePrefix+"work.")
	if err != nil {
		return "", err
	}
	engine.dir = dir
	return dir, nil
}

// EngineMain runs the tests, then StopEngineDaemons and Cleanup, and
// exits. Use it as the whole body of TestMain.
func EngineMain(m *testing.M) {
	code := m.Run()
	StopEngineDaemons()
	Cleanup()
	os.Exit(code)
}
