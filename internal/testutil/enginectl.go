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
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"boxtui/runtime/rootfs"

	"golang.org/x/sys/unix"
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

// TrapTERM is a script in EngineRootfs for an init that handles its stop
// signal: `TrapTERM CODE` waits until SIGTERM, then exits CODE.
const TrapTERM = "/usr/local/bin/bt-trap-term"

const trapTERMScript = `#!/bin/bash
# bt-trap-term CODE: an init that catches SIGTERM and then exits CODE.
trap 'exit "$1"' TERM
while :; do
	sleep 100000 &
	wait $!
done
`

const osRelease = `ID=boxtui-engine-test
NAME="boxtui's engine test rootfs"
`

// EngineRootfs returns the root filesystem engine containers start from:
// rootfs.Create's default tools plus unshare (for a process with
// namespaces of its own inside a container), TrapTERM, an /etc/os-release
// (for systemd-nspawn -b with the host's /usr bound in) and an empty
// directory /bt-mnt to mount onto. Built once per test binary; treat it as
// read-only (CopyEngineRootfs gives a container its own).
func EngineRootfs(t testing.TB) string {
	t.Helper()
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if engine.rootfs == "" && engine.rootfsErr == nil {
		engine.rootfsErr = func() error {
			dir, err := workDir()
			if err != nil {
				return err
			}
			root := filepath.Join(dir, "rootfs")
			tools := append(append([]string{}, rootfs.DefaultTools...), "unshare")
			if _, err := rootfs.Create(root, rootfs.Options{Tools: tools}); err != nil {
				return err
			}
			if err := os.Mkdir(filepath.Join(root, "bt-mnt"), 0o755); err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Join(root, "usr/local/bin"), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(root, TrapTERM), []byte(trapTERMScript), 0o755); err != nil {
				return err
			}
			// systemd-nspawn -b refuses a tree without one.
			if err := os.WriteFile(filepath.Join(root, "etc/os-release"), []byte(osRelease), 0o644); err != nil {
				return err
			}
			engine.rootfs = root
			return nil
		}()
	}
	if engine.rootfsErr != nil {
		t.Fatalf("build the engines' rootfs: %v", engine.rootfsErr)
	}
	return engine.rootfs
}

// CopyEngineRootfs returns a copy of EngineRootfs of the test's own, for
// engines that write into the root they run (LXC, nspawn, bwrap --bind).
// Cleanup removes it, once nothing is mounted inside.
func CopyEngineRootfs(t testing.TB) string {
	t.Helper()
	return copyEngineRootfs(t, -1)
}

// copyEngineRootfs is CopyEngineRootfs; with owner >= 0 the copy goes in a
// directory of its own in os.TempDir() that only owner (and root) may
// enter: the host uid of an unprivileged container's root, which must
// reach its rootfs, where rootfs.Create's root-only directory would stop
// it.
func copyEngineRootfs(t testing.TB, owner int) string {
	t.Helper()
	src := EngineRootfs(t)
	var dir string
	var err error
	if owner < 0 {
		engine.mu.Lock()
		dir, err = os.MkdirTemp(engine.dir, "copy.")
		engine.mu.Unlock()
	} else if dir, err = os.MkdirTemp("", EnginePrefix+"rootfs."); err == nil {
		err = os.Chown(dir, owner, owner)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if ms, err := MountsUnder(dir); err != nil || len(ms) > 0 {
			t.Errorf("not removing %s: still mounted inside: %v %v", dir, ms, err)
			return
		}
		os.RemoveAll(dir)
	})
	dst := filepath.Join(dir, "rootfs")
	if out, err := runEngine(nil, nil, "cp", "-a", src, dst); err != nil {
		t.Fatalf("copy the engines' rootfs: %v %s", err, out)
	}
	return dst
}

