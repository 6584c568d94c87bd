package asengine

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/asengine/enginetest"

	"golang.org/x/sys/unix"
)

// procState is the State letter and TracerPid of /proc/PID/status.
func procState(t *testing.T, pid int) (state string, tracer int) {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "State:"); ok {
			state = strings.Fields(v)[0]
		}
		if v, ok := strings.CutPrefix(line, "TracerPid:"); ok {
			tracer, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return state, tracer
}

func TestReadDockerInit(t *testing.T) {
	testutil.RequireRoot(t, "reads another process's seccomp filter")
	pid := enginetest.Docker(t, "read", nil, "sleep", "1d")
	p, err := Read(pid, 0, Options{Seccomp: true})
	if err != nil {
		t.Fatal(err)
	}
	// docker's default: 14 capabilities, no ambient, its seccomp profile.
	if p.Caps.Bounding != 0xa80425fb || p.Caps.Effective != p.Caps.Bounding || p.Caps.Ambient != 0 {
		t.Errorf("caps %+v", p.Caps)
	}
	if p.SeccompMode != SeccompFilter || p.FilterCount != 1 || len(p.Filters) != 1 || len(p.Filters[0].Insns) < 10 {
		t.Errorf("seccomp mode %d count %d filters %d", p.SeccompMode, p.FilterCount, len(p.Filters))
	}
	id, err := enginetest.Run("docker", "inspect", "-f", "{{.Id}}", enginetest.Name("read"))
	if err != nil {
		t.Fatal(err)
	}
	id = strings.TrimSpace(id)
	env := strings.Join(p.Env, "\n")
	if !strings.Contains(env, "HOSTNAME="+id[:12]) || !strings.Contains(env, "PATH=") {
		t.Errorf("env %q", p.Env)
	}
	unified := false
	for _, cg := range p.Cgroups {
		if !strings.Contains(cg.Path, id) {
			t.Errorf("cgroup %+v is not the container's", cg)
		}
		unified = unified || cg.Unified()
	}
	if !unified || len(p.Cgroups) < 2 {
		t.Errorf("cgroups %+v: want the v1 hierarchies and the v2 one (hybrid)", p.Cgroups)
	}
	procs, skipped, err := OpenCgroupProcs(p.Cgroups)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, c := range procs {
			c.File.Close()
		}
	}()
	if len(procs) != len(p.Cgroups) || len(skipped) != 0 {
		t.Errorf("opened %d of %d cgroups, skipped %+v", len(procs), len(p.Cgroups), skipped)
	}
	if st, tracer := procState(t, pid); tracer != 0 || st != "S" {
		t.Errorf("after the read: state %s tracer %d", st, tracer)
	}
}

func TestReadingFiltersNeverLeavesTheTargetStoppedOrTraced(t *testing.T) {
	testutil.RequireRoot(t, "reads another process's seccomp filter")
	pid := enginetest.Docker(t, "stop", nil, "sleep", "1d")
	var first []Filter
	for i := 0; i < 50; i++ {
		p, err := Read(pid, 0, Options{Seccomp: true})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = p.Filters
		} else if len(p.Filters) != len(first) || len(p.Filters[0].Insns) != len(first[0].Insns) {
			t.Fatalf("read %d gave other filters", i)
		}
		if st, tracer := procState(t, pid); tracer != 0 || (st != "S" && st != "R") {
			t.Fatalf("after read %d: state %s tracer %d", i, st, tracer)
		}
	}
}

// TestConcurrentReadsOfOneTargetAllSucceed: a process has one tracer at a
// time; boxtui readers racing for it (two panes opened at once, two
// execs) wait for each other instead of failing.
func TestConcurrentReadsOfOneTargetAllSucceed(t *testing.T) {
	testutil.RequireRoot(t, "reads another process's seccomp filter")
	pid := enginetest.Docker(t, "concurrent", nil, "sleep", "1d")
	errs := make(chan error, 8)
	for i := 0; i < cap(errs); i++ {
		go func() {
			var err error
			for j := 0; j < 10 && err == nil; j++ {
				_, err = Read(pid, 0, Options{Seccomp: true})
			}
			errs <- err
		}()
	}
	for i := 0; i < cap(errs); i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if st, tracer := procState(t, pid); tracer != 0 || st != "S" {
		t.Errorf("after the reads: state %s tracer %d", st, tracer)
	}
}

func TestReadRefusesATracedTarget(t *testing.T) {
	testutil.RequireRoot(t, "traces a process")
	if _, err := exec.LookPath("strace"); err != nil {
		t.Skip("needs strace")
	}
	pid := enginetest.Docker(t, "traced", nil, "sleep", "1d")
	strace := exec.Command("strace", "-q", "-e", "trace=none", "-o", "/dev/null", "-p", strconv.Itoa(pid))
	exited, _, err := testutil.StartTied(strace)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		strace.Process.Signal(unix.SIGTERM)
		<-exited
	})
	testutil.WaitFor(t, 10*time.Second, func() bool { _, tr := procState(t, pid); return tr != 0 }, "strace to attach")
	_, err = Read(pid, 0, Options{Seccomp: true})
	if err == nil || !strings.Contains(err.Error(), "is traced by process "+strconv.Itoa(strace.Process.Pid)) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("got %v", err)
	}
	// Without the filters (the profile's other parts) it still reads.
	if _, err := Read(pid, 0, Options{}); err != nil {
		t.Errorf("without Seccomp: %v", err)
	}
}

