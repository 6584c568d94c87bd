package bench

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
)

// BenchmarkPaneMemoryUI is issue 17's memory goal: the real binary in tmux
// with two shell panes on one container, a 40 MB file cat'ed in each at
// the same time, then the UI process's RSS, beside the RSS of a tmux server
// (its own socket, two panes of the same size, the same scrollback) that
// did the same. Goal: the UI at most 20 MB.
func BenchmarkPaneMemoryUI(b *testing.B) {
	requireRoot(b)
	if _, err := exec.LookPath("tmux"); err != nil {
		b.Skip("needs tmux")
	}
	bin := boxtuiBin(b)
	rootfs := testutil.FreshRootfs(b)
	flood := filepath.Join(rootfs, "flood.txt")
	writeFlood(b, flood, 40<<20)
	tag := "9" + strconv.Itoa(100000+time.Now().Nanosecond()%800000)
	testutil.StartUnshare(b, rootfs, "/bin/sleep", tag)

	const cols, rows = 120, 40
	ui := newTmuxSession(b, "boxtui-bench-mem-ui", cols, rows,
		"env", "BOXTUI_RUN_DIR="+b.TempDir(), "BOXTUI_LOG=off", "TERM=xterm-256color", bin)
	peer := newTmuxSession(b, "boxtui-bench-mem-peer", cols, rows, "env", "-i", "PS1=$ ", "PATH="+os.Getenv("PATH"), "bash", "--norc", "--noprofile")
	// A pane's scrollback here is 1,000 lines; the option holds for panes
	// made after it is set, so both are made afresh.
	peer.run("set-option", "-g", "history-limit", "1000")
	shell := []string{"env", "-i", "PS1=$ ", "PATH=" + os.Getenv("PATH"), "bash", "--norc", "--noprofile"}
	peer.run(append([]string{"new-window", "-t", "s:1"}, shell...)...)
	peer.run(append([]string{"split-window", "-t", "s:1"}, shell...)...)
	peer.run("kill-window", "-t", "s:0")

	// One run: the figure is a state (the UI after the floods), not a rate.
	b.ResetTimer()
	{
		// Two exec panes on the container.
		ui.wait("container(s)", 15*time.Second)
		idle := settledRSS(b, ui.pid())
		ui.keys("/")
		ui.typ(tag)
		ui.keys("Enter", "e")
		ui.wait(" exec", 10*time.Second)
		ui.keys("C-]", "e")
		ui.waitFunc("a second pane", func(s string) bool { return strings.Count(s, " exec") >= 2 }, 10*time.Second)
		panes := settledRSS(b, ui.pid())
		ui.typ("cat /flood.txt; echo B$((6*7))")
		ui.keys("Enter", "C-]", "1")
		ui.typ("cat /flood.txt; echo A$((6*7))")
		ui.keys("Enter")
		for _, p := range []string{"0", "1"} {
			peer.typeTo("s."+p, "cat "+flood+"; echo P"+p+"$((6*7))")
		}
		start := time.Now()
		ui.waitFunc("both floods done", func(s string) bool { return strings.Contains(s, "A42") && strings.Contains(s, "B42") }, 5*time.Minute)
		uiTook := time.Since(start)
		peer.waitFunc("both floods done", func(s string) bool { return strings.Contains(s, "P042") && strings.Contains(s, "P142") }, 5*time.Minute)
		after, tmux := settledRSS(b, ui.pid()), settledRSS(b, peer.serverPID())
		b.StopTimer()
		b.ReportMetric(after.total, "MB-ui-rss")
		b.ReportMetric(tmux.total, "MB-tmux-rss")
		b.ReportMetric(after.total-idle.total, "MB-ui-panes")
		fmt.Printf("memory: boxtui UI RSS %.1f MB with no pane (%.1f MB of it the binary's mapped pages), %.1f MB with two panes open, %.1f MB after the floods (+%.1f MB for the panes)\n",
			idle.total, idle.file, panes.total, after.total, after.total-idle.total)
		fmt.Printf("memory: two panes in a %dx%d UI after two 40 MB floods (done in %v): boxtui UI %.1f MB RSS (%.1f MB anonymous, %.1f MB file pages), tmux server %.1f MB (%.1f, %.1f); ratio %.2f; goal UI <= 20 MB %s\n",
			cols, rows, uiTook.Round(time.Millisecond), after.total, after.anon, after.file, tmux.total, tmux.anon, tmux.file, after.total/tmux.total, verdict(after.total <= 20))
	}
}

