package bench

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"

	"boxtui/pty"
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

func shellEnv() []string {
	return []string{"PS1=$ ", "TERM=xterm-256color", "PATH=" + os.Getenv("PATH"), "HOME=/tmp", "LANG=C.UTF-8"}
}

// shellCommand is the shell tmux runs, with the same environment as ours.
func shellCommand() string {
	var b strings.Builder
	b.WriteString("exec env -i")
	for _, kv := range shellEnv() {
		b.WriteString(" '" + strings.ReplaceAll(kv, "'", `'\''`) + "'")
	}
	b.WriteString(" bash --norc --noprofile")
	return b.String()
}

// pane is one of the two contestants.
type pane interface {
	send(text string) // types text (no Enter)
	ctrlC()           // sends ctrl+c
	screen() string   // what the user sees now (plain text)
	waitFor(func(string) bool, time.Duration) (time.Duration, bool)
	close()
}

// uiPane drives a pty.Terminal exactly as the UI does: a consumer renders
// on Updates, at most once per 16 ms window, and checks what it rendered.
type uiPane struct {
	t     *pty.Terminal
	mu    sync.Mutex
	frame string
	seen  chan struct{} // closed and replaced on every frame
	stop  chan struct{}
	wg    sync.WaitGroup
}

func newUIPane(tb testing.TB, cols, rows int) *uiPane {
	tb.Helper()
	t := pty.New(cols, rows)
	cmd := exec.Command("bash", "--norc", "--noprofile")
	cmd.Env = shellEnv()
	if err := t.Start(cmd); err != nil {
		tb.Fatal(err)
	}
	p := &uiPane{t: t, seen: make(chan struct{}), stop: make(chan struct{})}
	p.wg.Add(1)
	go p.consume()
	if _, ok := p.waitFor(atPrompt, 5*time.Second); !ok {
		p.close()
		tb.Fatalf("no prompt in boxtui pane:\n%s", p.screen())
	}
	return p
}

// consume is the UI's frame pacing: draw at once if the last frame is 16 ms
// old, else at the end of the 16 ms window; one frame for many updates.
func (p *uiPane) consume() {
	defer p.wg.Done()
	const frame = 16 * time.Millisecond
	var last time.Time
	var timer <-chan time.Time
	draw := func() {
		s := ansi.Strip(p.t.Render())
		last = time.Now()
		p.mu.Lock()
		p.frame = s
		close(p.seen)
		p.seen = make(chan struct{})
		p.mu.Unlock()
	}
	draw()
	for {
		select {
		case <-p.stop:
			return
		case <-p.t.Updates():
			if timer != nil {
				continue // a frame is already scheduled
			}
			if wait := frame - time.Since(last); wait > 0 {
				timer = time.After(wait)
				continue
			}
			draw()
		case <-timer:
			timer = nil
			draw()
		}
	}
}

func (p *uiPane) send(text string) { p.t.SendText(text) }
func (p *uiPane) ctrlC()           { p.t.SendKey(uv.KeyPressEvent{Code: 'c', Mod: uv.ModCtrl}) }
func (p *uiPane) screen() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.frame
}

func (p *uiPane) waitFor(ok func(string) bool, limit time.Duration) (time.Duration, bool) {
	start := time.Now()
	deadline := time.After(limit)
	for {
		p.mu.Lock()
		s, seen := p.frame, p.seen
		p.mu.Unlock()
		if ok(s) {
			return time.Since(start), true
		}
		select {
		case <-seen:
		case <-deadline:
			return time.Since(start), false
		}
	}
}

func (p *uiPane) close() {
	close(p.stop)
	p.wg.Wait()
	_ = p.t.Close()
}

// tmuxServer is a private tmux server and one control-mode client on it.
// Commands go through the control client's stdin, not a new tmux process
// each, so tmux's figures are not a measure of fork+exec.
type tmuxServer struct {
	sock string
	path string // the socket file, which kill-server leaves behind
	mu   sync.Mutex
	ctl  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
}

// tmuxPane is a pane of the private tmux server, read with capture-pane.
type tmuxPane struct {
	srv    *tmuxServer
	target string
	// poll is the pause between captures: the tmux server is single
	// threaded, and capturing in a tight loop would slow the very flood
	// being timed. The latency benchmark polls without pause.
	poll time.Duration
}