func TestReadOfAPausedContainerTimesOutAndReleasesIt(t *testing.T) {
	testutil.RequireRoot(t, "traces a process")
	pid := enginetest.Docker(t, "paused", nil, "sleep", "1d")
	name := enginetest.Name("paused")
	if out, err := enginetest.Run("docker", "pause", name); err != nil {
		t.Fatalf("docker pause: %v: %s", err, out)
	}
	unpaused := false
	t.Cleanup(func() {
		if !unpaused {
			enginetest.Run("docker", "unpause", name)
		}
	})
	start := time.Now()
	_, err := Read(pid, 0, Options{Seccomp: true, StopTimeout: 300 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "did not stop within") {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	if _, tracer := procState(t, pid); tracer != 0 {
		t.Fatalf("still traced by %d", tracer)
	}
	if out, err := enginetest.Run("docker", "unpause", name); err != nil {
		t.Fatalf("docker unpause: %v: %s", err, out)
	}
	unpaused = true
	// Thawed, it runs on: no stop was left pending for it.
	testutil.WaitFor(t, 5*time.Second, func() bool { st, _ := procState(t, pid); return st == "S" }, "the thawed init to sleep again")
	if _, err := Read(pid, 0, Options{Seccomp: true}); err != nil {
		t.Errorf("after unpause: %v", err)
	}
}

func TestReadKeepsAStoppedProcessStopped(t *testing.T) {
	testutil.RequireRoot(t, "traces a process")
	initPID := enginetest.Docker(t, "groupstop", nil, "bash", "-c", "sleep 1d & wait")
	var child int
	testutil.WaitFor(t, 10*time.Second, func() bool {
		data, _ := os.ReadFile("/proc/" + strconv.Itoa(initPID) + "/task/" + strconv.Itoa(initPID) + "/children")
		f := strings.Fields(string(data))
		if len(f) == 1 {
			child, _ = strconv.Atoi(f[0])
		}
		return child > 0
	}, "the init's sleep")
	if err := unix.Kill(child, unix.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, func() bool { st, _ := procState(t, child); return st == "T" }, "the stop")
	p, err := Read(child, 0, Options{Seccomp: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Filters) != 1 {
		t.Errorf("%d filters", len(p.Filters))
	}
	// Detached from its trace stop, it goes straight back into the group
	// stop (the kernel re-arms it), never back to user space.
	testutil.WaitFor(t, 2*time.Second, func() bool {
		st, tracer := procState(t, child)
		return st == "T" && tracer == 0
	}, "the process to be stopped (T) and untraced again")
	for i := 0; i < 20; i++ {
		if st, tracer := procState(t, child); st != "T" || tracer != 0 {
			t.Fatalf("state %s tracer %d after the read", st, tracer)
		}
		time.Sleep(time.Millisecond)
	}
	unix.Kill(child, unix.SIGCONT)
	testutil.WaitFor(t, 5*time.Second, func() bool { st, _ := procState(t, child); return st == "S" }, "the continue")
}

func TestEnvironLargerThanTheBoundIsRefused(t *testing.T) {
	testutil.RequireRoot(t, "reads another process's environment")
	big := strings.Repeat("x", 100<<10)
	env := []string{"PATH=/usr/bin:/bin"}
	for i, total := 0, 0; total <= MaxEnvBytes; i++ {
		env = append(env, "BIG"+strconv.Itoa(i)+"="+big)
		total += len(big)
	}
	cmd := exec.Command("sleep", "60")
	cmd.Env = env
	exited, _, err := testutil.StartTied(cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	// Until the child has exec'd sleep, its environ is the test's; just
	// after, /proc shows the new command line while its environ still
	// reads empty for a moment.
	testutil.WaitFor(t, 10*time.Second, func() bool {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid))
		e, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", cmd.Process.Pid))
		return string(b) == "sleep\x0060\x00" && len(e) > 0
	}, "the child to exec sleep")
	_, err = Read(cmd.Process.Pid, 0, Options{})
	if err == nil || !strings.Contains(err.Error(), "environ is larger than") {
		t.Errorf("got %v", err)
	}
}

func TestReadRefusesAReusedPID(t *testing.T) {
	p, err := Read(os.Getpid(), 0, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Read(os.Getpid(), p.StartTime+1, Options{}); err == nil || !strings.Contains(err.Error(), "reused") {
		t.Errorf("got %v", err)
	}
}

// BenchmarkReadProfile: what --as-engine adds to an exec (the filters
// included), on a docker init.
func BenchmarkReadProfile(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	pid := enginetest.Docker(b, "bench", nil, "sleep", "1d")
	for _, seccomp := range []bool{false, true} {
		b.Run("seccomp="+strconv.FormatBool(seccomp), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := Read(pid, 0, Options{Seccomp: seccomp}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
