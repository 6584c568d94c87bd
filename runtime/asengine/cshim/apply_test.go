//go:build cgo

package cshim

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/asengine"
	"boxtui/runtime/asengine/enginetest"

	"golang.org/x/sys/unix"
)

// planFor reads the profile of process pid and makes the plan the exec
// stage would get, with the cgroup.procs fds open in this process (a
// forked child inherits them).
func planFor(t *testing.T, pid int) (*asengine.Profile, []byte) {
	t.Helper()
	p, err := asengine.Read(pid, 0, asengine.Options{Seccomp: true})
	if err != nil {
		t.Fatal(err)
	}
	pl, err := p.Plan()
	if err != nil {
		t.Fatal(err)
	}
	procs, skipped, err := asengine.OpenCgroupProcs(p.Cgroups)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) > 0 {
		t.Fatalf("skipped cgroups %+v", skipped)
	}
	t.Cleanup(func() {
		for _, c := range procs {
			c.File.Close()
		}
	})
	for _, c := range procs {
		pl.CgroupFDs = append(pl.CgroupFDs, int(c.File.Fd()))
	}
	enc, err := pl.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return p, enc
}

// reap kills and reaps a child of the test at cleanup.
func reap(t *testing.T, pid int) {
	t.Cleanup(func() {
		unix.Kill(pid, unix.SIGKILL)
		var ws unix.WaitStatus
		for {
			if _, err := unix.Wait4(pid, &ws, unix.WALL, nil); !errors.Is(err, unix.EINTR) {
				return
			}
		}
	})
}

