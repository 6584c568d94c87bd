package bench

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"golang.org/x/sys/unix"
)

// BenchmarkKeystrokeUI measures keystroke to screen in the real UI against a
// nested tmux, side by side in one run (issue 17, goal: boxtui <= 1.2x), in
// both kinds of shell pane.
//
// One outer tmux server of the benchmark's own holds one session with two
// windows of the same size: window 0 runs the boxtui UI with a shell pane
// open; window 1 runs a nested tmux (its own socket) whose one pane runs the
// same kind of shell through the CLI, each one terminal in from the outer
// tmux:
//   - exec: the UI's exec pane (`e`) on a container of the benchmark's own,
//     and `boxtui exec` of the same container;
//   - console: the UI attached (`enter`) to the console of a container whose
//     command is bash, and `boxtui attach` to a second such container (a
//     console's output goes to every client, so each side has its own); both
//     go through the container's holder.
//
// A control-mode client on the outer server sends each key (`send-keys
// -l`) and receives the panes' output as %output notifications, so no
// polling paces what is measured: a sample is the time from sending a
// printable key to the %output notification that carried its echo to the
// outer tmux (confirmed by capture-pane). Samples alternate between the
// two, at a random typing pace, quiet and then while a child process of the
// benchmark's own keeps both cores busy: 60 of each in each phase, or
// BOXTUI_KEYSTROKE_SAMPLES.
func BenchmarkKeystrokeUI(b *testing.B) {
	b.Run("exec", func(b *testing.B) { keystrokeBench(b, false) })
	b.Run("console", func(b *testing.B) { keystrokeBench(b, true) })
}

func keystrokeBench(b *testing.B, console bool) {
	requireRoot(b)
	if _, err := exec.LookPath("tmux"); err != nil {
		b.Skip("needs tmux")
	}
	bin := boxtuiBin(b)
	rootfs := testutil.Rootfs(b)
	runDir := b.TempDir()
	name := fmt.Sprintf("kb%d", os.Getpid()%100000)
	env := []string{"BOXTUI_RUN_DIR=" + runDir}
	// The UI's container, and the nested tmux's: the same one for exec.
	names, cmd, cli := []string{name}, "/bin/sleep 1000000", "exec"
	if console {
		names, cmd, cli = []string{name + "u", name + "t"}, "/bin/bash", "attach"
	}
	for _, nm := range names {
		argv := append([]string{"run", "-d", "--name", nm, "--rootfs", rootfs, "--"}, strings.Fields(cmd)...)
		if out, err := runEnv(env, bin, argv...); err != nil {
			b.Fatalf("boxtui run: %v\n%s", err, out)
		}
		defer func() {
			runEnv(env, bin, "kill", nm)
			runEnv(env, bin, "rm", "-f", nm)
		}()
	}
	uiName, tmuxName := names[0], names[len(names)-1]

	o := newOuterTmux(b, 120, 40)
	defer o.kill()

	// Window 0: the UI. Window 1: a nested tmux on a socket of its own.
	conf := filepath.Join(b.TempDir(), "inner.conf")
	if err := os.WriteFile(conf, []byte("set -g status off\nset -g default-terminal xterm-256color\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	inner := fmt.Sprintf("boxtui-bench-inner-%d", os.Getpid())
	defer func() {
		exec.Command("tmux", "-L", inner, "kill-server").Run()
		os.Remove(fmt.Sprintf("/tmp/tmux-%d/%s", os.Getuid(), inner))
	}()
	ui := o.window(b, 0, "env", "BOXTUI_RUN_DIR="+runDir, "TERM=xterm-256color", bin)
	nested := o.window(b, 1, "env", "-u", "TMUX", "BOXTUI_RUN_DIR="+runDir, "TERM=xterm-256color",
		"tmux", "-L", inner, "-f", conf, "new-session", "env", "TERM=xterm-256color", bin, cli, tmuxName)

	// The UI: select the container with the filter, open its pane.
	o.waitScreen(b, ui, func(s string) bool { return strings.Contains(s, "container(s)") }, "the UI's list")
	o.keys(ui, "/")
	o.text(ui, uiName)
	o.keys(ui, "Enter")
	if console {
		o.keys(ui, "Enter")
		o.waitScreen(b, ui, func(s string) bool { return strings.Contains(s, uiName+" console") }, "a console pane")
		// A console shows no new prompt on attach: ask both for one.
		o.keys(ui, "Enter")
		o.keys(nested, "Enter")
	} else {
		o.keys(ui, "e")
		o.waitScreen(b, ui, func(s string) bool { return strings.Contains(s, uiName+" exec") }, "an exec pane")
	}
	for _, w := range []string{ui, nested} {
		// Both shells get the same prompt and a clear screen.
		o.waitScreen(b, w, func(s string) bool { return strings.Contains(s, "#") || strings.Contains(s, "$") }, "a shell prompt")
		o.text(w, "PS1='kb$ '; clear")
		o.keys(w, "Enter")
		o.waitScreen(b, w, func(s string) bool { return promptLine(s) == kbPrompt }, "the benchmark's prompt")
	}

	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		samples := 60
		if s, _ := strconv.Atoi(os.Getenv("BOXTUI_KEYSTROKE_SAMPLES")); s > 0 {
			samples = s
		}
		quietUI, quietTmux := o.keystrokes(b, ui, nested, samples)
		stop := startBurner(b, 2)
		busyUI, busyTmux := o.keystrokes(b, ui, nested, samples)
		stop()
		for _, r := range []struct {
			what      string
			ours, ref []time.Duration
		}{
			{"quiet", quietUI, quietTmux},
			{"2 CPU burners", busyUI, busyTmux},
		} {
			om, tm := median(r.ours), median(r.ref)
			ratio := float64(om) / float64(tm)
			b.Logf("keystroke to screen, %-13s boxtui UI median %7s p90 %7s  nested tmux median %7s p90 %7s  ratio %5.2fx  (goal <= 1.2x: %s)",
				r.what+":", om.Round(10*time.Microsecond), p90(r.ours).Round(10*time.Microsecond),
				tm.Round(10*time.Microsecond), p90(r.ref).Round(10*time.Microsecond), ratio, verdict(ratio <= 1.2))
			b.ReportMetric(ratio, "x-tmux-"+strings.Fields(r.what)[0])
		}
		b.ReportMetric(float64(median(quietUI))/1e6, "ms-ui-quiet")
		b.ReportMetric(float64(median(busyUI))/1e6, "ms-ui-busy")
	}
}

// kbPrompt is the prompt both shells get, so one check reads both screens.
const kbPrompt = "kb$"

// promptLine is the last line on screen that holds the prompt, with the
// pane border and trailing blanks cut off.
func promptLine(screen string) string {
	lines := strings.Split(screen, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		j := strings.Index(l, kbPrompt)
		if j < 0 {
			continue
		}
		return strings.TrimRight(l[j:], " │┃")
	}
	return ""
}

// p90 returns the 90th percentile of ds (which it sorts).
func p90(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)*9/10]
}

