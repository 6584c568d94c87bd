package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

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
