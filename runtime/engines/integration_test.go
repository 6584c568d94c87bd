package engines_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"
)

func TestMain(m *testing.M) { testutil.EngineMain(m) }

// uniq makes a container name of this helper's prefix that no earlier,
// crashed run left behind.
func uniq(kind string) string { return testutil.EngineName("names-" + kind) }

var sleeper = []string{"/bin/sleep", "100000"}

// lsEntry runs `boxtui ls --json` and returns the container whose init is
// pid, and the raw JSON object of it.
func lsEntry(t *testing.T, pid int) (discovery.Container, map[string]any) {
	t.Helper()
	out, errOut, code := testutil.RunBinary(t, "", "ls", "--json")
	if code != 0 {
		t.Fatalf("ls --json: exit %d: %s", code, errOut)
	}
	var cs []discovery.Container
	var raw []map[string]any
	if err := json.Unmarshal([]byte(out), &cs); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	for i, c := range cs {
		if c.PID == pid {
			return c, raw[i]
		}
	}
	t.Fatalf("ls --json does not list pid %d:\n%s", pid, out)
	return discovery.Container{}, nil
}

// mustExec runs `boxtui exec TARGET -- ARGS...` and returns its stdout.
func mustExec(t *testing.T, target string, args ...string) string {
	t.Helper()
	out, errOut, code := testutil.RunBinary(t, "", append([]string{"exec", target, "--"}, args...)...)
	if code != 0 {
		t.Fatalf("exec %s -- %v: exit %d: %s", target, args, code, errOut)
	}
	return strings.TrimSpace(out)
}

// checkNamed checks what ls --json says of an engine's container and that
// every form of TARGET naming it reaches it: its name, ORIGIN:NAME, and
// (for engines with IDs) a 12-digit ID prefix, through exec, ps and mounts.
func checkNamed(t *testing.T, ec *testutil.EngineContainer, origin discovery.Origin, hostname string) {
	t.Helper()
	c, raw := lsEntry(t, ec.PID)
	if raw["name"] != ec.Name || raw["engine_id"] != ec.ID || raw["origin"] != string(origin) {
		t.Errorf("ls --json: name %v, engine_id %v, origin %v; want %q, %q, %s", raw["name"], raw["engine_id"], raw["origin"], ec.Name, ec.ID, origin)
	}
	if c.Name != "" || c.EngineName != ec.Name {
		t.Errorf("ls --json read back: boxtui name %q, engine name %q", c.Name, c.EngineName)
	}
	table, _, _ := testutil.RunBinary(t, "", "ls")
	found := false
	for _, line := range strings.Split(table, "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[0] == ec.Name && f[1] == fmt.Sprint(ec.PID) && f[2] == string(origin) {
			found = true
		}
	}
	if !found {
		t.Errorf("ls does not show %s under its name:\n%s", ec.Name, table)
	}
	targets := []string{ec.Name, string(origin) + ":" + ec.Name}
	if ec.ID != "" {
		targets = append(targets, ec.ID[:12], string(origin)+":"+ec.ID[:12])
	}
	for _, target := range targets {
		if got := mustExec(t, target, "hostname"); got != hostname {
			t.Errorf("exec %s -- hostname = %q, want %q", target, got, hostname)
		}
		for _, cmd := range [][]string{{"ps", target}, {"mounts", target}} {
			if _, errOut, code := testutil.RunBinary(t, "", cmd...); code != 0 {
				t.Errorf("%v: exit %d: %s", cmd, code, errOut)
			}
		}
	}
}

// TestDockerContainerByName: a docker container is listed with docker's
// name and ID, and entered by either; docker's default hostname is the
// short ID.
func TestDockerContainerByName(t *testing.T) {
	ec := testutil.StartDocker(t, uniq("docker"), nil, sleeper...)
	checkNamed(t, ec, discovery.OriginDocker, ec.Hostname)

	// attach: a docker container has no boxtui console; say what to do.
	_, errOut, code := testutil.RunBinary(t, "", "attach", "docker:"+ec.Name)
	if code == 0 || !strings.Contains(errOut, "a docker container has no boxtui console; `boxtui exec docker:"+ec.Name+"`") {
		t.Errorf("attach docker:NAME: exit %d, %q", code, errOut)
	}

	// A rename shows at the next ls.
	if out, err := command("docker", "rename", ec.Name, ec.Name+"-renamed"); err != nil {
		t.Fatalf("docker rename: %v: %s", err, out)
	}
	t.Cleanup(func() { command("docker", "rm", "-f", ec.Name+"-renamed") })
	if _, raw := lsEntry(t, ec.PID); raw["name"] != ec.Name+"-renamed" {
		t.Errorf("after docker rename: name %v", raw["name"])
	}

	// kill by docker's name stops it.
	if _, errOut, code := testutil.RunBinary(t, "", "kill", "docker:"+ec.Name+"-renamed"); code != 0 {
		t.Errorf("kill docker:NAME: exit %d: %s", code, errOut)
	}
	testutil.WaitFor(t, 20*time.Second, func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/%d", ec.PID))
		return err != nil
	}, "the docker container to stop")
}

func TestPodmanContainerByName(t *testing.T) {
	ec := testutil.StartPodman(t, uniq("podman"), nil, sleeper...)
	checkNamed(t, ec, discovery.OriginPodman, ec.Hostname)
}

func TestLXCContainerByName(t *testing.T) {
	ec := testutil.StartLXC(t, uniq("lxc"), nil, sleeper...)
	checkNamed(t, ec, discovery.OriginLXC, ec.Hostname)
}

func TestNspawnContainerByName(t *testing.T) {
	ec := testutil.StartNspawn(t, uniq("nspawn"), nil, sleeper...)
	checkNamed(t, ec, discovery.OriginNspawn, ec.Hostname)
}

// TestNameSharedByTwoOrigins: a docker and a podman container with one
// name are both listed under it; the bare name is refused in one line that
// says how to name each, and ORIGIN:NAME picks one.
func TestNameSharedByTwoOrigins(t *testing.T) {
	name := uniq("twin")
	d := testutil.StartDocker(t, name, []string{"--hostname", "d"}, sleeper...)
	p := testutil.StartPodman(t, name, []string{"--hostname", "p"}, sleeper...)
	_, errOut, code := testutil.RunBinary(t, "", "exec", name, "--", "hostname")
	if code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 ||
		!strings.Contains(errOut, "docker:"+name) || !strings.Contains(errOut, "podman:"+name) {
		t.Errorf("exec of a shared name: exit %d, %q; want one line naming docker:%s and podman:%s", code, errOut, name, name)
	}
	if got := mustExec(t, "docker:"+name, "hostname"); got != "d" || d.PID == p.PID {
		t.Errorf("exec docker:%s = %q, want d", name, got)
	}
	if got := mustExec(t, "podman:"+name, "hostname"); got != "p" {
		t.Errorf("exec podman:%s = %q, want p", name, got)
	}
}

// command runs an engine's command line and returns its combined output.
func command(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}