func runEnv(env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// outerTmux is the benchmark's outer tmux server and one control-mode
// client on it, which gets every window's output as %output notifications.
type outerTmux struct {
	*tmuxControl

	mu      sync.Mutex // one command at a time
	replies chan string
	outputs chan paneOutput
	cols    int
	rows    int
}

// paneOutput is one %output notification: which pane, when it arrived, and
// its bytes (octal escapes as tmux sends them).
type paneOutput struct {
	pane string
	at   time.Time
	data string
}

func newOuterTmux(tb testing.TB, cols, rows int) *outerTmux {
	tb.Helper()
	// A placeholder window keeps the session alive until the contestants'
	// windows are made. The control client's size decides every window's
	// (window-size manual would too, but crashes tmux 3.3a on new-window).
	ctl, out := startTmuxControl(tb, fmt.Sprintf("boxtui-bench-outer-%d-%d", os.Getpid(), rand.Int()), "kb", [][]string{
		{"-f", "/dev/null", "new-session", "-d", "-s", "kb", "-x", strconv.Itoa(cols), "-y", strconv.Itoa(rows), "-n", "idle", "sleep 1000000"},
		{"set-option", "-g", "default-size", fmt.Sprintf("%dx%d", cols, rows)},
		{"set-option", "-g", "status", "off"},
		{"set-option", "-g", "remain-on-exit", "on"},
		{"move-window", "-s", "kb:0", "-t", "kb:9"},
	})
	o := &outerTmux{tmuxControl: ctl, cols: cols, rows: rows,
		replies: make(chan string, 1), outputs: make(chan paneOutput, 1<<16)}
	go o.read(out)
	<-o.replies // the reply to attach-session itself
	o.run(fmt.Sprintf("refresh-client -C %dx%d", cols, rows))
	return o
}

// read demultiplexes the control client's output: command replies (%begin
// .. %end) go to replies, %output notifications to outputs, stamped with
// their arrival.
func (o *outerTmux) read(r *bufio.Reader) {
	defer close(o.replies)
	var block strings.Builder
	in := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		now := time.Now()
		switch {
		case !in && strings.HasPrefix(line, "%output "):
			f := strings.SplitN(strings.TrimSuffix(line[len("%output "):], "\n"), " ", 2)
			if len(f) == 2 {
				select {
				case o.outputs <- paneOutput{pane: f[0], at: now, data: f[1]}:
				default: // nobody is measuring: drop
				}
			}
		case !in && strings.HasPrefix(line, "%begin "):
			in = true
			block.Reset()
		case in && (strings.HasPrefix(line, "%end ") || strings.HasPrefix(line, "%error ")):
			in = false
			o.replies <- block.String()
		case in:
			block.WriteString(line)
		}
	}
}

// run sends one command line to the control client and returns its output.
func (o *outerTmux) run(cmd string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, err := io.WriteString(o.in, cmd+"\n"); err != nil {
		return ""
	}
	return <-o.replies
}

