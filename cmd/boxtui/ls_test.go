package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"boxtui/internal/testutil"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// runCLI runs the CLI in-process and returns stdout, stderr and the exit code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	resetFlags(rootCmd)
	var out, errb bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&errb)
	defer rootCmd.SetOut(nil)
	defer rootCmd.SetErr(nil)
	code := executeTo(args, &errb)
	return out.String(), errb.String(), code
}

// resetFlags puts every flag back to its default, since in-process runs
// share one command tree.
func resetFlags(c *cobra.Command) {
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			sv.Replace(nil)
		} else {
			f.Value.Set(f.DefValue)
		}
		f.Changed = false
	})
	for _, sub := range c.Commands() {
		resetFlags(sub)
	}
}

func TestLsJSONKeysAndInodes(t *testing.T) {
	testutil.RequireRoot(t, "the container is made with unshare and chroot")
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	rootfs := testutil.Rootfs(t)
	pid := testutil.StartUnshare(t, rootfs, "/bin/sleep", "1000")

	var objs []map[string]json.RawMessage
	testutil.WaitFor(t, 10*time.Second, func() bool {
		out, _, code := runCLI(t, "ls", "--json")
		if code != 0 {
			t.Fatalf("ls --json exited %d", code)
		}
		objs = nil
		if err := json.Unmarshal([]byte(out), &objs); err != nil {
			t.Fatalf("ls --json is not a JSON array: %v\n%s", err, out)
		}
		for _, o := range objs {
			if string(o["pid"]) == fmt.Sprint(pid) {
				return true
			}
		}
		return false
	}, "the container in ls --json")
	for _, o := range objs {
		if string(o["pid"]) != fmt.Sprint(pid) {
			continue
		}
		for _, k := range []string{"name", "pid", "origin", "command", "root", "processes", "namespaces"} {
			if _, ok := o[k]; !ok {
				t.Errorf("key %q missing", k)
			}
		}
		var name, origin, root string
		var procs int
		json.Unmarshal(o["name"], &name)
		json.Unmarshal(o["origin"], &origin)
		json.Unmarshal(o["root"], &root)
		json.Unmarshal(o["processes"], &procs)
		if name != "" || origin != "unshare" || root != rootfs || procs != 1 {
			t.Errorf("name %q origin %q root %q processes %d", name, origin, root, procs)
		}
		var ns map[string]uint64
		if err := json.Unmarshal(o["namespaces"], &ns); err != nil {
			t.Fatal(err)
		}
		if len(ns) != 10 {
			t.Errorf("namespaces has %d keys, want 10: %v", len(ns), ns)
		}
		for typ, ino := range ns {
			link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, typ))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(link, fmt.Sprintf("[%d]", ino)) {
				t.Errorf("%s: ls says %d, kernel says %s", typ, ino, link)
			}
		}
	}

	// The table marks shared namespaces and names the columns.
	out, _, _ := runCLI(t, "ls")
	if !strings.Contains(out, "MNT") || !strings.Contains(out, fmt.Sprint(pid)) || !strings.Contains(out, "* = shared with the host") {
		t.Errorf("ls table:\n%s", out)
	}
	// ps lists the init with both PIDs.
	out, _, code := runCLI(t, "ps", fmt.Sprint(pid))
	if code != 0 || !strings.Contains(out, fmt.Sprintf("%d  1 ", pid)) {
		t.Errorf("ps (exit %d):\n%s", code, out)
	}
	// ns spells out shared and own.
	out, _, code = runCLI(t, "ns", fmt.Sprint(pid))
	if code != 0 || !strings.Contains(out, "shared with host") || !strings.Contains(out, "own") {
		t.Errorf("ns (exit %d):\n%s", code, out)
	}
}

func TestCLITargetErrors(t *testing.T) {
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"ps", "no/such"}, `invalid target "no/such"`},
		{[]string{"ps", "nosuchbox"}, `no container named "nosuchbox"`},
		{[]string{"ps", "999999999"}, "no such process"},
		{[]string{"ps", fmt.Sprint(os.Getpid())}, "not in a container"},
		{[]string{"ns", "abc"}, `invalid PID "abc"`},
		{[]string{"ns", "999999999"}, "no such process"},
	}
	for _, c := range cases {
		_, errOut, code := runCLI(t, c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want one line containing %q", c.args, code, errOut, c.want)
		}
	}
}

// As a user other than root, ls lists what it can read and says on stderr
// that root sees more.
func TestLsAsNonRootWarns(t *testing.T) {
	testutil.RequireRoot(t, "it drops to another uid to show what a non-root user sees")
	// A copy in a world-readable directory: the checkout (and $BOXTUI_BIN)
	// may sit under a home directory that uid 65534 cannot enter.
	dir, err := os.MkdirTemp("", "boxtui-nonroot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	bin := dir + "/boxtui"
	data, err := os.ReadFile(testutil.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	testutil.StartUnshare(t, testutil.Rootfs(t), "/bin/sleep", "1000")
	cmd := exec.Command(bin, "ls")
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/bin:/bin", "BOXTUI_RUN_DIR=" + t.TempDir()}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ls as nobody: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "run as root (sudo) to see every container") {
		t.Errorf("stderr %q lacks the root hint; stdout:\n%s", stderr.String(), out)
	}
}