// reapHelper reaps the child that waits for the process that exec'd
// (killed first by its own cleanup): the helper reaps it and exits, so
// nothing is left for the host's PID 1.
func reapHelper(t *testing.T, pid int) {
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			var ws unix.WaitStatus
			got, err := unix.Wait4(pid, &ws, unix.WALL|unix.WNOHANG, nil)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil || got == pid {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("helper %d did not exit after its child", pid)
				unix.Kill(pid, unix.SIGKILL)
				unix.Wait4(pid, &ws, unix.WALL, nil)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

var compared = []string{"Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters"}

func statusFields(t *testing.T, pid int) map[string]string {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

func readProc(t *testing.T, pid int, name string) string {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// sameAsInit checks that the child got what the engine gave the init: the
// status lines of every credential, the cgroup of every hierarchy, the
// environment and the seccomp filters instruction by instruction.
func sameAsInit(t *testing.T, initPID, child int) {
	t.Helper()
	want, got := statusFields(t, initPID), statusFields(t, child)
	for _, k := range compared {
		if want[k] != got[k] {
			t.Errorf("%s: init %q, child %q", k, want[k], got[k])
		}
	}
	if w, g := readProc(t, initPID, "cgroup"), readProc(t, child, "cgroup"); w != g {
		t.Errorf("cgroups differ:\ninit  %s\nchild %s", w, g)
	}
	if w, g := readProc(t, initPID, "limits"), readProc(t, child, "limits"); w != g {
		t.Errorf("limits differ:\ninit  %s\nchild %s", w, g)
	}
	if w, g := readProc(t, initPID, "environ"), readProc(t, child, "environ"); w != g {
		t.Errorf("environ: init %q, child %q", w, g)
	}
	wp, err := asengine.Read(initPID, 0, asengine.Options{Seccomp: true})
	if err != nil {
		t.Fatal(err)
	}
	gp, err := asengine.Read(child, 0, asengine.Options{Seccomp: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(wp.Filters, gp.Filters) {
		t.Errorf("seccomp filters differ: init %d filters, child %d", len(wp.Filters), len(gp.Filters))
	}
}

// TestApplyGivesTheInitsProfile reads the profiles of real containers'
// inits, applies each in a forked child exactly as the exec stage does
// (cgroups, then credentials, capabilities, no_new_privs, seccomp) and
// execs sleep: the child's /proc must then read as the init's, and the
// engine's own `top` must list it.
func TestApplyGivesTheInitsProfile(t *testing.T) {
	testutil.RequireRoot(t, "reads seccomp filters and joins cgroups")
	for _, c := range []struct {
		name, engine string
		args         []string
	}{
		{"default", "docker", nil},
		// Not root, no_new_privs (filters loaded last), capabilities in
		// the bounding set only, a supplementary group.
		{"user", "docker", []string{"--user", "1234:1234", "--group-add", "777", "--security-opt", "no-new-privileges",
			"--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE", "--cap-add", "CHOWN"}},
		{"podman", "podman", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var initPID int
			if c.engine == "docker" {
				initPID = enginetest.Docker(t, "apply-"+c.name, c.args, "sleep", "1d")
			} else {
				initPID = enginetest.Podman(t, "apply-"+c.name, c.args, "sleep", "1d")
			}
			p, enc := planFor(t, initPID)
			// In the container's PID namespace too (podman top lists
			// only the processes there; docker top, the cgroup's).
			pidns, err := unix.Open("/proc/"+strconv.Itoa(initPID)+"/ns/pid", unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(pidns)
			child, helper, err := Spawn(enc, []int{pidns}, -1, true, -1, []string{"/bin/sleep", "1000"}, p.Env)
			if err != nil {
				t.Fatal(err)
			}
			reapHelper(t, helper) // after the child, which cleanups kill first
			reap(t, child)
			sameAsInit(t, initPID, child)
			// docker top lists host PIDs; podman top lists the
			// container's own unless asked for hpid.
			args := []string{"top", enginetest.Name("apply-" + c.name), "-eo", "pid"}
			if c.engine == "podman" {
				args = []string{"top", enginetest.Name("apply-" + c.name), "hpid"}
			}
			out, err := enginetest.Run(c.engine, args...)
			if err != nil {
				t.Fatalf("%s top: %v: %s", c.engine, err, out)
			}
			if !regexp.MustCompile(`(?m)^\s*` + strconv.Itoa(child) + `\s*$`).MatchString(out) {
				t.Errorf("%s top does not list the child %d:\n%s", c.engine, child, out)
			}
		})
	}
}

// recvFD receives one fd sent with SCM_RIGHTS.
func recvFD(t *testing.T, sock int) *os.File {
	t.Helper()
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(sock, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control message: %v %d", err, len(msgs))
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("rights: %v %v", err, fds)
	}
	return os.NewFile(uintptr(fds[0]), "pty master")
}

// readAll reads a PTY master until the slave side is gone (EIO), with a
// deadline.
func readAll(t *testing.T, f *os.File) string {
	t.Helper()
	done := make(chan []byte, 1)
	go func() {
		var b bytes.Buffer
		io.Copy(&b, f)
		done <- b.Bytes()
	}()
	select {
	case out := <-done:
		return string(out)
	case <-time.After(20 * time.Second):
		f.Close()
		t.Fatal("no end of output from the terminal")
	}
	return ""
}

func socketpair(t *testing.T) (parent, child int) {
	t.Helper()
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(sp[0]); unix.Close(sp[1]) })
	return sp[0], sp[1]
}

// TestTerminalFromTheContainersDevpts: after joining a docker container's
// mount namespace and root, the stage opens the terminal from the
// container's own devpts, so `tty` works inside, and the master reaches the
// parent over a unix socket.
func TestTerminalFromTheContainersDevpts(t *testing.T) {
	testutil.RequireRoot(t, "joins a container's mount namespace")
	initPID := enginetest.Docker(t, "pty", nil, "sleep", "1d")
	p, enc := planFor(t, initPID)
	var nsfds []int
	for _, ns := range []string{"pid", "mnt"} {
		fd, err := unix.Open("/proc/"+strconv.Itoa(initPID)+"/ns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		nsfds = append(nsfds, fd)
	}
	root, err := unix.Open("/proc/"+strconv.Itoa(initPID)+"/root", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(root)
	parent, childSock := socketpair(t)
	// The image has no tty(1): readlink of fd 0 is what ttyname does.
	child, helper, err := Spawn(enc, nsfds, root, true, childSock,
		[]string{"/bin/sh", "-c", "readlink /proc/self/fd/0; test -t 0 && echo ISATTY; ls -1 /dev/pts; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status"}, p.Env)
	if err != nil {
		t.Fatal(err)
	}
	reapHelper(t, helper) // after the child, which cleanups kill first
	reap(t, child)
	master := recvFD(t, parent)
	defer master.Close()
	var mst, pts unix.Stat_t
	if err := unix.Fstat(int(master.Fd()), &mst); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat("/proc/"+strconv.Itoa(initPID)+"/root/dev/pts", &pts); err != nil {
		t.Fatal(err)
	}
	if mst.Dev != pts.Dev {
		t.Errorf("the master is not of the container's devpts (dev %d, the container's %d)", mst.Dev, pts.Dev)
	}
	out := strings.ReplaceAll(readAll(t, master), "\r", "")
	lines := strings.Split(out, "\n")
	m := regexp.MustCompile(`^/dev/pts/(\d+)$`).FindStringSubmatch(lines[0])
	if m == nil {
		t.Fatalf("tty printed %q, want /dev/pts/N:\n%s", lines[0], out)
	}
	if !strings.Contains(out, "\nISATTY\n") {
		t.Errorf("stdin is not a terminal inside:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^` + m[1] + `$`).MatchString(out) {
		t.Errorf("the container's /dev/pts has no %s:\n%s", m[1], out)
	}
	want := statusFields(t, initPID)
	for _, k := range []string{"CapEff", "NoNewPrivs", "Seccomp"} {
		if !strings.Contains(out, k+":\t"+want[k]) {
			t.Errorf("%s is not the init's %q:\n%s", k, want[k], out)
		}
	}
}

// hostileRoot makes a root on its own tmpfs (private, so nothing
// propagates) and unmounts it all at cleanup.
func hostileRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := unix.Mount("tmpfs", root, "tmpfs", 0, "mode=0755"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(root, unix.MNT_DETACH) })
	if err := unix.Mount("", root, "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "dev"), 0o755); err != nil {
		t.Fatal(err)
	}
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("needs a static busybox to run in the hostile root")
	}
	data, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func mountDevpts(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("devpts", dir, "devpts", 0, "newinstance,ptmxmode=0666,mode=0620"); err != nil {
		t.Fatal(err)
	}
}

// TestHostileDevptsIsRefused: the container's /dev is the container's to
// shape. Its terminal comes only from a real devpts mounted at /dev/pts,
// through its ptmx or a /dev/ptmx that is the ptmx device; anything else
// is refused in one line, and nothing is opened through a symlink.
func TestHostileDevptsIsRefused(t *testing.T) {
	testutil.RequireRoot(t, "mounts and chroots")
	plan, err := (&asengine.Plan{LastCap: 40}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		setup func(t *testing.T, root string)
		want  string // "" : a terminal of root/dev/pts
	}{
		{"plain directory", func(t *testing.T, root string) {
			os.MkdirAll(filepath.Join(root, "dev/pts"), 0o755)
			unix.Mknod(filepath.Join(root, "dev/pts/ptmx"), unix.S_IFCHR|0o666, int(unix.Mkdev(5, 2)))
		}, "is not a devpts mount"},
		{"symlink to the host's", func(t *testing.T, root string) {
			os.Symlink("/proc/1/root/dev/pts", filepath.Join(root, "dev/pts"))
		}, "a symlink is refused"},
		{"ptmx covered, /dev/ptmx another device", func(t *testing.T, root string) {
			mountDevpts(t, filepath.Join(root, "dev/pts"))
			if err := unix.Mount("/dev/null", filepath.Join(root, "dev/pts/ptmx"), "", unix.MS_BIND, ""); err != nil {
				t.Fatal(err)
			}
			unix.Mknod(filepath.Join(root, "dev/ptmx"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3)))
		}, "no usable ptmx"},
		{"ptmx covered, /dev/ptmx a symlink out", func(t *testing.T, root string) {
			mountDevpts(t, filepath.Join(root, "dev/pts"))
			if err := unix.Mount("/dev/null", filepath.Join(root, "dev/pts/ptmx"), "", unix.MS_BIND, ""); err != nil {
				t.Fatal(err)
			}
			os.Symlink("/proc/self/fd/0", filepath.Join(root, "dev/ptmx"))
		}, "no usable ptmx"},
		{"devpts", func(t *testing.T, root string) {
			mountDevpts(t, filepath.Join(root, "dev/pts"))
		}, ""},
		{"ptmx covered, /dev/ptmx the device", func(t *testing.T, root string) {
			mountDevpts(t, filepath.Join(root, "dev/pts"))
			if err := unix.Mount("/dev/null", filepath.Join(root, "dev/pts/ptmx"), "", unix.MS_BIND, ""); err != nil {
				t.Fatal(err)
			}
			if err := unix.Mknod(filepath.Join(root, "dev/ptmx"), unix.S_IFCHR|0o666, int(unix.Mkdev(5, 2))); err != nil {
				t.Fatal(err)
			}
		}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := hostileRoot(t)
			c.setup(t, root)
			rootfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(rootfd)
			parent, childSock := socketpair(t)
			child, _, err := Spawn(plan, nil, rootfd, false, childSock, []string{"/busybox", "tty"}, nil)
			if c.want != "" {
				if err == nil {
					reap(t, child)
					t.Fatalf("got a terminal, want %q", c.want)
				}
				if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("got %q, want %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			reap(t, child)
			master := recvFD(t, parent)
			defer master.Close()
			var mst, pts unix.Stat_t
			unix.Fstat(int(master.Fd()), &mst)
			unix.Stat(filepath.Join(root, "dev/pts"), &pts)
			if out := strings.TrimSpace(readAll(t, master)); !regexp.MustCompile(`^/dev/pts/\d+$`).MatchString(out) {
				t.Errorf("tty printed %q", out)
			}
			if c.name == "devpts" && mst.Dev != pts.Dev {
				t.Errorf("master of another devpts")
			}
		})
	}
}
