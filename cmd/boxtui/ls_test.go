package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
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
		// A missing TARGET says what one is, not only how many arguments.
		{[]string{"kill"}, "kill takes 1 argument, got 0: usage: boxtui kill [-s SIGNAL] [--time SECONDS] [--pid N] TARGET (TARGET is a container's name"},
		{[]string{"ps"}, "ps takes 1 argument, got 0: usage: boxtui ps TARGET (TARGET is"},
		{[]string{"mount", "web"}, "mount takes 3 arguments, got 1: usage: boxtui mount [--ro] [--mkdir] TARGET HOSTPATH CTRPATH (TARGET is"},
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

// `boxtui ls` runs from lscmd's package init, before cobra and the UI
// libraries initialise; a flag before `ls` (or help, or a bad flag) takes
// the cobra command instead. Both must print the same bytes. They run in a
// PID namespace of their own, so that only the two containers made here
// (not other tests' or benchmarks' changing ones) are listed.
func TestLsEarlyPathMatchesCobra(t *testing.T) {
	testutil.RequireRoot(t, "it makes PID namespaces and enters them")
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	bin := testutil.Binary(t)
	outer := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "sh", "-c",
		`unshare --pid --fork --kill-child sleep 1000 &
		unshare --pid --fork --kill-child sh -c "sleep 1001 & exec sleep 1002" &
		wait`)
	outer.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := outer.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-outer.Process.Pid, syscall.SIGKILL)
		outer.Wait()
	})
	// The namespace's init is unshare's only child.
	var init string
	testutil.WaitFor(t, 10*time.Second, func() bool {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", outer.Process.Pid, outer.Process.Pid))
		init = strings.TrimSpace(string(data))
		return init != ""
	}, "the outer namespace's init")

	run := func(args ...string) (string, string) {
		cmd := exec.Command("nsenter", append([]string{"-t", init, "-p", "-m", bin}, args...)...)
		cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("boxtui %q: %v\n%s", args, err, stderr.String())
		}
		return string(out), stderr.String()
	}
	testutil.WaitFor(t, 10*time.Second, func() bool {
		out, _ := run("ls")
		return strings.Count(out, "  1      running") == 1 && strings.Count(out, "  2      running") == 1
	}, "both containers in ls")

	// "started" is computed from the boot time in each process, to the
	// nanosecond: it alone may differ between two runs.
	started := regexp.MustCompile(`"started": "[^"]*"`)
	for _, args := range [][]string{{"ls"}, {"ls", "--json"}, {"ls", "-a", "--json"}, {"ls", "--all=true"}} {
		early, trace := run(args...)
		if strings.Contains(trace, "init github.com/spf13/cobra") {
			t.Errorf("boxtui %q initialised cobra: the early path did not run", args)
		}
		viaCobra, trace := run(append([]string{"--no-color"}, args...)...)
		if !strings.Contains(trace, "init github.com/spf13/cobra") {
			t.Errorf("boxtui --no-color %q did not take the cobra path", args)
		}
		early = started.ReplaceAllString(early, `"started": ""`)
		viaCobra = started.ReplaceAllString(viaCobra, `"started": ""`)
		if early != viaCobra {
			t.Errorf("boxtui %q: early path:\n%s\ncobra path:\n%s", args, early, viaCobra)
		}
		if !strings.Contains(early, "sleep 1002") || !strings.Contains(early, "sleep 1000") {
			t.Errorf("boxtui %q does not list both containers:\n%s", args, early)
		}
	}
}
