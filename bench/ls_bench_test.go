package bench

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkLsVsLsns builds 2,000 sleeping processes in 50 PID namespaces and
// times `boxtui ls --json` against `lsns -t pid` (and plain `lsns`), taking
// turns so both see the same machine. Goal: boxtui at most half of lsns -t pid.
func BenchmarkLsVsLsns(b *testing.B) {
	requireRoot(b)
	bin := boxtuiBin(b)
	const namespaces, perNS = 50, 40
	var trees []*exec.Cmd
	defer func() {
		for _, c := range trees {
			syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			c.Wait()
		}
	}()
	script := fmt.Sprintf("for i in $(seq %d); do sleep 100000 & done; wait", perNS-1)
	for i := 0; i < namespaces; i++ {
		c := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", script)
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := c.Start(); err != nil {
			b.Fatal(err)
		}
		trees = append(trees, c)
	}
	// Wait until every namespace is fully populated.
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := exec.Command(bin, "ls", "--json").Output()
		if err != nil {
			b.Fatal(err)
		}
		if n := strings.Count(string(out), fmt.Sprintf(`"processes": %d`, perNS)); n >= namespaces {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("namespaces not populated in time")
		}
		time.Sleep(50 * time.Millisecond)
	}

	const rounds = 15
	var ours, lsnsPID, lsnsAll []time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for r := 0; r < rounds; r++ {
			ours = append(ours, timeCmd(b, bin, "ls", "--json"))
			lsnsPID = append(lsnsPID, timeLsns(b, "-t", "pid"))
			if r < 5 {
				lsnsAll = append(lsnsAll, timeLsns(b))
			}
		}
	}
	b.StopTimer()
	o, l, a := median(ours), median(lsnsPID), median(lsnsAll)
	ratio := float64(o) / float64(l)
	b.ReportMetric(float64(o.Microseconds())/1000, "boxtui-ms")
	b.ReportMetric(float64(l.Microseconds())/1000, "lsns-pid-ms")
	b.ReportMetric(ratio, "ratio")
	fmt.Printf("ls: %d processes in %d PID namespaces: boxtui ls --json %v, lsns -t pid %v, lsns %v; ratio boxtui/lsns-t-pid = %.2f (goal <= 0.50) %s\n",
		namespaces*perNS, namespaces, o.Round(time.Microsecond), l.Round(time.Microsecond), a.Round(time.Microsecond), ratio, verdict(ratio <= 0.5))
}

// timeLsns is timeCmd for lsns, which exits 1 when a process it is reading
// vanishes (other tests' containers on a shared machine): a failed run is
// tried again, and only a whole run is timed.
func timeLsns(b *testing.B, args ...string) time.Duration {
	b.Helper()
	var err error
	var out []byte
	for try := 0; try < 3; try++ {
		start := time.Now()
		out, err = exec.Command("lsns", args...).CombinedOutput()
		if err == nil {
			return time.Since(start)
		}
	}
	b.Fatalf("lsns %v: %v\n%s", args, err, out)
	return 0
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISSED"
}
