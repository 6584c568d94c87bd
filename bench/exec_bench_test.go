package bench

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"boxtui/internal/testutil"
)

// BenchmarkExecVsNsenter starts the seed's container (unshare + chroot,
// sleep as PID 1) and times `boxtui exec PID -- /bin/true` against
// `nsenter -t PID -p -m -u -i -n -r -w /bin/true`, taking turns so both see
// the same machine. Goal: boxtui at most 1.5 times nsenter. It also times
// `boxtui --version`, the cost of starting the binary at all, so a missed
// goal shows whether the exec path or the startup is to blame.
func BenchmarkExecVsNsenter(b *testing.B) {
	requireRoot(b)
	bin := boxtuiBin(b)
	rootfs := testutil.FreshRootfs(b)
	pid := strconv.Itoa(testutil.StartUnshare(b, rootfs, "/bin/sleep", "100000"))

	ours := []string{"exec", pid, "--", "/bin/true"}
	theirs := []string{"-t", pid, "-p", "-m", "-u", "-i", "-n", "-r", "-w", "/bin/true"}
	// Warm the page cache and the binaries' first-run costs.
	for range 5 {
		timeCmd(b, bin, ours...)
		timeCmd(b, "nsenter", theirs...)
	}
	const rounds = 100
	// The same exec without the sealed copy of the binary (package
	// exeseal): what the protection against CVE-2019-5736 costs.
	unsealed := []string{"BOXTUI_EXESEAL=0"}
	var boxtui, nsenter, startup, open []time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for range rounds {
			boxtui = append(boxtui, timeCmd(b, bin, ours...))
			nsenter = append(nsenter, timeCmd(b, "nsenter", theirs...))
			startup = append(startup, timeCmd(b, bin, "--version"))
			open = append(open, timeCmdEnv(b, unsealed, bin, ours...))
		}
	}
	b.StopTimer()
	o, t, floor := median(boxtui), median(nsenter), median(startup)
	ratio := float64(o) / float64(t)
	b.ReportMetric(float64(o.Microseconds())/1000, "boxtui-ms")
	b.ReportMetric(float64(t.Microseconds())/1000, "nsenter-ms")
	b.ReportMetric(ratio, "ratio")
	fmt.Printf("exec: boxtui exec PID -- /bin/true %v, nsenter -t PID -p -m -u -i -n -r -w /bin/true %v (medians of %d); ratio = %.2f (goal <= 1.50) %s\n",
		o.Round(time.Microsecond), t.Round(time.Microsecond), len(boxtui), ratio, verdict(ratio <= 1.5))
	// On a busy shared machine the median carries other people's load;
	// the fastest tenth shows what each way costs by itself.
	ft, nt := fastTenth(boxtui), fastTenth(nsenter)
	fmt.Printf("exec: fastest 10%%: boxtui %v, nsenter %v, boxtui --version %v; ratio = %.2f (goal <= 1.50) %s\n",
		ft, nt, fastTenth(startup), float64(ft)/float64(nt), verdict(float64(ft)/float64(nt) <= 1.5))
	fmt.Printf("exec: the sealed binary costs %v (boxtui exec with BOXTUI_EXESEAL=0: %v, %.2f of nsenter)\n",
		(o - median(open)).Round(time.Microsecond), median(open).Round(time.Microsecond), float64(median(open))/float64(t))
	// What no exec path can beat: starting the boxtui binary at all.
	fmt.Printf("exec: boxtui --version alone %v (%.2f of nsenter): the Go runtime and package inits before any exec work\n",
		floor.Round(time.Microsecond), float64(floor)/float64(t))
}

// BenchmarkExecUsernsVsNsenter enters a rootless-style container (unshare
// --user --map-root-user --pid --fork --mount-proc, sleep as PID 1: its
// own user namespace, which a Go program cannot join) and times `boxtui
// exec PID -- /bin/true` (the C fast path, which joins the user namespace
// itself) against `nsenter -t PID -a /bin/true`, taking turns. It also
// times the Go path (BOXTUI_FASTEXEC=0), which goes through the C enter
// stage, as a PTY, --new-mount-proc and the UI's pane do.
func BenchmarkExecUsernsVsNsenter(b *testing.B) {
	requireRoot(b)
	bin := boxtuiBin(b)
	cmd := exec.Command("unshare", "--user", "--map-root-user", "--pid", "--fork", "--mount-proc", "--kill-child", "/bin/sleep", "100000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	runtime.LockOSThread() // Pdeathsig follows the forking thread
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var pid string
	testutil.WaitFor(b, 10*time.Second, func() bool {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		pid = strings.TrimSpace(string(data))
		return pid != ""
	}, "the container's init")

	ours := []string{"exec", pid, "--", "/bin/true"}
	theirs := []string{"-t", pid, "-a", "/bin/true"}
	goPath := []string{"BOXTUI_FASTEXEC=0"}
	// Warm up; the first exec (Go) also makes the history the fast path
	// appends to.
	for range 5 {
		timeCmdEnv(b, goPath, bin, ours...)
		timeCmd(b, bin, ours...)
		timeCmd(b, "nsenter", theirs...)
	}
	const rounds = 100
	var boxtui, nsenter, stage []time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for range rounds {
			boxtui = append(boxtui, timeCmd(b, bin, ours...))
			nsenter = append(nsenter, timeCmd(b, "nsenter", theirs...))
			stage = append(stage, timeCmdEnv(b, goPath, bin, ours...))
		}
	}
	b.StopTimer()
	o, t, s := median(boxtui), median(nsenter), median(stage)
	ratio := float64(o) / float64(t)
	b.ReportMetric(float64(o.Microseconds())/1000, "boxtui-ms")
	b.ReportMetric(float64(t.Microseconds())/1000, "nsenter-ms")
	b.ReportMetric(float64(s.Microseconds())/1000, "go-stage-ms")
	b.ReportMetric(ratio, "ratio")
	fmt.Printf("exec userns: boxtui exec PID -- /bin/true %v, nsenter -t PID -a /bin/true %v (medians of %d); ratio = %.2f (goal <= 1.50) %s\n",
		o.Round(time.Microsecond), t.Round(time.Microsecond), len(boxtui), ratio, verdict(ratio <= 1.5))
	ft, nt := fastTenth(boxtui), fastTenth(nsenter)
	fmt.Printf("exec userns: fastest 10%%: boxtui %v, nsenter %v; ratio = %.2f\n", ft, nt, float64(ft)/float64(nt))
	fmt.Printf("exec userns: the Go path through the enter stage (BOXTUI_FASTEXEC=0: PTY, --new-mount-proc, the UI) %v (%.2f of nsenter)\n",
		s.Round(time.Microsecond), float64(s)/float64(t))
}
