// Package enginetest starts docker and podman containers for the tests of
// --as-engine (runtime/asengine and its cshim), named with the bt-ase-
// prefix and removed when the test ends. Tests only: nothing else imports
// it.
package enginetest

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Image is the image the VM's docker and podman both hold (imported from
// boxtui's default rootfs: bash, coreutils).
const Image = "boxtui-test:latest"

// Docker starts `docker run -d --network none --name bt-ase-NAME ARGS...
// IMAGE CMD...` and returns the host PID of its init; it skips the test when
// docker or the image is not there. The container is removed at cleanup.
func Docker(t testing.TB, name string, args []string, cmd ...string) int {
	t.Helper()
	return start(t, "docker", name, append([]string{"--network", "none"}, args...), cmd)
}

// Podman is Docker for podman, with this VM's quirks (runc, since cgroups
// are hybrid v1; ulimits podman cannot take from the host).
func Podman(t testing.TB, name string, args []string, cmd ...string) int {
	t.Helper()
	quirks := []string{"--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", "--network", "none"}
	return start(t, "podman", name, append(quirks, args...), cmd)
}

// Name is the engine name of a container started as name.
func Name(name string) string { return "bt-ase-" + name }

func start(t testing.TB, engine, name string, args, cmd []string) int {
	t.Helper()
	if _, err := exec.LookPath(engine); err != nil {
		t.Skipf("needs %s: %v", engine, err)
	}
	if out, err := run(engine, "image", "inspect", Image); err != nil {
		t.Skipf("needs the %s image %s: %v: %s", engine, Image, err, out)
	}
	full := Name(name)
	run(engine, "rm", "-f", full)
	runArgs := append([]string{"run", "-d", "--name", full}, args...)
	runArgs = append(runArgs, Image)
	runArgs = append(runArgs, cmd...)
	// Before the run: a run that fails may still leave a created container.
	t.Cleanup(func() {
		rm := []string{"rm", "-f", full}
		if engine == "podman" {
			rm = []string{"rm", "-f", "-t", "0", full} // sleep ignores SIGTERM as PID 1
		}
		// A mount of the container's can be busy for a moment while
		// another test on the host holds a copy of the mount table:
		// try again before calling it a failure.
		for try := 0; ; try++ {
			out, err := run(engine, rm...)
			if err == nil || strings.Contains(out, "No such container") || strings.Contains(out, "no such container") {
				return
			}
			if try == 4 || !strings.Contains(out, "busy") {
				t.Errorf("%s %s: %v: %s", engine, strings.Join(rm, " "), err, out)
				return
			}
			time.Sleep(time.Second)
		}
	})
	if out, err := run(engine, runArgs...); err != nil {
		t.Fatalf("%s %s: %v: %s", engine, strings.Join(runArgs, " "), err, out)
	}
	out, err := run(engine, "inspect", "-f", "{{.State.Pid}}", full)
	if err != nil {
		t.Fatalf("%s inspect %s: %v: %s", engine, full, err, out)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil || pid <= 0 {
		t.Fatalf("%s inspect %s: no init PID in %q", engine, full, out)
	}
	return pid
}

// Run runs an engine's command with a deadline and returns its combined
// output.
func Run(engine string, args ...string) (string, error) { return run(engine, args...) }

func run(engine string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, engine, args...).CombinedOutput()
	return string(out), err
}
