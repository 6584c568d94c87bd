package bench

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"boxtui/internal/testutil"
)

// BenchmarkLsWithDockerNames is BenchmarkLsVsLsns with docker's
// containers: 2,000 sleeping processes in 50 docker containers, which
// `boxtui ls --json` now names from docker's state, timed against `lsns -t
// pid`, taking turns. Goal: the ls figure, boxtui at most half of lsns -t
// pid.
func BenchmarkLsWithDockerNames(b *testing.B) {
	docker := testutil.Docker(b)
	image := testutil.EngineImage(b, "docker")
	bin := boxtuiBin(b)
	const containers, perNS = 50, 40
	script := fmt.Sprintf("for i in $(seq %d); do sleep 100000 & done; wait", perNS-1)
	names := make([]string, containers)
	for i := range names {
		names[i] = fmt.Sprintf("bt-names-bench-%d", i)
	}
	rm := func() { exec.Command(docker, append([]string{"rm", "-f"}, names...)...).Run() }
	rm() // a crashed earlier run's
	b.Cleanup(rm)

	// Four at a time: docker run is mostly waiting on the daemon.
	var wg sync.WaitGroup
	errs := make(chan error, containers)
	work := make(chan string)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range work {
				out, err := exec.Command(docker, "run", "-d", "--network", "none", "--name", name, image, "bash", "-c", script).CombinedOutput()
				if err != nil {
					errs <- fmt.Errorf("docker run %s: %v: %s", name, err, out)
				}
			}
		}()
	}
	for _, n := range names {
		work <- n
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	// Every container listed under its docker name, with all its
	// processes.
	testutil.WaitFor(b, 120*time.Second, func() bool {
		out, err := exec.Command(bin, "ls", "--json").Output()
		if err != nil {
			return false
		}
		var cs []struct {
			Name      string `json:"name"`
			Processes int    `json:"processes"`
		}
		if json.Unmarshal(out, &cs) != nil {
			return false
		}
		n := 0
		for _, c := range cs {
			if strings.HasPrefix(c.Name, "bt-names-bench-") && c.Processes == perNS {
				n++
			}
		}
		return n == containers
	}, "ls --json to name every docker container, each with all its processes")

	const rounds = 15
	var ours, lsnsPID []time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for r := 0; r < rounds; r++ {
			ours = append(ours, timeCmd(b, bin, "ls", "--json"))
			lsnsPID = append(lsnsPID, timeLsns(b, "-t", "pid"))
		}
	}
	b.StopTimer()
	o, l := median(ours), median(lsnsPID)
	ratio := float64(o) / float64(l)
	b.ReportMetric(float64(o.Microseconds())/1000, "boxtui-ms")
	b.ReportMetric(float64(l.Microseconds())/1000, "lsns-pid-ms")
	b.ReportMetric(ratio, "ratio")
	fmt.Printf("ls with names: %d processes in %d docker containers: boxtui ls --json %v, lsns -t pid %v; ratio = %.2f (goal <= 0.50) %s\n",
		containers*perNS, containers, o.Round(time.Microsecond), l.Round(time.Microsecond), ratio, verdict(ratio <= 0.5))
}
