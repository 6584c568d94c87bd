package asengine

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/asengine/enginetest"
	"boxtui/runtime/enter/stage"

	"golang.org/x/sys/unix"
)

// End-to-end tests of `boxtui exec --as-engine` (the binary under test:
// BOXTUI_BIN, else built), against real docker and podman containers.

var engineFields = []string{"Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters"}

// statusBlock parses status lines ("Key:\tvalue") into a map.
func statusBlock(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(strings.TrimRight(line, "\r"), ":"); ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

// inContainer is the script the tests run: the init's status and the
// command's own, both read inside (so both in the container's user
// namespace's terms), the cgroups of both, and the environment.
const inContainer = `cat /proc/1/status; echo =====; cat /proc/self/status; echo =====; cat /proc/1/cgroup; echo =====; cat /proc/self/cgroup; echo =====; env; echo =====; cat /proc/1/limits; echo =====; cat /proc/self/limits`

func runExec(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return testutil.RunBinary(t, "", append([]string{"exec"}, args...)...)
}

// TestExecAsEngineTakesTheInitsProfile: in docker (default; a user with
// no_new_privs and one capability), podman, and podman with a user
// namespace, the command run with --as-engine has the init's capability
// sets, no_new_privs, seccomp filters, uid/gid/groups, cgroups, resource
// limits and environment; without the flag exec keeps nsenter semantics (boxtui's own
// capabilities, no seccomp filter, the host's cgroups).
func TestExecAsEngineTakesTheInitsProfile(t *testing.T) {
	testutil.RequireRoot(t, "enters containers")
	for _, c := range []struct {
		name, engine string
		args         []string
	}{
		{"docker", "docker", nil},
		{"docker-user", "docker", []string{"--user", "1234:1234", "--group-add", "777", "--security-opt", "no-new-privileges",
			"--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE"}},
		{"podman", "podman", nil},
		{"podman-userns", "podman", []string{"--uidmap", "0:300000:65536", "--gidmap", "0:300000:65536"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var pid int
			if c.engine == "docker" {
				pid = enginetest.Docker(t, "e2e-"+c.name, c.args, "sleep", "1d")
			} else {
				pid = enginetest.Podman(t, "e2e-"+c.name, c.args, "sleep", "1d")
			}
			out, errOut, code := runExec(t, "--as-engine", strconv.Itoa(pid), "--", "sh", "-c", inContainer)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			parts := strings.Split(out, "=====\n")
			if len(parts) != 7 {
				t.Fatalf("output:\n%s", out)
			}
			if parts[5] != parts[6] {
				t.Errorf("limits: init\n%s\nthe command\n%s", parts[5], parts[6])
			}
			init, self := statusBlock(parts[0]), statusBlock(parts[1])
			for _, k := range engineFields {
				if init[k] != self[k] {
					t.Errorf("%s: init %q, the command %q", k, init[k], self[k])
				}
			}
			if parts[2] != parts[3] {
				t.Errorf("cgroups: init\n%s\nthe command\n%s", parts[2], parts[3])
			}
			environ, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
			if err != nil {
				t.Fatal(err)
			}
			env, _ := ParseEnviron(environ)
			for _, kv := range env {
				if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(kv) + `$`).MatchString(parts[4]) {
					t.Errorf("the command's environment lacks the init's %q:\n%s", kv, parts[4])
				}
			}

			// The default: nsenter semantics, unchanged.
			out, errOut, code = runExec(t, strconv.Itoa(pid), "--", "sh", "-c", inContainer)
			if code != 0 {
				t.Fatalf("default exec: exit %d: %s", code, errOut)
			}
			parts = strings.Split(out, "=====\n")
			if len(parts) != 7 {
				t.Fatalf("default exec output:\n%s", out)
			}
			init, self = statusBlock(parts[0]), statusBlock(parts[1])
			if self["Seccomp"] != "0" || self["NoNewPrivs"] != "0" || self["CapEff"] == init["CapEff"] || parts[2] == parts[3] {
				t.Errorf("the default exec took the engine's profile: Seccomp %s NoNewPrivs %s CapEff %s (init %s), cgroups\n%s",
					self["Seccomp"], self["NoNewPrivs"], self["CapEff"], init["CapEff"], parts[3])
			}
		})
	}
}