// engineTarball writes EngineRootfs as a tar once and returns its path and
// the hash of its contents. Entries are sorted and carry no times or
// owner names, so the same tree gives the same hash on every run and an
// image imported from it can be reused by tag.
func engineTarball(t testing.TB) (path, hash string) {
	t.Helper()
	root := EngineRootfs(t)
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if engine.tarball == "" && engine.tarErr == nil {
		engine.tarErr = func() error {
			f, err := os.Create(filepath.Join(engine.dir, "rootfs.tar"))
			if err != nil {
				return err
			}
			defer f.Close()
			h := sha256.New()
			if err := writeTar(io.MultiWriter(f, h), root); err != nil {
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			engine.tarball, engine.tarHash = f.Name(), hex.EncodeToString(h.Sum(nil))
			return nil
		}()
	}
	if engine.tarErr != nil {
		t.Fatalf("tar the engines' rootfs: %v", engine.tarErr)
	}
	return engine.tarball, engine.tarHash
}

// writeTar writes the tree at root to w: directories, regular files and
// symlinks (rootfs.Create makes nothing else), in lexical order.
func writeTar(w io.Writer, root string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = rel
		if info.IsDir() {
			hdr.Name += "/"
		}
		hdr.ModTime, hdr.AccessTime, hdr.ChangeTime = time.Unix(0, 0), time.Time{}, time.Time{}
		hdr.Uname, hdr.Gname = "", ""
		hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// EngineImage returns the tag of an image of EngineRootfs in docker or
// podman, imported from its tarball at most once per test binary: the tag
// carries the tarball's hash, so an image a previous run imported from
// the same tree is reused as it is, and images of older trees are removed
// when a new one is imported.
func EngineImage(t testing.TB, engineName string) string {
	t.Helper()
	var bin string
	switch engineName {
	case "docker":
		bin = Docker(t)
	case "podman":
		bin = NeedEngine(t, "podman", "podman")
	default:
		t.Fatalf("EngineImage: no images for engine %q", engineName)
	}
	tarball, hash := engineTarball(t)
	tag := EnginePrefix + "rootfs:" + hash[:16]
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if engine.images == nil {
		engine.images, engine.imageErrs = map[string]string{}, map[string]error{}
	}
	if got, ok := engine.images[engineName]; ok {
		return got
	}
	if err, ok := engine.imageErrs[engineName]; ok {
		t.Fatal(err)
	}
	err := func() error {
		if engineName == "podman" {
			tag = "localhost/" + tag
		}
		if _, err := runEngine(nil, nil, bin, "image", "inspect", "--format", "{{.Id}}", tag); err == nil {
			return nil
		}
		if _, err := runEngine(nil, nil, bin, "import", tarball, tag); err != nil {
			return err
		}
		// Images of trees that changed since (other hashes) are of no
		// more use: remove them, unless a container still uses one.
		repo, _, _ := strings.Cut(tag, ":")
		out, _ := runEngine(nil, nil, bin, "images", "--format", "{{.Repository}}:{{.Tag}}", repo)
		for _, old := range strings.Fields(out) {
			if old != tag && strings.HasPrefix(old, repo+":") {
				runEngine(nil, nil, bin, "rmi", old)
			}
		}
		return nil
	}()
	if err != nil {
		engine.imageErrs[engineName] = fmt.Errorf("import the engines' rootfs into %s: %w", engineName, err)
		t.Fatal(engine.imageErrs[engineName])
	}
	engine.images[engineName] = tag
	return tag
}

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

// EngineMain runs the tests, then StopEngineDaemons and Cleanup, and
// exits. Use it as the whole body of TestMain.
func EngineMain(m *testing.M) {
	code := m.Run()
	StopEngineDaemons()
	Cleanup()
	os.Exit(code)
}

// EngineContainer is a running container an engine started for a test.
type EngineContainer struct {
	Engine   string // docker, podman, lxc, nspawn or bwrap
	Name     string // the engine's name for it (bwrap has none: "")
	ID       string // the engine's full ID (docker, podman), else ""
	Hostname string // the host name set inside
	PID      int    // host PID of its init (PID 1 inside)
	Rootfs   string // its root on the host (lxc, nspawn, bwrap), else ""
	UserNS   bool   // it has a user namespace of its own

	bin       string // the engine's CLI
	startTime string // the init's, from /proc/PID/stat

	// For engines run in the foreground (lxc-start -F, nspawn, bwrap):
	// closed once the engine's process has exited, and how it did.
	exited  <-chan struct{}
	waitErr func() error
	out     *LockedBuffer
}

// String names the container in test messages.
func (c *EngineContainer) String() string {
	if c.Name != "" {
		return fmt.Sprintf("%s container %s (init %d)", c.Engine, c.Name, c.PID)
	}
	return fmt.Sprintf("%s container (init %d)", c.Engine, c.PID)
}

// Exited reports whether the engine itself says the container is no
// longer running, and its exit code as the engine has it (-1 where the
// engine keeps none: lxc). state says what the engine answered.
func (c *EngineContainer) Exited(t testing.TB) (exited bool, code int, state string) {
	t.Helper()
	switch c.Engine {
	case "docker", "podman":
		out, err := runEngine(nil, nil, c.bin, "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", c.Name)
		if err != nil {
			t.Fatalf("ask %s for %s's state: %v", c.Engine, c.Name, err)
		}
		status, codeText, _ := strings.Cut(out, " ")
		code, _ = strconv.Atoi(codeText)
		return status == "exited" || status == "stopped", code, out
	case "lxc":
		out, err := runEngine(nil, nil, "lxc-info", "-n", c.Name, "-sH")
		if err != nil {
			t.Fatalf("ask lxc for %s's state: %v", c.Name, err)
		}
		return out == "STOPPED", -1, out
	}
	select {
	case <-c.exited:
		err := c.waitErr()
		var exit *exec.ExitError
		switch {
		case err == nil:
			return true, 0, "exited 0"
		case errors.As(err, &exit):
			return true, exit.ExitCode(), "exited: " + err.Error()
		}
		return true, -1, err.Error()
	default:
		return false, 0, c.Engine + " still running"
	}
}

// ExecDetached runs cmd inside a docker or podman container with the
// engine's own `exec -d`, and returns the host PID of the process of the
// container that runs argv `runs` (the whole of it; nil: cmd) once there
// is one. It goes with the container.
func (c *EngineContainer) ExecDetached(t testing.TB, runs []string, cmd ...string) int {
	t.Helper()
	if c.Engine != "docker" && c.Engine != "podman" {
		t.Fatalf("ExecDetached: %s has no exec of its own here", c.Engine)
	}
	pidns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", c.PID))
	if err != nil {
		t.Fatalf("%s: %v", c, err)
	}
	if out, err := runEngine(nil, nil, c.bin, append([]string{"exec", "-d", c.Name}, cmd...)...); err != nil {
		t.Fatalf("%s exec -d %s: %v\n%s", c.Engine, c.Name, err, out)
	}
	if runs == nil {
		runs = cmd
	}
	want := []byte(strings.Join(runs, "\x00") + "\x00")
	pid := 0
	WaitFor(t, 30*time.Second, func() bool {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			n, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if ns, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", n)); ns != pidns {
				continue
			}
			if data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", n)); bytes.Equal(data, want) {
				pid = n
				return true
			}
		}
		return false
	}, fmt.Sprintf("%s exec -d %q to run %q", c.Engine, cmd, runs))
	return pid
}

