package bench

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The pane benchmarks compare a boxtui pane (pty.Terminal driven as the UI
// drives it) with a tmux pane of the same size, in the same run. They need
// no root. Goals (issue 7): throughput <= 2x tmux, keystroke echo <= 1.5x
// tmux (also while another pane floods), RSS < 60 MB with two panes after a
// 20 MB flood, ctrl+c on a flood back at the prompt within 100 ms.

const (
	paneCols, paneRows = 120, 40
	// marker is what the shell prints when a command is done; the typed
	// command line shows M$((6*7)), never M42.
	markerCmd = "echo M$((6*7))"
	marker    = "M42"
)

// cleared is true when the screen shows nothing but an empty prompt.
func cleared(s string) bool { return strings.TrimSpace(s) == "$" }

// atPrompt is true when the last line on screen is an empty prompt.
func atPrompt(s string) bool { return lastLine(s) == "$" }

func hasMarker(s string) bool { return strings.Contains(s, marker) }

// promptAfterCtrlC is true when the screen shows a fresh prompt after a ^C.
func promptAfterCtrlC(s string) bool { return strings.Contains(s, "^C") && atPrompt(s) }

// timeCommand types cmd followed by the marker echo and returns the time
// until the marker shows; it clears the screen first.
func timeCommand(tb testing.TB, p pane, cmd string) time.Duration {
	tb.Helper()
	d, err := runCommand(p, cmd)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// runCommand is timeCommand for other goroutines: it returns its failure.
func runCommand(p pane, cmd string) (time.Duration, error) {
	p.send("clear\r")
	if _, ok := p.waitFor(cleared, 10*time.Second); !ok {
		return 0, fmt.Errorf("screen not cleared:\n%s", p.screen())
	}
	start := time.Now()
	p.send(cmd + "; " + markerCmd + "\r")
	if _, ok := p.waitFor(hasMarker, 120*time.Second); !ok {
		return 0, fmt.Errorf("%q did not finish in 120s:\n%s", cmd, p.screen())
	}
	return time.Since(start), nil
}

// bigFile writes a 20 MB text file of lines of varying length, every tenth
// with colours, like a log.
func bigFile(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "big.txt")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	r := rand.New(rand.NewPCG(1, 2))
	const words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua"
	ws := strings.Fields(words)
	n := 0
	for i := 0; n < 20<<20; i++ {
		var line strings.Builder
		fmt.Fprintf(&line, "%08d ", i)
		if i%10 == 0 {
			line.WriteString("\x1b[1;32mINFO\x1b[0m ")
		}
		for k := r.IntN(16); k >= 0; k-- {
			line.WriteString(ws[r.IntN(len(ws))])
			line.WriteByte(' ')
		}
		line.WriteByte('\n')
		m, _ := w.WriteString(line.String())
		n += m
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

func report(b *testing.B, what string, ours, tmux time.Duration, goal float64) {
	ratio := float64(ours) / float64(tmux)
	verdict := "ok"
	if ratio > goal {
		verdict = "MISSED"
	}
	b.Logf("%-34s boxtui %9s  tmux %9s  ratio %5.2fx  (goal <= %.1fx: %s)", what,
		ours.Round(100*time.Microsecond), tmux.Round(100*time.Microsecond), ratio, goal, verdict)
}

// BenchmarkPaneThroughput times `seq 1 300000` and `cat` of a 20 MB file
// until the prompt returns, in a boxtui pane and a tmux pane, alternating.
func BenchmarkPaneThroughput(b *testing.B) {
	file := bigFile(b)
	tm := newTmuxServer(b, paneCols, paneRows)
	defer tm.kill()
	ui := newUIPane(b, paneCols, paneRows)
	defer ui.close()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for _, c := range []struct{ name, cmd string }{
			{"seq 1 300000", "seq 1 300000"},
			{"cat 20 MB", "cat " + file},
		} {
			var ours, theirs []time.Duration
			for r := 0; r < 3; r++ {
				theirs = append(theirs, timeCommand(b, tm, c.cmd))
				ours = append(ours, timeCommand(b, ui, c.cmd))
			}
			o, t := median(ours), median(theirs)
			report(b, "throughput "+c.name, o, t, 2)
			b.ReportMetric(float64(o)/float64(t), "x-tmux-"+strings.Fields(c.name)[0])
		}
	}
}

// echoLatency types a character at the prompt and times until it shows,
// then erases it; the median of rounds.
func echoLatency(tb testing.TB, p pane, rounds int) time.Duration {
	tb.Helper()
	var ds []time.Duration
	for r := 0; r < rounds; r++ {
		ch := string(rune('a' + r%26))
		want := "$ " + ch
		// A person types a few keys a second; pausing between keys keeps
		// each one from landing in the previous key's 16 ms frame window,
		// which would measure the frame pacing, not the echo.
		time.Sleep(50 * time.Millisecond)
		start := time.Now()
		p.send(ch)
		if _, ok := p.waitFor(func(s string) bool { return lastLine(s) == want }, 5*time.Second); !ok {
			tb.Fatalf("echo of %q never showed:\n%s", ch, p.screen())
		}
		ds = append(ds, time.Since(start))
		p.send("\x7f")
		if _, ok := p.waitFor(func(s string) bool { return lastLine(s) == "$" || lastLine(s) == "$ " }, 5*time.Second); !ok {
			tb.Fatalf("erase never showed:\n%s", p.screen())
		}
	}
	return median(ds)
}

// lastLine returns the last non-blank line of a screen, right-trimmed.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, " \n"), "\n")
	return strings.TrimRight(lines[len(lines)-1], " ")
}

// BenchmarkPaneLatency times keystroke to echo, idle and while a second
// pane of the same kind floods output.
func BenchmarkPaneLatency(b *testing.B) {
	tm := newTmuxServer(b, paneCols, paneRows)
	defer tm.kill()
	ui := newUIPane(b, paneCols, paneRows)
	defer ui.close()
	tm.poll = 0
	for _, p := range []pane{tm, ui} {
		p.send("clear\r")
		if _, ok := p.waitFor(cleared, 10*time.Second); !ok {
			b.Fatalf("screen not cleared:\n%s", p.screen())
		}
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		o, t := echoLatency(b, ui, 30), echoLatency(b, tm, 30)
		report(b, "keystroke echo, idle", o, t, 1.5)
		b.ReportMetric(float64(o)/float64(t), "x-tmux-echo")

		// Flood in a second pane of each kind, then measure again.
		tm2 := tm.newWindow(b)
		ui2 := newUIPane(b, paneCols, paneRows)
		tm2.send("seq 1 100000000\r")
		ui2.send("seq 1 100000000\r")
		o, t = echoLatency(b, ui, 30), echoLatency(b, tm, 30)
		tm2.ctrlC()
		ui2.ctrlC()
		ui2.close()
		report(b, "keystroke echo, other pane floods", o, t, 1.5)
		b.ReportMetric(float64(o)/float64(t), "x-tmux-echo-flood")
	}
}

// rssMB returns this process's resident set after a full GC.
func rssMB(tb testing.TB) float64 {
	runtime.GC()
	debug.FreeOSMemory()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return float64(kb) / 1024
		}
	}
	tb.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// BenchmarkPaneMemory measures the process RSS with two panes after each
