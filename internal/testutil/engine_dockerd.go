package testutil

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ownDockerd is a docker daemon the tests started when none answered, with
// a socket, pidfile, exec root and containerd namespaces of its own, and
// docker's default data root (see ensureDockerd). Only one test binary
// at a time may start one: make test runs the packages that use docker
// (runtime/engines, then engines/) in turn.
type ownDockerd struct {
	cmd    *exec.Cmd
	exited <-chan struct{}
	dir    string
	log    *LockedBuffer
}

// Docker returns the docker CLI's path once a daemon answers it: the
// host's (DOCKER_HOST, else the default socket), reused and left alone,
// else one the test binary starts (`dockerd --bridge=none
// --iptables=false`, its own socket exported as DOCKER_HOST) and
// EngineMain stops. Skips without docker, or fails when RequireEnginesEnv
// is set.
func Docker(t testing.TB) string {
	t.Helper()
	bin := NeedEngine(t, "docker", "docker.io")
	engine.mu.Lock()
	if !engine.dockerChecked {
		engine.dockerChecked = true
		engine.dockerErr = ensureDockerd(bin)
	}
	err := engine.dockerErr
	engine.mu.Unlock()
	if err != nil {
		engineUnavailable(t, err.Error())
	}
	return bin
}

// dockerAnswers reports whether a docker daemon answers the CLI with env
// added to the environment.
func dockerAnswers(bin string, env []string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "version", "--format", "{{.Server.Version}}")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	return err == nil && len(bytes.TrimSpace(out)) > 0
}

// ensureDockerd makes sure a docker daemon answers (see Docker). Call with
// engine.mu held.
func ensureDockerd(bin string) error {
	if dockerAnswers(bin, nil) {
		return nil
	}
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		return fmt.Errorf("no docker daemon answers and dockerd is not installed (Debian: apt-get install docker.io)")
	}
	dir, err := os.MkdirTemp("", EnginePrefix+"dockerd.")
	if err != nil {
		return err
	}
	host := "unix://" + filepath.Join(dir, "docker.sock")
	// Docker's own data root, as a host's daemon would have: boxtui names
	// docker's containers from the files there (the API on DOCKER_HOST is
	// only its time-boxed fallback, which a loaded CI machine may miss).
	// No daemon answered, so none uses it now.
	cmd := exec.Command(dockerd, "--bridge=none", "--iptables=false",
		"-H", host, "--pidfile", filepath.Join(dir, "docker.pid"),
		"--exec-root", filepath.Join(dir, "exec"),
		"--containerd-namespace", EnginePrefix+"moby", "--containerd-plugins-namespace", EnginePrefix+"plugins")
	log := &LockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	// The daemon dies with the test binary, should it crash; EngineMain
	// stops it properly otherwise.
	exited, _, err := StartTied(cmd)
	if err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("start dockerd: %v", err)
	}
	d := &ownDockerd{cmd: cmd, exited: exited, dir: dir, log: log}
	env := []string{"DOCKER_HOST=" + host}
	deadline := time.Now().Add(60 * time.Second)
	for !dockerAnswers(bin, env) {
		select {
		case <-exited:
			d.stop()
			return fmt.Errorf("dockerd exited before it answered:\n%s", log.String())
		default:
		}
		if time.Now().After(deadline) {
			d.stop()
			return fmt.Errorf("dockerd did not answer within 60 s:\n%s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The docker CLI, and boxtui run by the tests, find it here.
	os.Setenv("DOCKER_HOST", host)
	engine.dockerd = d
	fmt.Fprintf(os.Stderr, "testutil: started dockerd %d at %s for these tests\n", cmd.Process.Pid, host)
	return nil
}

// stop stops the daemon (SIGTERM, then SIGKILL after 30 s: dockerd stops
// its containers, by now none, and its containerd first) and removes its
// directory once nothing is mounted in it.
func (d *ownDockerd) stop() {
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		fmt.Fprintf(os.Stderr, "testutil: dockerd %d still running 30 s after SIGTERM: SIGKILL\n", d.cmd.Process.Pid)
		d.cmd.Process.Kill()
		<-d.exited
	}
	ms, err := MountsUnder(d.dir)
	for i := len(ms) - 1; i >= 0; i-- { // deepest first
		unix.Unmount(ms[i], unix.MNT_DETACH)
	}
	if ms, err = MountsUnder(d.dir); err != nil || len(ms) > 0 {
		fmt.Fprintf(os.Stderr, "testutil: not removing %s: still mounted inside: %v %v\n", d.dir, ms, err)
		return
	}
	os.RemoveAll(d.dir)
}

// StopEngineDaemons stops the docker daemon Docker started, if any, and
// removes the helpers' scratch directory (rootfs, tarball). Images
// imported into a daemon that was already running stay, for the next run.
func StopEngineDaemons() {
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if engine.dockerd != nil {
		engine.dockerd.stop()
		engine.dockerd = nil
		os.Unsetenv("DOCKER_HOST")
	}
	if engine.dir != "" {
		if ms, err := MountsUnder(engine.dir); err != nil || len(ms) > 0 {
			fmt.Fprintf(os.Stderr, "testutil: not removing %s: still mounted inside: %v %v\n", engine.dir, ms, err)
			return
		}
		os.RemoveAll(engine.dir)
		engine.dir = ""
	}
}
