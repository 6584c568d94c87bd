package testutil

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// StartTimeout bounds how long StartUnshare waits for the container's init
// to exec the requested program.
var StartTimeout = 10 * time.Second

// StartUnshare starts a container the way the seed blog post does:
//
//	unshare --pid --fork --mount-proc=ROOTFS/proc chroot ROOTFS ARGS...
//
// (with --kill-child, so the container dies with unshare), waits until the
// container's init (unshare's child, PID 1 in its namespace) has exec'd
// ARGS, and returns the init's host PID. args must name the program by its
// path inside the rootfs, e.g. "/bin/sleep", "1000".
//
// The test's cleanup kills the init (which takes the whole PID namespace
// with it), waits for unshare, and fails the test if any mount under
// rootfs is left in the test process's mount namespace.
func StartUnshare(t testing.TB, rootfs string, args ...string) int {
	t.Helper()
	RequireRoot(t, "StartUnshare makes PID and mount namespaces and chroots")
	if len(args) == 0 {
		t.Fatal("StartUnshare: no program given to run in the container")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skipf("needs util-linux unshare: %v", err)
	}
	rootfs, err = filepath.Abs(rootfs)
	if err != nil {
		t.Fatal(err)
	}
	cmdArgs := append([]string{"--pid", "--fork", "--kill-child", "--mount-proc=" + filepath.Join(rootfs, "proc"),
		"chroot", rootfs}, args...)
	cmd := exec.Command(unshare, cmdArgs...)
	out := &LockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// If the test binary dies, unshare dies (StartTied), and --kill-child
	// takes the container with it: no orphaned sleep 1000 after a crashed
	// test.
	exited, waitErr, err := StartTied(cmd)
	if err != nil {
		t.Fatalf("start %s: %v", cmd, err)
	}

	var initProc *os.Process
	initPID := 0
	t.Cleanup(func() {
		if initProc != nil {
			initProc.Kill() // pidfd-backed: never hits a reused PID
			initProc.Release()
		}
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Errorf("unshare (container init %d) did not exit within 10s of SIGKILL to the init", initPID)
		}
		if left, err := MountsUnder(rootfs); err != nil {
			t.Errorf("check mounts under %s: %v", rootfs, err)
		} else if len(left) > 0 {
			t.Errorf("mounts left under %s after the container ended: %s", rootfs, strings.Join(left, ", "))
		}
	})

	deadline := time.Now().Add(StartTimeout)
	delay := time.Millisecond
	for {
		select {
		case <-exited:
			t.Fatalf("%s exited before the container started: %v\n%s", cmd, waitErr(), out.String())
		default:
		}
		if initPID == 0 {
			if pid := childOf(cmd.Process.Pid); pid > 0 && innerPID(pid) == 1 {
				initPID = pid
				if p, err := os.FindProcess(pid); err == nil {
					initProc = p
				}
			}
		}
		if initPID != 0 && cmdlineIs(initPID, args) {
			return initPID
		}
		if time.Now().After(deadline) {
			t.Fatalf("container init of %s did not exec %q within %v\n%s", cmd, args, StartTimeout, out.String())
		}
		time.Sleep(delay)
		if delay < 10*time.Millisecond {
			delay *= 2
		}
	}
}

// childOf returns a child of pid, or 0. unshare --fork has exactly one.
func childOf(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err == nil {
		if f := strings.Fields(string(data)); len(f) > 0 {
			n, _ := strconv.Atoi(f[0])
			return n
		}
		return 0
	}
	// Kernels without CONFIG_PROC_CHILDREN: scan every process's PPid.
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _ := statusField(n, "PPid"); ppid == strconv.Itoa(pid) {
			return n
		}
	}
	return 0
}

// innerPID is the last NSpid of pid: its PID in its own PID namespace.
func innerPID(pid int) int {
	v, ok := statusField(pid, "NSpid")
	if !ok {
		return 0
	}
	f := strings.Fields(v)
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(f[len(f)-1])
	return n
}

func statusField(pid int, key string) (string, bool) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && k == key {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

func cmdlineIs(pid int, args []string) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	return string(data) == strings.Join(args, "\x00")+"\x00"
}
