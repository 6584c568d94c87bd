package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"boxtui/runtime/discovery"
	"boxtui/ui/components/table"
	"boxtui/ui/styles"

	"github.com/guptarohit/asciigraph"
)

// historyLen is how many samples of each container the sparklines keep:
// two minutes at the default one-second refresh.
const historyLen = 120

// procKey names a process (or a container, by its init) across refreshes:
// a PID alone may be reused by a later process.
type procKey struct {
	pid   int
	start uint64
}

// usageHistory is a container's recent usage, oldest first.
type usageHistory struct {
	cpu []float64 // percent of one core
	rss []float64 // bytes
}

// record appends the scan's figures to each running container's
// history and drops the history of containers that are gone, so the map
// never holds more than the containers on screen.
func (s *usageStore) record(snap discovery.Snapshot, usage map[int]discovery.Usage) {
	s.last = usage
	if s.history == nil {
		s.history = map[procKey]*usageHistory{}
	}
	seen := make(map[procKey]bool, len(snap.Containers))
	for _, c := range snap.Containers {
		u, ok := usage[c.PID]
		if !ok {
			continue
		}
		k := procKey{c.PID, c.StartTime}
		seen[k] = true
		h := s.history[k]
		if h == nil {
			h = &usageHistory{}
			s.history[k] = h
		}
		h.cpu = appendBounded(h.cpu, u.CPUPercent)
		h.rss = appendBounded(h.rss, float64(u.RSSBytes))
	}
	for k := range s.history {
		if !seen[k] {
			delete(s.history, k)
		}
	}
}

// appendBounded appends v and keeps the newest historyLen values. The
// slice is copied down only when its spare capacity runs out, so a full
// history costs one copy per historyLen samples, not one per sample.
func appendBounded(s []float64, v float64) []float64 {
	if len(s) >= historyLen {
		if cap(s) == len(s) {
			n := make([]float64, historyLen-1, 2*historyLen)
			copy(n, s[len(s)-historyLen+1:])
			s = n
		} else {
			s = s[len(s)-historyLen+1:]
		}
	}
	return append(s, v)
}

// formatCPU prints a CPU percentage in at most 5 cells: one decimal below
// 100, so a busy loop reads 99.7, not a rounded-up 100.
func formatCPU(p float64) string {
	switch {
	case p < 99.95:
		return strconv.FormatFloat(p, 'f', 1, 64)
	default:
		return strconv.FormatFloat(p, 'f', 0, 64)
	}
}

// formatBytes prints a size the way top does, in at most 6 cells.
func formatBytes(b float64) string {
	units := []string{"B", "K", "M", "G", "T"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	switch {
	case i == 0:
		return strconv.FormatFloat(b, 'f', 0, 64) + units[i]
	case b < 9.95:
		return strconv.FormatFloat(b, 'f', 1, 64) + units[i]
	default:
		return strconv.FormatFloat(b, 'f', 0, 64) + units[i]
	}
}

// usageCells are the list's CPU and memory cells of c: "-" until a scan has
// measured it (and for containers that are not running).
func usageCells(usage map[int]discovery.Usage, c discovery.Container) (cpu, mem table.Cell) {
	u, ok := usage[c.PID]
	if !ok {
		return table.Cell{Text: "-"}, table.Cell{Text: "-"}
	}
	return table.Cell{Text: formatCPU(u.CPUPercent)}, table.Cell{Text: formatBytes(float64(u.RSSBytes))}
}

// usageBlockHeight is how many lines usageStore.view draws for a chart of h rows.
func usageBlockHeight(h int) int { return h + 2 }

// view draws the CPU and memory sparklines of c side by side, each chart
// rows+1 lines tall plus a caption; refresh is the sampling interval.
func (s usageStore) view(st *styles.Styles, c discovery.Container, refresh time.Duration, width, rows int) string {
	h := s.history[procKey{c.PID, c.StartTime}]
	half := (width - 2) / 2
	title := st.Section.Render(table.Fit(fmt.Sprintf("usage of %s — last %s, one sample per refresh", containerLabel(c), historySpan(refresh)), width, false))
	if h == nil || len(h.cpu) == 0 {
		return title + "\n" + st.Muted.Render(table.Fit("measuring…", width, false))
	}
	u := s.last[c.PID]
	cpu := chart(st, h.cpu, half, rows, func(v float64) string { return formatCPU(v) + "%" }, true)
	mem := chart(st, h.rss, width-half-2, rows, func(v float64) string { return formatBytes(v) }, false)
	capL := table.Fit(fmt.Sprintf("cpu %s%% (100%% = one core busy)", formatCPU(u.CPUPercent)), half, false)
	capR := table.Fit(fmt.Sprintf("memory %s resident, %d process(es)", formatBytes(float64(u.RSSBytes)), u.Processes), width-half-2, false)
	lines := []string{title, st.Muted.Render(capL) + "  " + st.Muted.Render(capR)}
	for i := 0; i < max(len(cpu), len(mem)); i++ {
		var l, r string
		if i < len(cpu) {
			l = cpu[i]
		}
		if i < len(mem) {
			r = mem[i]
		}
		lines = append(lines, table.Fit(l, half, false)+"  "+table.Fit(r, width-half-2, false))
	}
	return strings.Join(lines, "\n")
}

// chart plots the newest samples that fit in width cells with asciigraph,
// rows+1 lines tall. CPU is drawn from 0 to at least 100 so an idle
// container reads flat at the bottom instead of magnifying noise.
func chart(st *styles.Styles, series []float64, width, rows int, label func(float64) string, percent bool) []string {
	const axis = 8 // the y labels ("100.0%", "12.3M") and the axis line
	n := max(width-axis, 2)
	if len(series) > n {
		series = series[len(series)-n:]
	}
	if len(series) == 1 {
		series = []float64{series[0], series[0]} // one point draws no line
	}
	opts := []asciigraph.Option{
		asciigraph.Height(rows), asciigraph.LowerBound(0), asciigraph.Offset(2),
		asciigraph.YAxisValueFormatter(label),
	}
	if percent {
		opts = append(opts, asciigraph.UpperBound(100))
	}
	if !st.NoColor {
		c := asciigraph.Green
		if !percent {
			c = asciigraph.SkyBlue
		}
		opts = append(opts, asciigraph.SeriesColors(c), asciigraph.AxisColor(asciigraph.Gray), asciigraph.LabelColor(asciigraph.Gray))
	}
	return strings.Split(asciigraph.Plot(series, opts...), "\n")
}

// historySpan is how long historyLen samples last at the refresh interval.
func historySpan(refresh time.Duration) string {
	d := time.Duration(historyLen) * refresh
	if d >= time.Minute && d < time.Hour && d%time.Minute == 0 {
		return strconv.Itoa(int(d/time.Minute)) + " min"
	}
	return formatUptime(d)
}

// usageStore is the last scan's figures by init PID and, for the
// sparklines, the recent ones of each running container.
type usageStore struct {
	last    map[int]discovery.Usage
	history map[procKey]*usageHistory
}