// window starts argv in window idx of the outer session and returns its
// pane's id (%N).
func (o *outerTmux) window(tb testing.TB, idx int, argv ...string) string {
	tb.Helper()
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = tmuxQuote(a)
	}
	out := o.run(fmt.Sprintf("new-window -d -P -F '#{pane_id}' -t kb:%d %s", idx, strings.Join(quoted, " ")))
	pane := strings.TrimSpace(out)
	if !strings.HasPrefix(pane, "%") {
		tb.Fatalf("new-window %v: %q", argv, out)
	}
	if got := strings.TrimSpace(o.run("display-message -p -t " + pane + " '#{pane_width}x#{pane_height}'")); got != fmt.Sprintf("%dx%d", o.cols, o.rows) {
		tb.Fatalf("pane %s is %s, want %dx%d", pane, got, o.cols, o.rows)
	}
	return pane
}

func (o *outerTmux) keys(pane string, keys ...string) {
	o.run("send-keys -t " + pane + " " + strings.Join(keys, " "))
}

func (o *outerTmux) text(pane, s string) {
	o.run("send-keys -t " + pane + " -l " + tmuxQuote(s))
}

func (o *outerTmux) screen(pane string) string {
	return o.run("capture-pane -p -t " + pane)
}

func (o *outerTmux) waitScreen(tb testing.TB, pane string, ok func(string) bool, what string) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := o.screen(pane)
		if ok(s) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("waited 30s for %s; screen:\n%s", what, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// keystrokes takes n samples of each contestant, alternating which goes
// first, and returns the delays.
func (o *outerTmux) keystrokes(tb testing.TB, a, b string, n int) (as, bs []time.Duration) {
	tb.Helper()
	for i := 0; i < n; i++ {
		c := byte('a' + i%26)
		first, second := a, b
		if i%2 == 1 {
			first, second = b, a
		}
		for _, p := range []string{first, second} {
			d := o.keystroke(tb, p, c)
			if p == a {
				as = append(as, d)
			} else {
				bs = append(bs, d)
			}
		}
	}
	return as, bs
}

// keystroke types c at the prompt of pane and returns the delay until the
// outer tmux got the output that shows it, then erases it again.
func (o *outerTmux) keystroke(tb testing.TB, pane string, c byte) time.Duration {
	tb.Helper()
	// A person types a few keys a second; a random pause keeps the keys
	// from locking onto any frame clock.
	time.Sleep(time.Duration(20+rand.IntN(60)) * time.Millisecond)
	o.drain()
	want := kbPrompt + " " + string(c)
	start := time.Now()
	var ts0 unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts0)
	o.text(pane, string(c))
	var carried time.Time // the first output that held c itself
	deadline := time.After(5 * time.Second)
	var d time.Duration
	for d == 0 {
		select {
		case ev := <-o.outputs:
			if ev.pane != pane {
				continue
			}
			if carried.IsZero() && strings.IndexByte(ev.data, c) >= 0 {
				carried = ev.at
			}
			if promptLine(o.screen(pane)) == want {
				at := ev.at
				if !carried.IsZero() {
					at = carried
				}
				d = at.Sub(start)
				keystrokeTrace(ts0.Nano(), ts0.Nano()+int64(d), pane)
			}
		case <-deadline:
			tb.Fatalf("the echo of %q never showed in %s:\n%s", c, pane, o.screen(pane))
		}
	}
	o.keys(pane, "BSpace")
	o.waitScreen(tb, pane, func(s string) bool { return promptLine(s) == kbPrompt }, "the erase")
	return d
}

// keystrokeTrace appends a sample's send and screen times (CLOCK_MONOTONIC
// nanoseconds, "T send PANE" and "T out PANE" lines) to the file
// BOXTUI_KEYSTROKE_TRACE names, if any. Merged with the UI's
// BOXTUI_LATENCY_TRACE (passed on through the outer tmux) and an ftrace
// with trace_clock mono, it shows where each sample's time went.
func keystrokeTrace(send, out int64, pane string) {
	f := os.Getenv("BOXTUI_KEYSTROKE_TRACE")
	if f == "" {
		return
	}
	fh, err := os.OpenFile(f, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	fmt.Fprintf(fh, "%d send %s\n%d out %s\n", send, pane, out, pane)
	fh.Close()
}

// drain drops notifications from before a sample.
func (o *outerTmux) drain() {
	for {
		select {
		case <-o.outputs:
		default:
			return
		}
	}
}

// startBurner starts a child process (this test binary) that keeps procs
// goroutines busy, and returns a function that stops it.
func startBurner(tb testing.TB, procs int) func() {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKeystrokeBurner$", "-test.count=1", "-test.timeout=0")
	cmd.Env = append(os.Environ(), "BOXTUI_BENCH_BURN="+strconv.Itoa(procs))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	return func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}

// TestKeystrokeBurner is BenchmarkKeystrokeUI's CPU burner: it runs only as
// the child startBurner starts.
func TestKeystrokeBurner(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("BOXTUI_BENCH_BURN"))
	if n <= 0 {
		t.Skip("the CPU burner of BenchmarkKeystrokeUI: runs only as its child")
	}
	runtime.GOMAXPROCS(n)
	for i := 0; i < n; i++ {
		go func() {
			x := uint64(1)
			for {
				x = x*6364136223846793005 + 1442695040888963407
			}
		}()
	}
	select {}
}