func newTmuxServer(tb testing.TB, cols, rows int) *tmuxPane {
	tb.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		tb.Skip("needs tmux")
	}
	srv := &tmuxServer{sock: fmt.Sprintf("boxtui-bench-%d-%d", os.Getpid(), rand.Int())}
	p := &tmuxPane{srv: srv, target: "bench:0.0", poll: 5 * time.Millisecond}
	size := fmt.Sprintf("%dx%d", cols, rows)
	for _, args := range [][]string{
		{"-f", "/dev/null", "new-session", "-d", "-s", "bench", "-x", strconv.Itoa(cols), "-y", strconv.Itoa(rows), shellCommand()},
		{"set-option", "-g", "history-limit", "1000"},
		{"set-option", "-g", "default-command", shellCommand()},
		{"set-option", "-g", "status", "off"},
		{"set-option", "-g", "default-size", size},
		{"resize-window", "-t", "bench", "-x", strconv.Itoa(cols), "-y", strconv.Itoa(rows)},
	} {
		if out, err := exec.Command("tmux", append([]string{"-L", srv.sock}, args...)...).CombinedOutput(); err != nil {
			srv.kill()
			tb.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
	}
	if out, err := exec.Command("tmux", "-L", srv.sock, "display-message", "-p", "#{socket_path}").Output(); err == nil {
		srv.path = strings.TrimSpace(string(out))
	}
	srv.ctl = exec.Command("tmux", "-L", srv.sock, "-C", "attach-session", "-t", "bench")
	var err error
	if srv.in, err = srv.ctl.StdinPipe(); err != nil {
		tb.Fatal(err)
	}
	stdout, err := srv.ctl.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	srv.out = bufio.NewReaderSize(stdout, 1<<20)
	if err := srv.ctl.Start(); err != nil {
		srv.kill()
		tb.Fatalf("start tmux control client: %v", err)
	}
	srv.readBlock() // the reply to attach-session itself
	// The control client's size decides the window size (window-size
	// manual would do it too, but crashes tmux 3.3a on new-window).
	srv.run("refresh-client -f no-output -C " + size)
	if got := strings.TrimSpace(srv.run("display-message -p -t " + p.target + " '#{pane_width}x#{pane_height}'")); got != size {
		srv.kill()
		tb.Fatalf("tmux pane is %s, want %s", got, size)
	}
	if _, ok := p.waitFor(atPrompt, 5*time.Second); !ok {
		srv.kill()
		tb.Fatalf("no prompt in tmux pane:\n%s", p.screen())
	}
	return p
}

// readBlock reads one %begin..%end reply, skipping notifications.
func (s *tmuxServer) readBlock() string {
	var b strings.Builder
	in := false
	for {
		line, err := s.out.ReadString('\n')
		if err != nil {
			return b.String()
		}
		switch {
		case !in && strings.HasPrefix(line, "%begin "):
			in = true
		case in && (strings.HasPrefix(line, "%end ") || strings.HasPrefix(line, "%error ")):
			return b.String()
		case in:
			b.WriteString(line)
		}
	}
}

// run sends one command line to the control client and returns its output.
func (s *tmuxServer) run(cmd string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := io.WriteString(s.in, cmd+"\n"); err != nil {
		return ""
	}
	return s.readBlock()
}

func (s *tmuxServer) kill() {
	_ = exec.Command("tmux", "-L", s.sock, "kill-server").Run()
	if s.ctl != nil {
		_ = s.in.Close()
		_ = s.ctl.Wait()
	}
	if s.path != "" {
		_ = os.Remove(s.path)
	}
}

// newWindow adds a second shell (for the flood) in a window of its own, so
// both keep the requested size.
func (p *tmuxPane) newWindow(tb testing.TB) *tmuxPane {
	tb.Helper()
	p.srv.run("new-window -d -t bench:1")
	q := &tmuxPane{srv: p.srv, target: "bench:1.0", poll: p.poll}
	if _, ok := q.waitFor(atPrompt, 5*time.Second); !ok {
		tb.Fatalf("no prompt in second tmux pane:\n%s\n%s", q.screen(), p.srv.run("list-windows"))
	}
	return q
}

// tmuxQuote quotes s for tmux's command parser: single quotes are literal.
func tmuxQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// send types text; CR and DEL go as the Enter and BSpace keys.
func (p *tmuxPane) send(text string) {
	lit := func(s string) {
		if s != "" {
			p.srv.run("send-keys -t " + p.target + " -l " + tmuxQuote(s))
		}
	}
	start := 0
	for i := 0; i < len(text); i++ {
		key := ""
		switch text[i] {
		case '\r':
			key = "Enter"
		case 0x7f:
			key = "BSpace"
		default:
			continue
		}
		lit(text[start:i])
		p.srv.run("send-keys -t " + p.target + " " + key)
		start = i + 1
	}
	lit(text[start:])
}

func (p *tmuxPane) ctrlC()         { p.srv.run("send-keys -t " + p.target + " C-c") }
func (p *tmuxPane) screen() string { return p.srv.run("capture-pane -p -t " + p.target) }

// waitFor polls capture-pane through the control client.
func (p *tmuxPane) waitFor(ok func(string) bool, limit time.Duration) (time.Duration, bool) {
	start := time.Now()
	for {
		if ok(p.screen()) {
			return time.Since(start), true
		}
		if time.Since(start) > limit {
			return time.Since(start), false
		}
		time.Sleep(p.poll)
	}
}

func (p *tmuxPane) close() {}
func (p *tmuxPane) kill()  { p.srv.kill() }

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
