package testutil

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// EngineImage is the image the engine tests run in docker and podman: an
// import of the test rootfs (bash, coreutils), since nothing can be pulled.
const EngineImage = "boxtui-test:latest"

// engineRun runs an engine's command line with a deadline and returns its
// trimmed stdout, or an error that carries its stderr.
func engineRun(timeout time.Duration, stdin []byte, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// RequireEngine skips the test, saying why, unless root runs it and every
// binary named is installed.
func RequireEngine(t testing.TB, bins ...string) {
	t.Helper()
	RequireRoot(t, "starts engine containers")
	for _, b := range bins {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s is not installed (the engine tests need it; CI installs it)", b)
		}
	}
}

// RequireDocker skips the test unless docker is installed and its daemon
// answers.
func RequireDocker(t testing.TB) {
	t.Helper()
	RequireEngine(t, "docker")
	if _, err := engineRun(20*time.Second, nil, "docker", "version", "--format", "{{.Server.Version}}"); err != nil {
		t.Skipf("dockerd is not running: %v", err)
	}
}

// EnsureEngineImage makes EngineImage in engine ("docker" or "podman")
// from the test rootfs when it is not there yet.
func EnsureEngineImage(t testing.TB, engine string) {
	t.Helper()
	if _, err := engineRun(30*time.Second, nil, engine, "image", "inspect", EngineImage); err == nil {
		return
	}
	tarball, err := exec.Command("tar", "-C", Rootfs(t), "-c", ".").Output()
	if err != nil {
		t.Fatalf("tar the test rootfs: %v", err)
	}
	if _, err := engineRun(2*time.Minute, tarball, engine, "import", "-", EngineImage); err != nil {
		t.Fatalf("make %s's test image: %v", engine, err)
	}
}

// EngineContainer is a container an engine started for a test.
type EngineContainer struct {
	Name string
	ID   string // "" for engines without IDs (LXC, nspawn)
	PID  int    // host PID of its init
}

// podmanQuirks are what podman 4.3 needs on the hybrid-cgroup test VM: runc
// (crun fails there) and explicit limits.
var podmanQuirks = []string{"--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"}

// StartDocker runs `docker run -d --network none --name NAME IMAGE CMD...`
// (CMD defaults to sleep) and removes the container in t.Cleanup.
func StartDocker(t testing.TB, name string, cmd ...string) EngineContainer {
	t.Helper()
	return startOCI(t, "docker", nil, name, cmd)
}

// StartPodman is StartDocker for podman.
func StartPodman(t testing.TB, name string, cmd ...string) EngineContainer {
	t.Helper()
	return startOCI(t, "podman", podmanQuirks, name, cmd)
}

func startOCI(t testing.TB, engine string, extra []string, name string, cmd []string) EngineContainer {
	t.Helper()
	EnsureEngineImage(t, engine)
	if len(cmd) == 0 {
		cmd = []string{"sleep", "1d"}
	}
	args := append([]string{"run", "-d", "--network", "none", "--name", name}, extra...)
	args = append(append(args, EngineImage), cmd...)
	rm := []string{"rm", "-f", name}
	if engine == "podman" {
		rm = []string{"rm", "-f", "-t", "0", name} // podman would wait 10 s for a sleep that ignores SIGTERM
	}
	t.Cleanup(func() { engineRun(time.Minute, nil, engine, rm...) })
	id, err := engineRun(2*time.Minute, nil, engine, args...)
	if err != nil {
		t.Fatal(err)
	}
	pid := 0
	WaitFor(t, 30*time.Second, func() bool {
		out, err := engineRun(30*time.Second, nil, engine, "inspect", "-f", "{{.State.Pid}}", name)
		pid, _ = strconv.Atoi(out)
		return err == nil && pid > 0
	}, engine+" container "+name+" to run")
	return EngineContainer{Name: name, ID: id, PID: pid}
}

// StartLXC makes an LXC container offline (`lxc-create -t busybox`: the
// host's busybox, no download; no network), starts it and destroys it in
// t.Cleanup.
func StartLXC(t testing.TB, name string) EngineContainer {
	t.Helper()
	RequireEngine(t, "lxc-create", "lxc-start", "busybox")
	conf := filepath.Join(t.TempDir(), "lxc.conf")
	if err := os.WriteFile(conf, []byte("lxc.net.0.type = empty\nlxc.apparmor.profile = unconfined\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		engineRun(time.Minute, nil, "lxc-stop", "-n", name, "-k")
		engineRun(time.Minute, nil, "lxc-destroy", "-n", name, "-f")
	})
	if _, err := engineRun(2*time.Minute, nil, "lxc-create", "-n", name, "-t", "busybox", "-f", conf); err != nil {
		t.Fatal(err)
	}
	if _, err := engineRun(time.Minute, nil, "lxc-start", "-n", name); err != nil {
		t.Fatal(err)
	}
	pid := 0
	WaitFor(t, 30*time.Second, func() bool {
		out, err := engineRun(30*time.Second, nil, "lxc-info", "-n", name, "-p", "-H")
		pid, _ = strconv.Atoi(out)
		return err == nil && pid > 0
	}, "lxc container "+name+" to run")
	return EngineContainer{Name: name, PID: pid}
}

// StartNspawn runs cmd (default: sleep) in an nspawn container named
// machine on a fresh copy of the test rootfs, unregistered (this VM has no
// systemd as PID 1: --register=no --keep-unit), tied to the test. The
// container is killed in t.Cleanup.
func StartNspawn(t testing.TB, machine string, cmd ...string) EngineContainer {
	t.Helper()
	RequireEngine(t, "systemd-nspawn")
	if len(cmd) == 0 {
		cmd = []string{"/bin/sleep", "1000"}
	}
	rootfs := FreshRootfs(t)
	args := append([]string{"--register=no", "--keep-unit", "-q", "--read-only", "-D", rootfs, "-M", machine}, cmd...)
	c := exec.Command("systemd-nspawn", args...)
	var out LockedBuffer
	c.Stdout, c.Stderr = &out, &out
	exited, _, err := StartTied(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Process.Kill()
		<-exited
	})
	pid := 0
	WaitFor(t, 30*time.Second, func() bool {
		select {
		case <-exited:
			t.Fatalf("systemd-nspawn exited: %s", out.String())
		default:
		}
		pid = childOf(c.Process.Pid)
		return pid > 0 && innerPID(pid) == 1 && cmdlineIs(pid, cmd)
	}, "nspawn container "+machine+" to run "+strings.Join(cmd, " "))
	return EngineContainer{Name: machine, PID: pid}
}