// writeFlood writes size bytes of log-like lines, one in ten coloured.
func writeFlood(tb testing.TB, path string, size int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	words := strings.Fields("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua")
	for i, n := 0, 0; n < size; i++ {
		var line strings.Builder
		fmt.Fprintf(&line, "%08d ", i)
		if i%10 == 0 {
			line.WriteString("\x1b[1;32mINFO\x1b[0m ")
		}
		for k := 0; k <= (i*7)%16; k++ {
			line.WriteString(words[(i*31+k*17)%len(words)])
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
}

// rss is a process's resident set in MB, the part of it that is mapped
// file pages (the program's own code and data) and the anonymous part
// (heap, stacks, the runtime's own).
type rss struct{ total, file, anon float64 }

// settledRSS polls pid's RSS every half second until it has stayed within
// 0.2 MB for two seconds (the UI returns the heap a second after output
// stops; the Go runtime returns more in the background), or twenty seconds
// pass, and returns the last sample.
func settledRSS(tb testing.TB, pid int) rss {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var window []float64
	for {
		r := rssOf(tb, pid)
		window = append(window, r.total)
		if len(window) > 5 {
			window = window[1:]
		}
		if len(window) == 5 && slices.Max(window)-slices.Min(window) < 0.2 || time.Now().After(deadline) {
			return r
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func rssOf(tb testing.TB, pid int) rss {
	tb.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	var r rss
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "VmRSS:":
			r.total = float64(kb) / 1024
		case "RssFile:":
			r.file = float64(kb) / 1024
		case "RssAnon:":
			r.anon = float64(kb) / 1024
		}
	}
	if r.total == 0 {
		tb.Fatalf("no VmRSS for pid %d", pid)
	}
	return r
}

// tmuxSession is a tmux server of its own with one session "s".
type tmuxSession struct {
	tb   testing.TB
	sock string
}

func newTmuxSession(tb testing.TB, name string, cols, rows int, argv ...string) *tmuxSession {
	tb.Helper()
	s := &tmuxSession{tb: tb, sock: fmt.Sprintf("%s-%d", name, os.Getpid())}
	s.run(append([]string{"-f", "/dev/null", "new-session", "-d", "-s", "s", "-x", strconv.Itoa(cols), "-y", strconv.Itoa(rows)}, argv...)...)
	path := strings.TrimSpace(s.run("display-message", "-p", "#{socket_path}"))
	tb.Cleanup(func() {
		_ = exec.Command("tmux", "-L", s.sock, "kill-server").Run()
		_ = os.Remove(path) // tmux 3.3a leaves it behind
	})
	s.run("set-option", "-t", "s", "window-size", "manual")
	s.run("set-option", "-g", "status", "off")
	s.run("resize-window", "-t", "s", "-x", strconv.Itoa(cols), "-y", strconv.Itoa(rows))
	return s
}

func (s *tmuxSession) run(args ...string) string {
	s.tb.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		s.tb.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s *tmuxSession) keys(keys ...string) {
	s.run(append([]string{"send-keys", "-t", "s"}, keys...)...)
}
func (s *tmuxSession) typ(text string) { s.run("send-keys", "-t", "s", "-l", text) }
func (s *tmuxSession) typeTo(pane, text string) {
	s.run("send-keys", "-t", pane, "-l", text)
	s.run("send-keys", "-t", pane, "Enter")
}

// screen is every pane of the window, one after the other.
func (s *tmuxSession) screen() string {
	var b strings.Builder
	for _, p := range strings.Fields(s.run("list-panes", "-t", "s", "-F", "#{pane_id}")) {
		b.WriteString(s.run("capture-pane", "-p", "-t", p))
	}
	return b.String()
}

func (s *tmuxSession) wait(want string, limit time.Duration) {
	s.tb.Helper()
	s.waitFunc(fmt.Sprintf("%q", want), func(x string) bool { return strings.Contains(x, want) }, limit)
}

func (s *tmuxSession) waitFunc(what string, ok func(string) bool, limit time.Duration) {
	s.tb.Helper()
	deadline := time.Now().Add(limit)
	for {
		sc := s.screen()
		if ok(sc) {
			return
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("waiting for %s: timed out; screen:\n%s", what, sc)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pid is the first pane's process (the program, as env execs it).
func (s *tmuxSession) pid() int {
	p, _ := strconv.Atoi(strings.TrimSpace(s.run("display-message", "-p", "-t", "s.0", "#{pane_pid}")))
	return p
}

func (s *tmuxSession) serverPID() int {
	p, _ := strconv.Atoi(strings.TrimSpace(s.run("display-message", "-p", "#{pid}")))
	return p
}
