package bench

import (
	"fmt"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"boxtui/runtime/discovery"
)

// BenchmarkStats50Containers measures what live usage adds to a refresh
// with 50 containers: the scan the UI makes anyway, with and without
// UsageMeter.Observe on it. Goal: the stats under 5 ms per refresh.
func BenchmarkStats50Containers(b *testing.B) {
	requireRoot(b)
	const containers = 50
	var procs []*exec.Cmd
	b.Cleanup(func() {
		for _, c := range procs {
			syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			c.Wait()
		}
	})
	for i := 0; i < containers; i++ {
		c := exec.Command("unshare", "--pid", "--fork", "sleep", "100000")
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := c.Start(); err != nil {
			b.Fatal(err)
		}
		procs = append(procs, c)
	}
	scanner := discovery.NewScanner()
	opts := discovery.ScanOptions{ProcessNamespaces: true}
	mine := func(s discovery.Snapshot) int {
		want := map[int]bool{}
		for _, c := range procs {
			want[c.Process.Pid] = true
		}
		n := 0
		for _, c := range s.Containers {
			// Our containers' inits are the children of the unshare
			// processes we started.
			for _, p := range c.Procs {
				if want[p.PPID] {
					n++
					break
				}
			}
		}
		return n
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		s, err := scanner.Scan(opts)
		if err != nil {
			b.Fatal(err)
		}
		if mine(s) >= containers {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d containers seen", mine(s), containers)
		}
		time.Sleep(20 * time.Millisecond)
	}

	const rounds = 30
	meter := discovery.NewUsageMeter()
	var scanOnly, scanStats, observe []time.Duration
	var seen int
	b.ResetTimer()
	for i := 0; i < rounds; i++ {
		t0 := time.Now()
		if _, err := scanner.Scan(opts); err != nil {
			b.Fatal(err)
		}
		scanOnly = append(scanOnly, time.Since(t0))

		t0 = time.Now()
		s, err := scanner.Scan(opts)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		u := meter.Observe(s, t1)
		t2 := time.Now()
		scanStats = append(scanStats, t2.Sub(t0))
		observe = append(observe, t2.Sub(t1))
		seen = len(u)
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	so, ss, ob := median(scanOnly), median(scanStats), median(observe)
	b.ReportMetric(ms(ob), "observe-ms")
	b.ReportMetric(ms(so), "scan-ms")
	b.ReportMetric(ms(ss), "scan+stats-ms")
	fmt.Printf("stats: %d containers measured (%d ours), median of %d refreshes: scan %.2f ms, scan+Observe %.2f ms, Observe alone %.3f ms (%.1f%% of the scan); goal stats < 5 ms %s\n",
		seen, containers, rounds, ms(so), ms(ss), ms(ob), 100*ms(ob)/ms(so), verdict(ob < 5*time.Millisecond))
}