// Output is what an engine run in the foreground printed so far.
func (c *EngineContainer) Output() string {
	if c.out == nil {
		return ""
	}
	return c.out.String()
}

// StartDocker starts `docker run -d --network none --name NAME
// --hostname NAME [args...] IMAGE cmd...` from EngineImage and returns it
// once its init runs cmd. Cleanup removes it (rm -f) and waits for its
// init to be gone.
func StartDocker(t testing.TB, name string, args []string, cmd ...string) *EngineContainer {
	t.Helper()
	return startOCI(t, "docker", Docker(t), name, args, cmd)
}

// StartPodman is StartDocker for podman, with what this host needs:
// `--runtime runc` (crun fails on hybrid cgroup v1) and explicit ulimits.
func StartPodman(t testing.TB, name string, args []string, cmd ...string) *EngineContainer {
	t.Helper()
	bin := NeedEngine(t, "podman", "podman")
	NeedEngine(t, "runc", "runc")
	args = append([]string{"--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"}, args...)
	return startOCI(t, "podman", bin, name, args, cmd)
}

func startOCI(t testing.TB, engineName, bin, name string, args, cmd []string) *EngineContainer {
	t.Helper()
	image := EngineImage(t, engineName)
	c := &EngineContainer{Engine: engineName, Name: name, Hostname: name, bin: bin}
	t.Cleanup(func() {
		// rm -f kills what is left and returns once the container is
		// gone from the engine; its processes go with its init.
		rmArgs := []string{"rm", "-f", name}
		if engineName == "podman" {
			rmArgs = []string{"rm", "-f", "-t", "0", name}
		}
		if out, err := runEngine(nil, nil, bin, rmArgs...); err != nil && !strings.Contains(strings.ToLower(out), "no such container") {
			t.Errorf("remove %s container %s: %v", engineName, name, err)
		}
		c.waitInitGone(t)
	})
	runArgs := append([]string{"run", "-d", "--name", name, "--hostname", name, "--network", "none"}, args...)
	runArgs = append(append(runArgs, image), cmd...)
	if out, err := runEngine(nil, nil, bin, runArgs...); err != nil {
		t.Fatalf("start %s container: %v\n%s", engineName, err, out)
	}
	out, err := runEngine(nil, nil, bin, "inspect", "--format", "{{.State.Pid}} {{.Id}}", name)
	if err != nil {
		t.Fatalf("ask %s for %s's init: %v", engineName, name, err)
	}
	pid, id, _ := strings.Cut(strings.TrimSpace(out), " ")
	c.ID = id
	if c.PID, err = strconv.Atoi(pid); err != nil || c.PID <= 0 || len(id) != 64 {
		t.Fatalf("%s gives %s's init PID as %q: is it running?", engineName, name, out)
	}
	c.awaitCommand(t, cmd)
	return c
}

