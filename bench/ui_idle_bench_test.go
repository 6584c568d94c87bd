package bench

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkUIIdleCPU starts 2,000 sleeping processes (and a few containers)
// on the host, opens the UI at its default one-second refresh in a tmux
// pane, and samples its CPU time like top does, beside `top -d 1` showing
// the same machine. Goal: the UI under 2% of one core.
func BenchmarkUIIdleCPU(b *testing.B) {
	requireRoot(b)
	if _, err := exec.LookPath("tmux"); err != nil {
		b.Skip("needs tmux")
	}
	bin := boxtuiBin(b)
	const sleepers = 2000
	var procs []*exec.Cmd
	defer func() {
		for _, c := range procs {
			syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			c.Wait()
		}
	}()
	// One shell starts the sleepers, so the benchmark itself does not fork
	// 2,000 times; a few containers give the UI something to show.
	host := exec.Command("sh", "-c", fmt.Sprintf("for i in $(seq %d); do sleep 100000 & done; wait", sleepers))
	host.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := host.Start(); err != nil {
		b.Fatal(err)
	}
	procs = append(procs, host)
	for i := 0; i < 5; i++ {
		c := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", "sleep 100000 & sleep 100000 & wait")
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := c.Start(); err != nil {
			b.Fatal(err)
		}
		procs = append(procs, c)
	}

	server := fmt.Sprintf("boxtui-bench-idle-%d", os.Getpid())
	tmux := func(args ...string) (string, error) {
		out, err := exec.Command("tmux", append([]string{"-L", server}, args...)...).CombinedOutput()
		return string(out), err
	}
	defer func() {
		tmux("kill-server")
		// tmux leaves its socket file behind after kill-server.
		os.Remove(fmt.Sprintf("/tmp/tmux-%d/%s", os.Getuid(), server))
	}()
	runDir := b.TempDir()
	if _, err := tmux("new-session", "-d", "-x", "120", "-y", "40", "-s", "ui",
		"env", "BOXTUI_RUN_DIR="+runDir, "TERM=xterm-256color", bin); err != nil {
		b.Fatal(err)
	}
	if _, err := tmux("new-session", "-d", "-x", "120", "-y", "40", "-s", "top", "top", "-d", "1"); err != nil {
		b.Fatal(err)
	}
	panePID := func(session string) int {
		out, err := tmux("display-message", "-p", "-t", session, "#{pane_pid}")
		if err != nil {
			b.Fatal(out, err)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(out))
		return pid
	}
	// Wait for the UI to show the containers, then let it settle.
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := tmux("capture-pane", "-p", "-t", "ui")
		if strings.Contains(out, "container") {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("UI did not start:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)

	uiPID, topPID := panePID("ui"), panePID("top")
	const window = 20 * time.Second
	b.ResetTimer()
	ui0, top0 := cpuTicks(b, uiPID), cpuTicks(b, topPID)
	start := time.Now()
	time.Sleep(window)
	ui1, top1 := cpuTicks(b, uiPID), cpuTicks(b, topPID)
	elapsed := time.Since(start).Seconds()
	b.StopTimer()
	// Others' processes on a shared machine make the UI's scan dearer:
	// say how many there were, so runs can be compared.
	hostProcs := countProcs(b)
	uiPct := 100 * float64(ui1-ui0) / 100 / elapsed
	topPct := 100 * float64(top1-top0) / 100 / elapsed
	ratio := uiPct / topPct
	b.ReportMetric(uiPct, "ui-cpu%")
	b.ReportMetric(topPct, "top-cpu%")
	fmt.Printf("idle: %d host processes (%d in /proc), refresh 1 s, %v window: boxtui UI %.2f%% of a core, top -d 1 %.2f%%; ratio %.2f; goal UI < 2%% %s\n",
		sleepers, hostProcs, window, uiPct, topPct, ratio, verdict(uiPct < 2))
}

// cpuTicks is utime+stime of pid, in clock ticks (100 per second).
func cpuTicks(tb testing.TB, pid int) uint64 {
	tb.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseUint(fields[11], 10, 64)
	st, _ := strconv.ParseUint(fields[12], 10, 64)
	return u + st
}

// countProcs is how many processes /proc lists.
func countProcs(tb testing.TB) int {
	tb.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			n++
		}
	}
	return n
}