// had a 20 MB file cat'ed through it (scrollback full). tmux's server RSS
// is printed beside it for reference.
func BenchmarkPaneMemory(b *testing.B) {
	file := bigFile(b)
	before := rssMB(b)
	tm := newTmuxServer(b, paneCols, paneRows)
	defer tm.kill()
	tm2 := tm.newWindow(b)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		ui1 := newUIPane(b, paneCols, paneRows)
		ui2 := newUIPane(b, paneCols, paneRows)
		var wg sync.WaitGroup
		for _, p := range []pane{ui1, ui2, tm, tm2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := runCommand(p, "cat "+file); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
		after := rssMB(b)
		tmuxRSS := 0.0
		pid := strings.TrimSpace(tm.srv.run("display-message -p '#{pid}'"))
		if data, err := os.ReadFile("/proc/" + pid + "/status"); err == nil {
			for _, line := range strings.Split(string(data), "\n") {
				if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
					kb, _ := strconv.Atoi(f[1])
					tmuxRSS = float64(kb) / 1024
				}
			}
		}
		verdict := "ok"
		if after >= 60 {
			verdict = "MISSED"
		}
		b.Logf("%-34s boxtui %6.1f MB (%.1f MB before the panes)  tmux server %6.1f MB  ratio %5.2fx  (goal < 60 MB: %s)",
			"RSS, two panes after 20 MB cat", after, before, tmuxRSS, after/tmuxRSS, verdict)
		b.ReportMetric(after, "MB-rss")
		ui1.close()
		ui2.close()
	}
}

// BenchmarkPaneCtrlC times ctrl+c on `seq 1 100000000` until the new prompt
// shows.
func BenchmarkPaneCtrlC(b *testing.B) {
	tm := newTmuxServer(b, paneCols, paneRows)
	defer tm.kill()
	ui := newUIPane(b, paneCols, paneRows)
	defer ui.close()
	floodLine := regexp.MustCompile(`(?m)^[0-9]{6,}\s*$`)
	measure := func(p pane) time.Duration {
		var ds []time.Duration
		for r := 0; r < 5; r++ {
			p.send("clear\r")
			if _, ok := p.waitFor(cleared, 10*time.Second); !ok {
				b.Fatalf("screen not cleared:\n%s", p.screen())
			}
			p.send("seq 1 100000000\r")
			if _, ok := p.waitFor(floodLine.MatchString, 10*time.Second); !ok {
				b.Fatalf("no flood:\n%s", p.screen())
			}
			start := time.Now()
			p.ctrlC()
			if _, ok := p.waitFor(promptAfterCtrlC, 20*time.Second); !ok {
				b.Fatalf("no prompt after ctrl+c:\n%s", p.screen())
			}
			ds = append(ds, time.Since(start))
		}
		return median(ds)
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		o, t := measure(ui), measure(tm)
		verdict := "ok"
		if o > 100*time.Millisecond {
			verdict = "MISSED"
		}
		b.Logf("%-34s boxtui %9s  tmux %9s  ratio %5.2fx  (goal < 100ms: %s)", "ctrl+c on a flood to prompt",
			o.Round(100*time.Microsecond), t.Round(100*time.Microsecond), float64(o)/float64(t), verdict)
		b.ReportMetric(float64(o)/float64(time.Millisecond), "ms-ctrlc")
	}
}