// LXCUnprivileged are the config lines of an unprivileged LXC container
// for StartLXC: a user namespace whose root is uid 1000000 outside (the
// rootfs stays owned by the host's root, world-readable).
var LXCUnprivileged = []string{"lxc.idmap = u 0 1000000 65536", "lxc.idmap = g 0 1000000 65536"}

// StartLXC starts an LXC container from a copy of EngineRootfs: a config
// of its own in LXC's lxcpath (no network but loopback, no AppArmor: none
// here) plus the lines conf, its init running cmd (no blanks inside an
// argument), with `lxc-start -F` tied to the test binary. Cleanup stops
// it (lxc-stop -k) and removes the config; never lxc-destroy, which would
// delete the rootfs.
func StartLXC(t testing.TB, name string, conf []string, cmd ...string) *EngineContainer {
	t.Helper()
	start := NeedEngine(t, "lxc-start", "lxc")
	owner := -1
	for _, line := range conf {
		// lxc.idmap = u 0 HOSTUID COUNT: the container's root outside.
		if k, v, _ := strings.Cut(line, "="); strings.TrimSpace(k) == "lxc.idmap" {
			if f := strings.Fields(v); len(f) == 4 && f[0] == "u" && f[1] == "0" {
				owner, _ = strconv.Atoi(f[2])
			}
		}
	}
	root := copyEngineRootfs(t, owner)
	lxcpath := "/var/lib/lxc"
	if out, err := runEngine(nil, nil, "lxc-config", "lxc.lxcpath"); err == nil && out != "" {
		lxcpath = out
	}
	confDir := filepath.Join(lxcpath, name)
	for _, w := range cmd {
		if strings.ContainsAny(w, " \t\n") {
			t.Fatalf("StartLXC: LXC splits lxc.init.cmd at blanks: %q would not stay one argument", w)
		}
	}
	config := fmt.Sprintf(`lxc.uts.name = %s
lxc.rootfs.path = dir:%s
lxc.net.0.type = empty
lxc.apparmor.profile = unconfined
lxc.autodev = 1
lxc.mount.auto = proc:mixed sys:ro cgroup:mixed
lxc.init.cmd = %s
`, name, root, strings.Join(cmd, " "))
	var env []string
	for _, line := range conf {
		config += line + "\n"
		if strings.HasPrefix(line, "lxc.idmap") {
			// With newuidmap on PATH (uidmap installed) LXC insists that
			// root too holds the range in /etc/subuid, which this host's
			// does not; root may write the maps itself, which LXC does
			// when newuidmap is not on PATH.
			env = []string{"PATH=/nonexistent"}
		}
	}
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		t.Fatal(err)
	}
	c := &EngineContainer{Engine: "lxc", Name: name, Hostname: name, Rootfs: root, out: &LockedBuffer{}}
	t.Cleanup(func() { os.RemoveAll(confDir) })
	if err := os.WriteFile(filepath.Join(confDir, "config"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	lxc := exec.Command(start, "-F", "-n", name)
	lxc.Env = append(os.Environ(), env...)
	lxc.Stdout, lxc.Stderr = c.out, c.out
	c.startForeground(t, lxc)
	t.Cleanup(func() {
		// lxc-stop -k fails on a container that is not running: the
		// wait below is what counts.
		runEngine(nil, nil, "lxc-stop", "-k", "-n", name)
		c.waitEngine(t)
		c.waitInitGone(t)
	})
	WaitFor(t, 30*time.Second, func() bool {
		c.checkEngineRuns(t)
		out, err := runEngine(nil, nil, "lxc-info", "-n", name, "-pH")
		if err != nil {
			return false
		}
		c.PID, _ = strconv.Atoi(out)
		return c.PID > 0
	}, "lxc-start to start "+name)
	c.awaitCommand(t, cmd)
	return c
}

// StartNspawn starts `systemd-nspawn --register=no --keep-unit -M NAME -D
// ROOT [args...] cmd...` on a copy of EngineRootfs (with -b in args, and
// cmd naming nothing, it boots what ROOT has). With no systemd as the
// host's PID 1 it needs --register=no --keep-unit, and --keep-unit makes
// its cgroups below the caller's: the engine runs in cgroups of its own
// (EnginePrefix+name), which cleanup removes once empty. Cleanup kills the
// init and waits for nspawn.
func StartNspawn(t testing.TB, name string, args []string, cmd ...string) *EngineContainer {
	t.Helper()
	nspawn := NeedEngine(t, "systemd-nspawn", "systemd-container")
	root := CopyEngineRootfs(t)
	cgroups := engineCgroups(t, name)
	full := append([]string{"--quiet", "--register=no", "--keep-unit", "--console=pipe", "-M", name, "-D", root}, args...)
	full = append(full, cmd...)
	script := ""
	for _, cg := range cgroups {
		script += "echo $$ > " + cg + "/cgroup.procs && "
	}
	c := &EngineContainer{Engine: "nspawn", Name: name, Hostname: name, Rootfs: root, out: &LockedBuffer{}}
	ns := exec.Command("/bin/sh", append([]string{"-c", script + `exec "$@"`, "sh", nspawn}, full...)...)
	ns.Stdout, ns.Stderr = c.out, c.out
	c.startForeground(t, ns)
	t.Cleanup(func() {
		c.killInit()
		c.waitEngine(t)
		c.waitInitGone(t)
	})
	c.awaitInit(t, ns.Process.Pid)
	c.awaitCommand(t, cmd)
	return c
}

// StartBwrap starts a bubblewrap sandbox on a copy of EngineRootfs (bound
// writable at /) with PID, UTS and IPC namespaces of its own and host name
// name: `bwrap --die-with-parent --unshare-pid --unshare-uts --unshare-ipc
// --hostname NAME --bind ROOT / --proc /proc --dev /dev [args...] cmd...`.
// Its init is bwrap's own PID 1 (or cmd with --as-pid-1 in args). Cleanup
// kills the init and waits for bwrap.
func StartBwrap(t testing.TB, name string, args []string, cmd ...string) *EngineContainer {
	t.Helper()
	bwrap := NeedEngine(t, "bwrap", "bubblewrap")
	root := CopyEngineRootfs(t)
	full := append([]string{"--die-with-parent", "--unshare-pid", "--unshare-uts", "--unshare-ipc",
		"--hostname", name, "--bind", root, "/", "--proc", "/proc", "--dev", "/dev"}, args...)
	full = append(full, cmd...)
	c := &EngineContainer{Engine: "bwrap", Hostname: name, Rootfs: root, out: &LockedBuffer{}}
	bw := exec.Command(bwrap, full...)
	bw.Stdout, bw.Stderr = c.out, c.out
	c.startForeground(t, bw)
	t.Cleanup(func() {
		c.killInit()
		c.waitEngine(t)
		c.waitInitGone(t)
	})
	c.awaitInit(t, bw.Process.Pid)
	c.awaitCommand(t, cmd)
	return c
}

// startForeground starts an engine's command that runs as long as its
// container, tied to the test binary.
func (c *EngineContainer) startForeground(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	exited, waitErr, err := StartTied(cmd)
	if err != nil {
		t.Fatalf("start %s: %v", c.Engine, err)
	}
	c.exited, c.waitErr = exited, waitErr
	t.Cleanup(func() {
		// Last resort, after the engine's own cleanup (cleanups run
		// last-registered first): an engine still there is killed.
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	})
}

// checkEngineRuns fails the test if the foreground engine has exited.
func (c *EngineContainer) checkEngineRuns(t testing.TB) {
	t.Helper()
	select {
	case <-c.exited:
		t.Fatalf("%s exited before its container ran: %v\n%s", c.Engine, c.waitErr(), c.Output())
	default:
	}
}

// awaitInit finds the init of the container the engine process pid makes:
// its descendant that is PID 1 in its own PID namespace.
func (c *EngineContainer) awaitInit(t testing.TB, pid int) {
	t.Helper()
	WaitFor(t, 30*time.Second, func() bool {
		c.checkEngineRuns(t)
		c.PID = initBelow(pid, 3)
		return c.PID > 0
	}, c.Engine+" to start its container")
}

// initBelow returns the first process at most depth generations below
// pid whose PID in its own namespace is 1, or 0.
func initBelow(pid, depth int) int {
	if depth == 0 {
		return 0
	}
	for _, child := range Children(pid) {
		if innerPID(child) == 1 {
			return child
		}
		if p := initBelow(child, depth-1); p > 0 {
			return p
		}
	}
	return 0
}

// awaitCommand waits until the init or one of its children runs cmd
// (its whole argv, or the end of an interpreter's for a script), then records the init's start
// time and whether it has a user namespace of its own.
// interpreters run a container's command when it is a script.
var interpreters = map[string]bool{"sh": true, "bash": true, "dash": true, "busybox": true, "python3": true}

func (c *EngineContainer) awaitCommand(t testing.TB, cmd []string) {
	t.Helper()
	WaitFor(t, 30*time.Second, func() bool {
		if c.exited != nil {
			c.checkEngineRuns(t)
		}
		if len(cmd) == 0 {
			return true
		}
		want := []byte(strings.Join(cmd, "\x00") + "\x00")
		for _, pid := range append([]int{c.PID}, Children(c.PID)...) {
			// The command itself, or a script run by its interpreter. Not
			// the engine's own process before it execs the command: its
			// command line (systemd-nspawn ... /bin/sleep 1000, bwrap ...)
			// ends with the command too, and its container is not set up
			// yet (no hostname, no cgroup namespace).
			data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			if bytes.Equal(data, want) {
				return true
			}
			argv0, _, _ := bytes.Cut(data, []byte{0})
			if interpreters[filepath.Base(string(argv0))] && bytes.HasSuffix(data, append([]byte{0}, want...)) {
				return true
			}
		}
		return false
	}, fmt.Sprintf("%s to run %q", c, cmd))
	c.startTime = procStartTime(c.PID)
	if c.startTime == "" {
		t.Fatalf("%s exited at once\n%s", c, c.Output())
	}
	mine, _ := os.Readlink("/proc/self/ns/user")
	theirs, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", c.PID))
	c.UserNS = theirs != "" && theirs != mine
}

// killInit sends SIGKILL to the init if it still is the process the test
// started, which ends the container.
func (c *EngineContainer) killInit() {
	if c.PID <= 0 {
		return
	}
	fd, err := unix.PidfdOpen(c.PID, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	// Before awaitCommand recorded it, the init found below the engine
	// a moment ago is taken as it is.
	if now := procStartTime(c.PID); now != "" && (c.startTime == "" || now == c.startTime) {
		unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	}
}

// waitEngine waits for a foreground engine's process to exit.
func (c *EngineContainer) waitEngine(t testing.TB) {
	t.Helper()
	if c.exited == nil {
		return
	}
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		t.Errorf("%s did not exit within 30 s of its container's end\n%s", c.Engine, c.Output())
	}
}

// waitInitGone waits until the container's init has exited, and with it
// (PID 1 of its namespace) every process of the container.
func (c *EngineContainer) waitInitGone(t testing.TB) {
	t.Helper()
	if c.PID <= 0 || c.startTime == "" {
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for procStartTime(c.PID) == c.startTime {
		if time.Now().After(deadline) {
			t.Errorf("%s still running 30 s after its cleanup", c)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// procStartTime returns the start time field of /proc/PID/stat, or "" for
// a process that is gone or a zombie.
func procStartTime(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(data[i+1:]))
	// After the comm: state is field 3, starttime field 22.
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return ""
	}
	return f[19]
}

// engineCgroups makes the cgroup EnginePrefix+name in the hierarchies
// systemd tools use (name=systemd and unified on a hybrid host, the one
// hierarchy on v2) and returns their directories; cleanup removes them and
// whatever the engine made below, once empty.
func engineCgroups(t testing.TB, name string) []string {
	t.Helper()
	var roots []string
	for _, root := range []string{"/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"} {
		if _, err := os.Stat(filepath.Join(root, "cgroup.procs")); err == nil {
			roots = append(roots, root)
		}
	}
	if len(roots) == 0 {
		if _, err := os.Stat("/sys/fs/cgroup/cgroup.procs"); err != nil {
			engineUnavailable(t, "no cgroup hierarchy for systemd tools at /sys/fs/cgroup (systemd, unified, or v2)")
		}
		roots = []string{"/sys/fs/cgroup"}
	}
	if !strings.HasPrefix(name, EnginePrefix) {
		name = EnginePrefix + name
	}
	var dirs []string
	t.Cleanup(func() {
		for _, dir := range dirs {
			var all []string
			filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					all = append(all, p)
				}
				return nil
			})
			sort.Sort(sort.Reverse(sort.StringSlice(all))) // deepest first
			deadline := time.Now().Add(10 * time.Second)
			for _, p := range all {
				for {
					err := os.Remove(p)
					if err == nil || os.IsNotExist(err) {
						break
					}
					if time.Now().After(deadline) {
						t.Errorf("remove cgroup %s: %v", p, err)
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
		}
	})
	for _, root := range roots {
		dir := filepath.Join(root, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatalf("make a cgroup for the engine: %v", err)
		}
		dirs = append(dirs, dir)
	}
	return dirs
}
