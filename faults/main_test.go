package faults

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
	"boxtui/runtime/procfs"
	"boxtui/runtime/state"
	"boxtui/ui/e2e"
)

func init() {
	// As cmd/boxtui does: the main goroutine stays on the main thread, so
	// the Go runtime never parks a thread that entered a container (the
	// mount engine's worker) in its place.
	runtime.LockOSThread()
}

// claimEnv makes the test binary a stand-in for a `boxtui run` client that
// dies right after claiming a name: it writes the "creating" state a launch
// starts with, and exits.
const claimEnv = "BOXTUI_FAULTS_CLAIM"

func TestMain(m *testing.M) {
	if name := os.Getenv(claimEnv); name != "" {
		err := state.Create(state.State{Name: name, Rootfs: "/", Command: []string{"/bin/true"},
			Status: state.StatusCreating, Created: time.Now()})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if spec := os.Getenv(subreaperEnv); spec != "" {
		os.Exit(subreaperMain(spec))
	}
	code := m.Run()
	testutil.Cleanup()
	os.Exit(code)
}

// cmdTimeout bounds every run of the binary: a hang is a failure, not a
// stuck CI job.
const cmdTimeout = 30 * time.Second

// cli runs the real boxtui binary against a state directory of the test's
// own, so nothing touches /run/boxtui or the host's action log.
type cli struct {
	t      *testing.T
	bin    string
	runDir string
	env    []string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	testutil.RequireRoot(t, "runs boxtui's privileged commands")
	runDir := t.TempDir()
	c := &cli{t: t, bin: e2e.Binary(t), runDir: runDir}
	c.env = append(os.Environ(), "BOXTUI_RUN_DIR="+runDir, "BOXTUI_LOG="+filepath.Join(runDir, "actions.log"))
	// runtime.* calls from the test itself must see the same state.
	t.Setenv("BOXTUI_RUN_DIR", runDir)
	return c
}

// run runs boxtui with args and returns what it printed and its exit code.
func (c *cli) run(args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	stdout, stderr, code, err := c.try(args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return stdout, stderr, code
}

// try is run for goroutines other than the test's: it reports a hang or a
// failure to start as an error instead of failing the test.
func (c *cli) try(args ...string) (stdout, stderr string, code int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = c.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if ctx.Err() != nil {
		return out.String(), errb.String(), -1, fmt.Errorf("boxtui %s hung for %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), cmdTimeout, out.String(), errb.String())
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code, err = exit.ExitCode(), nil
	default:
		return "", "", -1, fmt.Errorf("boxtui %s: %w", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), code, nil
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

// ls is `boxtui ls --json` (with -a when all), decoded.
func (c *cli) ls(all bool) []discovery.Container {
	c.t.Helper()
	args := []string{"ls", "--json"}
	if all {
		args = append(args, "-a")
	}
	out := c.mustRun(args...)
	var cs []discovery.Container
	if err := json.Unmarshal([]byte(out), &cs); err != nil {
		c.t.Fatalf("boxtui ls --json printed no JSON array: %v\n%s", err, out)
	}
	return cs
}

// find returns the listed boxtui container called name.
func find(cs []discovery.Container, name string) (discovery.Container, bool) {
	for _, c := range cs {
		if c.Name == name {
			return c, true
		}
	}
	return discovery.Container{}, false
}

// detached launches a container with `run -d` and removes it (force) in
// cleanup. It returns the listed container.
func (c *cli) detached(name, rootfs string, command ...string) discovery.Container {
	c.t.Helper()
	args := append([]string{"run", "-d", "--name", name, "--rootfs", rootfs, "--"}, command...)
	c.mustRun(args...)
	c.t.Cleanup(func() {
		c.try("kill", "-s", "KILL", name)
		c.try("rm", "-f", name)
	})
	ct, ok := find(c.ls(false), name)
	if !ok {
		c.t.Fatalf("container %s launched with -d is not listed", name)
	}
	return ct
}

// marker is a unique argument for a container's command, so that every
// process a test made (holder, init, command) can be found by cmdline.
func marker() string {
	return fmt.Sprintf("%d.%d", 100000+os.Getpid()%100000, time.Now().UnixNano()%1000000)
}

// processesWith lists host PIDs whose command line contains s.
func processesWith(s string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && bytes.Contains(data, []byte(s)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	st, err := procfs.ParseStat(data)
	return err == nil && st.State != 'Z'
}

// zombies lists zombie processes whose parent is ppid.
func zombies(ppid int) []int {
	var out []int
	for _, pid := range testutil.Children(ppid) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		if st, err := procfs.ParseStat(data); err == nil && st.State == 'Z' {
			out = append(out, pid)
		}
	}
	return out
}

// stateNames lists the container directories under the run dir.
func stateNames(t *testing.T, runDir string) []string {
	t.Helper()
	entries, err := os.ReadDir(runDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "mounts" {
			names = append(names, e.Name())
		}
	}
	return names
}

// mountsUnder is testutil.MountsUnder that fails the test on error.
func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	ms, err := testutil.MountsUnder(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}
