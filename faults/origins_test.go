package faults

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"
	"boxtui/runtime/procfs"
)

// TestOriginsOfRealEngines starts a real bubblewrap sandbox (PID 1 is bwrap
// itself, and with --as-pid-1 the command), a real systemd-nspawn container
// (--register=no --keep-unit: no systemd or machined on this host, so its
// cgroup names no engine and only its parent process says nspawn), a plain
// unshare container and a boxtui one, and checks the ORIGIN `boxtui ls
// --json` gives each. Hostile: an unshare container whose init is a program
// named bwrap (its exe, comm and cmdline all say bwrap) stays unshare, and
// one named boxtui is not boxtui's. discovery.FindInit (TARGET by PID) must
// agree.
func TestOriginsOfRealEngines(t *testing.T) {
	c := newCLI(t)
	rootfs := testutil.FreshRootfs(t)
	mark := marker()

	type want struct {
		what   string
		pid    int
		origin discovery.Origin
	}
	var wants []want

	unshareInit := testutil.StartUnshare(t, rootfs, "/bin/sleep", mark)
	wants = append(wants, want{"unshare container", unshareInit, discovery.OriginUnshare})

	// The container names its init bwrap, and boxtui: what it controls.
	for _, name := range []string{"bwrap", "boxtui", "systemd-nspawn"} {
		copyFile(t, filepath.Join(rootfs, "usr/bin/sleep"), filepath.Join(rootfs, "usr/bin", name))
		pid := testutil.StartUnshare(t, rootfs, "/bin/"+name, mark)
		wants = append(wants, want{"unshare container whose init is named " + name, pid, discovery.OriginUnshare})
	}

	ct := c.detached("orig-"+strings.ReplaceAll(mark, ".", ""), rootfs, "/bin/sleep", mark)
	wants = append(wants, want{"boxtui container", ct.PID, discovery.OriginBoxtui})

	if bwrap, err := exec.LookPath("bwrap"); err != nil {
		t.Errorf("bwrap is not installed (apt-get install bubblewrap; .ci/run does): %v", err)
	} else {
		common := []string{"--die-with-parent", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"}
		init := startEngine(t, "bwrap", nil, bwrap, append(append([]string{"--unshare-pid"}, common...), "sleep", mark)...)
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", init)); filepath.Base(exe) != "bwrap" {
			t.Errorf("bwrap's PID 1 runs %s: expected bwrap itself", exe)
		}
		wants = append(wants, want{"bwrap --unshare-pid sandbox", init, discovery.OriginBwrap})
		init = startEngine(t, "bwrap --as-pid-1", nil, bwrap, append(append([]string{"--unshare-pid", "--as-pid-1"}, common...), "sleep", mark)...)
		wants = append(wants, want{"bwrap --as-pid-1 sandbox", init, discovery.OriginBwrap})
	}

	if nspawn, err := exec.LookPath("systemd-nspawn"); err != nil {
		t.Errorf("systemd-nspawn is not installed (apt-get install systemd-container; .ci/run does): %v", err)
	} else {
		// --keep-unit puts the container in payload/ and nspawn in
		// supervisor/ below nspawn's own cgroup, and leaves both behind: a
		// cgroup of the test's own keeps them apart from any other nspawn.
		cgroups := testCgroups(t, "boxtui-origins-"+strconv.Itoa(os.Getpid()))
		init := startEngine(t, "systemd-nspawn", cgroups, nspawn, "--register=no", "--keep-unit", "--quiet",
			"--console=pipe", "-D", rootfs, "/bin/sleep", mark)
		wants = append(wants, want{"systemd-nspawn container", init, discovery.OriginNspawn})
	}

	listed := map[int]discovery.Container{}
	for _, ct := range c.ls(false) {
		listed[ct.PID] = ct
	}
	for _, w := range wants {
		ct, ok := listed[w.pid]
		switch {
		case !ok:
			t.Errorf("%s (init %d) is not in boxtui ls --json", w.what, w.pid)
		case ct.Origin != w.origin:
			t.Errorf("%s (init %d): origin %q, want %q", w.what, w.pid, ct.Origin, w.origin)
		}
		if w.origin == discovery.OriginBoxtui {
			continue // FindInit by PID does not read boxtui's state
		}
		// TARGET resolution by PID (exec, mount...) reads the origin its
		// own way: the same answer.
		if ct, err := discovery.FindInit(strconv.Itoa(w.pid)); err != nil {
			t.Errorf("FindInit(%d) for %s: %v", w.pid, w.what, err)
		} else if ct.Origin != w.origin {
			t.Errorf("FindInit(%d) for %s: origin %q, want %q", w.pid, w.what, ct.Origin, w.origin)
		}
	}
}