// TestExecAsEngineTerminalIsTheContainers: with a PTY, the terminal comes
// from the container's own devpts (tty(1)'s answer is a /dev/pts entry the
// container lists); the default exec's terminal is the host's.
func TestExecAsEngineTerminalIsTheContainers(t *testing.T) {
	testutil.RequireRoot(t, "enters containers")
	pid := enginetest.Docker(t, "e2e-tty", []string{"--user", "1234:1234"}, "sleep", "1d")
	// The image has no tty(1): readlink of fd 0 is what ttyname does.
	// Also: nothing but the terminal reaches the command (not the
	// socket its master went back on, nor the host's cgroup.procs files).
	script := `readlink /proc/self/fd/0; test -t 0 && echo ISATTY; echo ====; ls -1 /dev/pts; echo ====; stat -L -c %u /proc/self/fd/0; echo ====; ls -1 /proc/$$/fd`
	out, errOut, code := runExec(t, "-t", "--as-engine", strconv.Itoa(pid), "--", "sh", "-c", script)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	out = strings.ReplaceAll(out, "\r", "")
	m := regexp.MustCompile(`^/dev/pts/(\d+)\nISATTY\n====\n((?:.*\n)*)====\n(\d+)\n====\n0\n1\n2\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("output:\n%q", out)
	}
	if !regexp.MustCompile(`(?m)^` + m[1] + `$`).MatchString(m[2]) {
		t.Errorf("/dev/pts/%s is not in the container's /dev/pts:\n%s", m[1], m[2])
	}
	if m[3] != "1234" {
		t.Errorf("the terminal belongs to uid %s, want the user's 1234", m[3])
	}

	out, errOut, code = runExec(t, "-t", strconv.Itoa(pid), "--", "sh", "-c", script)
	if code != 0 {
		t.Fatalf("default exec: exit %d: %s", code, errOut)
	}
	out = strings.ReplaceAll(out, "\r", "")
	if parts := strings.Split(out, "====\n"); len(parts) != 4 || strings.TrimSpace(parts[1]) != "ptmx" {
		t.Errorf("the default exec's terminal shows in the container's devpts:\n%s", out)
	}
}

// TestDockerTopListsTheEngineExec: the command of an --as-engine exec is in
// the container's cgroups, so docker top lists it; a default exec's is not.
func TestDockerTopListsTheEngineExec(t *testing.T) {
	testutil.RequireRoot(t, "enters containers")
	pid := enginetest.Docker(t, "e2e-top", nil, "sleep", "1d")
	name := enginetest.Name("e2e-top")
	start := func(args ...string) *exec.Cmd {
		cmd := exec.Command(testutil.Binary(t), append([]string{"exec"}, args...)...)
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		exited, _, err := testutil.StartTied(cmd)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Signal(unix.SIGTERM) // forwarded to the command
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
		})
		return cmd
	}
	start("--as-engine", strconv.Itoa(pid), "--", "sleep", "4243")
	start(strconv.Itoa(pid), "--", "sleep", "4244")
	top := func() string {
		out, err := enginetest.Run("docker", "top", name)
		if err != nil {
			t.Fatalf("docker top: %v: %s", err, out)
		}
		return out
	}
	testutil.WaitFor(t, 15*time.Second, func() bool { return strings.Contains(top(), "sleep 4243") }, "docker top to list the --as-engine exec")
	// The plain exec is running too (its sleep is in /proc), but not in
	// the container's cgroups.
	testutil.WaitFor(t, 15*time.Second, func() bool {
		out, _ := exec.Command("pgrep", "-f", "^sleep 4244$").Output()
		return len(bytes.TrimSpace(out)) > 0
	}, "the plain exec's command to run")
	if out := top(); strings.Contains(out, "sleep 4244") {
		t.Errorf("docker top lists the plain exec:\n%s", out)
	}
}

// TestExecAsEngineRefusesInOneLine: what --as-engine cannot do is said in
// one line, and nothing runs.
func TestExecAsEngineRefusesInOneLine(t *testing.T) {
	testutil.RequireRoot(t, "enters containers")
	pid := enginetest.Docker(t, "e2e-refuse", nil, "sleep", "1d")
	check := func(want string, args ...string) {
		t.Helper()
		out, errOut, code := runExec(t, args...)
		errOut = strings.TrimSpace(errOut)
		if code == 0 || out != "" || !strings.Contains(errOut, want) || strings.Contains(errOut, "\n") {
			t.Errorf("exec %q: exit %d, stdout %q, stderr %q; want one line with %q", args, code, out, errOut, want)
		}
	}
	check("do not go together", "--as-engine", "--new-mount-proc", strconv.Itoa(pid), "--", "true")
	// Without the C enter stage (a binary without cgo; forced here).
	out, errOut, code := testutil.RunBinaryEnv(t, []string{"BOXTUI_ENTER_STAGE=go"}, "", "exec", "--as-engine", strconv.Itoa(pid), "--", "true")
	if errOut = strings.TrimSpace(errOut); code == 0 || out != "" || !strings.Contains(errOut, "needs the C enter stage") || strings.Contains(errOut, "\n") {
		t.Errorf("without the stage: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	if _, err := exec.LookPath("strace"); err != nil {
		t.Skip("needs strace")
	}
	strace := exec.Command("strace", "-q", "-e", "trace=none", "-o", "/dev/null", "-p", strconv.Itoa(pid))
	exited, _, err := testutil.StartTied(strace)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { strace.Process.Signal(unix.SIGTERM); <-exited }()
	testutil.WaitFor(t, 10*time.Second, func() bool {
		data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		return !strings.Contains(string(data), "TracerPid:\t0\n")
	}, "strace to attach")
	check("is traced by process", "--as-engine", strconv.Itoa(pid), "--", "true")
}

// TestStageRefusesADamagedPlan: the enter stage is reachable by anyone who
// can run the binary. A block whose as-engine records are not what boxtui
// writes (a damaged plan, an fd that is not open, a record twice) joins
// nothing and runs nothing; the same block with a whole plan runs the
// command under it.
func TestStageRefusesADamagedPlan(t *testing.T) {
	testutil.RequireRoot(t, "runs the enter stage")
	if !stage.Available {
		t.Skip("built without cgo: no enter stage")
	}
	bin := testutil.Binary(t)
	marker := t.TempDir() + "/ran"
	netns, err := os.Open("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	defer netns.Close()
	last, err := LastCap()
	if err != nil {
		t.Fatal(err)
	}
	me, err := Read(os.Getpid(), 0, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// This process's own profile with no_new_privs on: what the command
	// must show when the plan is applied.
	plan := &Plan{Caps: me.Caps, NoNewPrivs: true, UID: me.UID, GID: me.GID, Groups: me.Groups, LastCap: last, Rlimits: me.Rlimits}
	good, err := plan.Encode()
	if err != nil {
		t.Fatal(err)
	}
	withFD := *plan
	withFD.CgroupFDs = []int{99} // not open in the stage
	badFD, _ := withFD.Encode()
	run := func(profile []stage.Record) (string, int) {
		cfg := stage.Config{
			Root: -1, Cwd: -1,
			NS:      []stage.NS{{FD: stage.FirstFD, Flag: unix.CLONE_NEWNET}},
			Env:     []string{"PATH=/usr/bin:/bin"},
			Args:    []string{"/bin/sh", "-c", "grep NoNewPrivs /proc/self/status > " + marker},
			Profile: profile,
		}
		cfgR, cfgW, _ := os.Pipe()
		statusR, statusW, _ := os.Pipe()
		cmd := exec.Command(bin)
		cmd.Args = []string{"boxtui", stage.Name}
		cmd.Env = []string{}
		cmd.ExtraFiles = []*os.File{cfgR, statusW, netns}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cfgR.Close()
		statusW.Close()
		cfgW.Write(cfg.Encode())
		cfgW.Close()
		msg, _ := io.ReadAll(statusR)
		statusR.Close()
		cmd.Wait()
		return string(msg), cmd.ProcessState.ExitCode()
	}
	const tagPlan, tagPTY = stage.ProfileFirst, stage.ProfileFirst + 1
	for name, profile := range map[string][]stage.Record{
		"garbage plan":        {{Tag: tagPlan, Payload: []byte("BTASE\x00\x01\x00garbage")}},
		"cut plan":            {{Tag: tagPlan, Payload: good[:len(good)-8]}},
		"plan twice":          {{Tag: tagPlan, Payload: good}, {Tag: tagPlan, Payload: good}},
		"cgroup fd not open":  {{Tag: tagPlan, Payload: badFD}},
		"short pty record":    {{Tag: tagPTY, Payload: []byte{5, 0, 0}}},
		"pty socket not open": {{Tag: tagPTY, Payload: []byte{99, 0, 0, 0, 24, 0, 80, 0}}},
		"unknown profile tag": {{Tag: stage.ProfileFirst + 7, Payload: nil}},
	} {
		msg, code := run(profile)
		if msg != "error\nenter stage: bad config: unknown record" || code != 1 {
			t.Errorf("%s: status %q, exit %d", name, msg, code)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("%s: the stage ran its command", name)
		}
	}
	if msg, code := run([]stage.Record{{Tag: tagPlan, Payload: good}}); msg != "" || code != 0 {
		t.Fatalf("a whole plan: status %q, exit %d", msg, code)
	}
	if out, err := os.ReadFile(marker); err != nil || strings.TrimSpace(string(out)) != "NoNewPrivs:\t1" {
		t.Errorf("the command under the plan: %q %v, want no_new_privs set", out, err)
	}
}
