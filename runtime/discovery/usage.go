package discovery

import (
	"time"

	"boxtui/runtime/procfs"
	"boxtui/runtime/state"
)

// Usage is what a container consumed over the last interval between two
// scans.
type Usage struct {
	// CPUPercent is CPU time used over wall time, summed over the
	// container's processes: 100 is one core busy.
	CPUPercent float64 `json:"cpu_percent"`
	RSSBytes   int64   `json:"rss_bytes"`
	Processes  int     `json:"processes"`
}

// UsageMeter turns successive scans (with ScanOptions.ProcessNamespaces, so
// each process's stat line is read) into per-container usage. It costs no
// extra reads: the CPU and memory figures ride on the scan's stat lines.
type UsageMeter struct {
	last  time.Time
	ticks map[procKey]uint64
}

type procKey struct {
	pid   int
	start uint64
}

// NewUsageMeter returns a meter with no history: its first Observe reports
// 0% CPU.
func NewUsageMeter() *UsageMeter { return &UsageMeter{ticks: map[procKey]uint64{}} }

// Observe takes a scan taken at `at` and returns the usage of each running
// container since the previous scan, keyed by init PID. A process seen for
// the first time counts only the CPU it used since the previous scan would
// have been taken, at most: new processes started within the interval.
func (m *UsageMeter) Observe(snap Snapshot, at time.Time) map[int]Usage {
	out := make(map[int]Usage, len(snap.Containers))
	elapsed := at.Sub(m.last)
	first := m.last.IsZero() || elapsed <= 0
	next := make(map[procKey]uint64, len(m.ticks))
	bootAt := procfs.BootTime()
	for _, c := range snap.Containers {
		if c.Status != state.StatusRunning {
			continue
		}
		u := Usage{Processes: c.Processes}
		var used uint64
		for _, p := range c.Procs {
			k := procKey{p.PID, p.StartTime}
			next[k] = p.CPUTicks
			u.RSSBytes += p.RSSBytes
			if first {
				continue
			}
			if prev, ok := m.ticks[k]; ok {
				if p.CPUTicks >= prev {
					used += p.CPUTicks - prev
				}
				continue
			}
			// New since the last scan: all its CPU time falls in the interval
			// if it started within it.
			if started := bootAt.Add(procfs.TicksToDuration(p.StartTime)); started.After(m.last) {
				used += p.CPUTicks
			}
		}
		if !first {
			u.CPUPercent = 100 * procfs.TicksToDuration(used).Seconds() / elapsed.Seconds()
		}
		out[c.PID] = u
	}
	m.ticks = next
	m.last = at
	return out
}
