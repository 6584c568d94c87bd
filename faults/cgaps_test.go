package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"boxtui/internal/testutil"
	"boxtui/runtime/state"
)

// runWithFDs runs boxtui with env added and a host directory open on fds
// 3-7 (not close-on-exec), as a careless caller might leave it.
func (c *cli) runWithFDs(env []string, hostDir *os.File, args ...string) (string, string, int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = append(append([]string{}, c.env...), env...)
	cmd.ExtraFiles = []*os.File{hostDir, hostDir, hostDir, hostDir, hostDir}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		c.t.Fatalf("boxtui %q hung", args)
	}
	var exit *exec.ExitError
	code := 0
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// fdsTo lists pid's fds that point at path.
func fdsTo(pid int, path string) []string {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	var fds []string
	for _, e := range ents {
		if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name())); l == path {
			fds = append(fds, e.Name())
		}
	}
	return fds
}

// launchModes are the ways a launch can go: the C init from a zygote in
// a client that is its own holder, in a preforked holder, from an exec'd
// boxtui, and the Go init.
var launchModes = [][]string{
	nil, {"BOXTUI_OWN_HOLDER=0"}, {"BOXTUI_PREFORK=0"}, {"BOXTUI_INIT_STAGE=exec"}, {"BOXTUI_INIT_STAGE=go"},
}

// TestCallerFDsReachNoContainerProcess: an fd the caller of `boxtui run`
// left open (here a host directory: with it a process inside could
// fchdir out of its root) reaches neither the container's command nor
// the holder, which lives as long as the container, whichever way the
// launch goes.
func TestCallerFDsReachNoContainerProcess(t *testing.T) {
	c := newCLI(t)
	rootfs := testutil.Rootfs(t)
	hostPath := t.TempDir()
	hostDir, err := os.Open(hostPath)
	if err != nil {
		t.Fatal(err)
	}
	defer hostDir.Close()
	for i, env := range launchModes {
		out, errOut, code := c.runWithFDs(env, hostDir, "run", "--rm", "--rootfs", rootfs, "--", "/bin/sh", "-c", "ls /proc/1/fd; true")
		if code != 0 || strings.Join(strings.Fields(out), " ") != "0 1 2" {
			t.Errorf("%v: the command has fds %q (exit %d, %q), want only 0 1 2", env, out, code, errOut)
		}
		name := fmt.Sprintf("cgaps-fds-%d", i)
		if _, errOut, code := c.runWithFDs(env, hostDir, "run", "-d", "--name", name, "--rootfs", rootfs, "--", "/bin/sleep", "1000"); code != 0 {
			t.Fatalf("%v: run -d: exit %d, %q", env, code, errOut)
		}
		st, err := state.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, pid := range []int{st.HolderPID, st.InitPID} {
			if fds := fdsTo(pid, hostPath); len(fds) > 0 {
				t.Errorf("%v: process %d of %s holds the caller's host directory on fds %v", env, pid, name, fds)
			}
		}
		c.try("rm", "-f", name)
	}
}