// startEngine runs an engine's command that makes a PID namespace, in the
// given cgroup directories (none: the test's own), and returns the host PID
// of the namespace's init once a process in it runs the command's last
// argument (the test's marker). Cleanup kills the init, which ends the
// namespace, and waits for the engine to exit; the engine dies with the
// test (Pdeathsig).
func startEngine(t *testing.T, what string, cgroups []string, path string, args ...string) int {
	t.Helper()
	mark := args[len(args)-1]
	cmd := exec.Command(path, args...)
	if len(cgroups) > 0 {
		// Join the cgroups, then become the engine.
		script := ""
		for _, cg := range cgroups {
			script += "echo $$ > " + cg + "/cgroup.procs && "
		}
		cmd = exec.Command("/bin/sh", append([]string{"-c", script + `exec "$@"`, "sh", path}, args...)...)
	}
	out := &testutil.LockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	exited, _, err := testutil.StartTied(cmd)
	if err != nil {
		t.Fatalf("start %s: %v", what, err)
	}
	var initProc *os.Process
	t.Cleanup(func() {
		if initProc != nil {
			initProc.Kill() // pidfd-backed: never a reused PID
			initProc.Release()
		}
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Errorf("%s did not exit within 10s of SIGKILL to its container's init\n%s", what, out.String())
		}
	})

	init := 0
	testutil.WaitFor(t, 10*time.Second, func() bool {
		select {
		case <-exited:
			t.Fatalf("%s exited before its container started:\n%s", what, out.String())
		default:
		}
		if init == 0 {
			for _, pid := range testutil.Children(cmd.Process.Pid) {
				if innerPIDOf(pid) == 1 {
					init = pid
					initProc, _ = os.FindProcess(pid)
				}
			}
			if init == 0 {
				return false
			}
		}
		// The command runs as the init or as its child.
		for _, pid := range append([]int{init}, testutil.Children(init)...) {
			if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && bytes.HasSuffix(data, []byte(mark+"\x00")) {
				return true
			}
		}
		return false
	}, what+" to run its command")
	return init
}

// innerPIDOf returns the PID pid has in its own PID namespace, or 0.
func innerPIDOf(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	st, err := procfs.ParseStatus(bytes.NewReader(data))
	if err != nil {
		return 0
	}
	return st.InnerPID()
}

// testCgroups makes a cgroup called name in the hierarchies systemd tools
// go by (name=systemd and the unified one on a hybrid host, the single one
// on cgroup v2) and returns their directories. Cleanup removes them with
// whatever was made below them, once empty.
func testCgroups(t *testing.T, name string) []string {
	t.Helper()
	var roots []string
	for _, root := range []string{"/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"} {
		if _, err := os.Stat(filepath.Join(root, "cgroup.procs")); err == nil {
			roots = append(roots, root)
		}
	}
	if len(roots) == 0 {
		if _, err := os.Stat("/sys/fs/cgroup/cgroup.procs"); err != nil {
			t.Skip("no cgroup hierarchy for systemd tools at /sys/fs/cgroup (systemd, unified, or v2)")
		}
		roots = []string{"/sys/fs/cgroup"}
	}
	var dirs []string
	for _, root := range roots {
		dir := filepath.Join(root, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatalf("make a test cgroup: %v", err)
		}
		dirs = append(dirs, dir)
	}
	t.Cleanup(func() {
		for _, dir := range dirs {
			// Deepest first; a cgroup goes away only once its
			// processes have (the engine is waited for by now, but
			// the kernel may lag behind).
			var all []string
			filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					all = append(all, p)
				}
				return nil
			})
			deadline := time.Now().Add(10 * time.Second)
			for i := len(all) - 1; i >= 0; i-- {
				for {
					err := os.Remove(all[i])
					if err == nil || os.IsNotExist(err) {
						break
					}
					if time.Now().After(deadline) {
						t.Errorf("remove test cgroup %s: %v", all[i], err)
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
		}
	})
	return dirs
}

// copyFile copies the regular file src to dst, executable.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
}
