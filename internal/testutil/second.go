package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// StartSecondShell starts the seed's second shell in the container whose
// init is initPID:
//
//	nsenter --pid=/proc/INIT/ns/pid unshare --fork --kill-child --mount \
//	    --uts --mount-proc=ROOTFS/proc chroot ROOTFS /bin/sh -c \
//	    'hostname HOSTNAME; exec ARGS...'
//
// a process in the container's PID namespace with a mount and a UTS
// namespace of its own, whose parent chain leaves the container (it joined
// from outside). It waits until the shell has exec'd ARGS and returns its
// host PID. The test's cleanup kills it and waits for nsenter; the
// container's own end takes it along too.
func StartSecondShell(t testing.TB, initPID int, rootfs, hostname string, args ...string) int {
	t.Helper()
	RequireRoot(t, "StartSecondShell joins a PID namespace and makes mount and UTS namespaces")
	if len(args) == 0 {
		t.Fatal("StartSecondShell: no program given to run in the second shell")
	}
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		t.Skipf("needs util-linux nsenter: %v", err)
	}
	rootfs, err = filepath.Abs(rootfs)
	if err != nil {
		t.Fatal(err)
	}
	script := "hostname " + hostname + " && exec"
	for _, a := range args {
		script += " '" + a + "'"
	}
	cmd := exec.Command(nsenter, fmt.Sprintf("--pid=/proc/%d/ns/pid", initPID), "--",
		"unshare", "--fork", "--kill-child", "--mount", "--uts", "--mount-proc="+filepath.Join(rootfs, "proc"),
		"chroot", rootfs, "/bin/sh", "-c", script)
	out := &LockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// nsenter dies with the test binary (StartTied).
	exited, _, err := StartTied(cmd)
	if err != nil {
		t.Fatalf("start %s: %v", cmd, err)
	}
	var shell *os.Process
	t.Cleanup(func() {
		if shell != nil {
			shell.Kill()
			shell.Release()
		}
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Errorf("the second shell's nsenter did not exit within 10s of SIGKILL to the shell")
		}
	})
	pid := 0
	deadline := time.Now().Add(StartTimeout)
	for {
		select {
		case <-exited:
			t.Fatalf("%s exited before the second shell started\n%s", cmd, out.String())
		default:
		}
		if pid == 0 {
			if u := childOf(cmd.Process.Pid); u > 0 {
				if p := childOf(u); p > 0 {
					pid = p
					if sp, err := os.FindProcess(p); err == nil {
						shell = sp
					}
				}
			}
		}
		if pid != 0 && cmdlineIs(pid, args) {
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second shell of %s did not exec %q within %v\n%s", cmd, args, StartTimeout, out.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
}
