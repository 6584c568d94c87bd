// Package engines tests the real boxtui binary against containers that the
// real engines start: docker, podman, LXC (privileged and unprivileged),
// systemd-nspawn and bubblewrap. Every container is listed with its origin,
// init and namespaces, entered, mounted into and stopped, and the engine
// must see it end. Tests only; see internal/testutil/enginectl.go for how
// the engines are driven offline on this kind of host.
//
// Without an engine the tests that need it skip; with
// BOXTUI_REQUIRE_ENGINES=1 (as .ci/run sets) they fail instead.
package engines

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"
	"boxtui/runtime/namespace"
	"boxtui/runtime/procfs"
)

func init() {
	// As cmd/boxtui does: the main goroutine stays on the main thread.
	runtime.LockOSThread()
}

func TestMain(m *testing.M) { testutil.EngineMain(m) }

// cmdTimeout bounds every run of boxtui and nsenter: a hang is a failure.
const cmdTimeout = 60 * time.Second

// cli runs the real boxtui binary with a state directory of the test's own.
type cli struct {
	t   *testing.T
	bin string
	env []string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	testutil.RequireRoot(t, "runs boxtui's privileged commands on engines' containers")
	runDir := t.TempDir()
	return &cli{t: t, bin: testutil.Binary(t),
		env: append(os.Environ(), "BOXTUI_RUN_DIR="+runDir, "BOXTUI_LOG="+filepath.Join(runDir, "actions.log"))}
}

// run runs boxtui with args; a hang or a failure to start fails the test.
func (c *cli) run(args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	return runCmd(c.t, c.env, c.bin, args...)
}

// mustRun runs boxtui and fails the test unless it exits 0.
func (c *cli) mustRun(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("boxtui %s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// ls is `boxtui ls --json`, decoded.
func (c *cli) ls() []discovery.Container {
	c.t.Helper()
	out := c.mustRun("ls", "--json")
	var cs []discovery.Container
	if err := json.Unmarshal([]byte(out), &cs); err != nil {
		c.t.Fatalf("boxtui ls --json printed no JSON array: %v\n%s", err, out)
	}
	return cs
}

// runCmd runs a program with a deadline and returns its output and exit
// code.
func runCmd(t *testing.T, env []string, name string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %s hung for %v\nstdout: %s\nstderr: %s", name, strings.Join(args, " "), cmdTimeout, out.String(), errb.String())
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), code
}

// nsenter runs the host's nsenter with args and returns its stdout, which
// must come with exit 0.
func nsenter(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := runCmd(t, nil, "nsenter", args...)
	if code != 0 {
		t.Fatalf("nsenter %s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// nsInodes reads the namespace links of pid as ls --json gives them.
func nsInodes(t *testing.T, pid int) namespace.Set {
	t.Helper()
	var set namespace.Set
	for _, name := range namespace.Names {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, name))
		if err != nil {
			t.Fatalf("readlink /proc/%d/ns/%s: %v", pid, name, err)
		}
		open, close := strings.IndexByte(link, '['), strings.IndexByte(link, ']')
		if open < 0 || close < open {
			t.Fatalf("/proc/%d/ns/%s -> %q: not TYPE:[INODE]", pid, name, link)
		}
		ino, err := strconv.ParseUint(link[open+1:close], 10, 64)
		if err != nil {
			t.Fatalf("/proc/%d/ns/%s -> %q: %v", pid, name, link, err)
		}
		typ, err := namespace.ParseType(name)
		if err != nil {
			t.Fatal(err)
		}
		set[typ] = ino
	}
	return set
}

// hostMountLeaks lists mounts of the host's own table that a mount into a
// container must never leave: any at a path called bt-mnt (the containers'
// mount point), and any of src or below it.
func hostMountLeaks(t *testing.T, src string) []string {
	t.Helper()
	infos, err := testutil.HostMounts()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range infos {
		if filepath.Base(m.Mountpoint) == "bt-mnt" || m.Mountpoint == src || strings.HasPrefix(m.Mountpoint, src+"/") {
			out = append(out, m.Mountpoint)
		}
	}
	under, err := testutil.MountsUnder(src)
	if err != nil {
		t.Fatal(err)
	}
	return append(out, under...)
}

// awaitExited polls the engine until it says c is no longer running, and
// returns the exit code it has (-1 where it keeps none).
func awaitExited(t *testing.T, c *testutil.EngineContainer) int {
	t.Helper()
	var code int
	var state string
	deadline := time.Now().Add(30 * time.Second)
	for {
		var exited bool
		exited, code, state = c.Exited(t)
		if exited {
			return code
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the engine still says %q 30 s after boxtui kill", c, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// innerPID returns pid's PID in its own PID namespace.
func innerPID(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	st, err := procfs.ParseStatus(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("/proc/%d/status: %v", pid, err)
	}
	return st.InnerPID()
}
