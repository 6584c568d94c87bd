package ui

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"boxtui/internal/testutil"
)

// updating reports whether -update was given (the flag itself is
// registered by teatest's golden package, which this test binary links).
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// driver runs the model synchronously. Every command the model returns is
// of one of two kinds, told apart by the function it is (its name, which
// stays the same when the compiler inlines it into a caller):
//   - a command that computes something (a scan, opening a pane, a form
//     step) runs to completion and what it returns is fed back, however
//     slow the machine is; one still running after cmdDeadline fails the
//     test, naming it, rather than being dropped;
//   - a command that waits on a clock (the refresh tick, a pane's frame
//     timer, a cursor blink) or on a terminal (a pane's output, its
//     notices) is parked, never run: in a test nothing else would end it
//     at a time that does not depend on the machine's speed. A test
//     delivers what such a command would (d.send(tickMsg{...}),
//     d.rescans, waitTyped's redraw), or runs it with d.await or d.fire.
//
// So no screen depends on how fast a command ran.
type driver struct {
	t      testing.TB
	m      Model
	b      *fakeBackend
	quit   bool
	parked []parkedCmd
	// deadline bounds one computing command; tests of the driver shorten it.
	deadline time.Duration
}

// parkedCmd is a waiting command the driver did not run.
type parkedCmd struct {
	name string
	cmd  tea.Cmd
}

// cmdDeadline is how long a computing command may take before the test
// fails: far above what any takes on a loaded machine under -race (the
// fake backend answers from memory), so reaching it means a command hangs.
const cmdDeadline = 30 * time.Second

// waitingCmds are the functions of the commands that wait on a clock or a
// terminal (see driver). A name matches when it is the function itself or
// the function inlined into a caller ("...Model.addPane.waitPane.func1").
var waitingCmds = []string{
	"charm.land/bubbletea/v2.Tick.func1",
	"charm.land/bubbletea/v2.Every.func1",
	"charm.land/bubbles/v2/cursor.(*Model).Blink.func1",
	"boxtui/ui.waitPane.func1",
	"boxtui/ui.watchNotices.func1",
}

// cmdName is the name of the function cmd is.
func cmdName(cmd tea.Cmd) string {
	f := runtime.FuncForPC(reflect.ValueOf(cmd).Pointer())
	if f == nil {
		return "?"
	}
	return f.Name()
}

// waiting reports whether the command named name waits on a clock or a
// terminal. The closure's number is not compared: the compiler numbers a
// closure per function it is inlined into ("...Model.paneDirty.waitPane.func2"
// for waitPane.func1), and which calls it inlines changes with the build.
func waiting(name string) bool {
	name = closureNumber.ReplaceAllString(name, ".func")
	for _, w := range waitingCmds {
		w = closureNumber.ReplaceAllString(w, ".func")
		if name == w {
			return true
		}
		// Inlined: the caller's name, then the function's own last part
		// (its package path is dropped).
		if short := w[strings.LastIndex(w, "/")+1:]; strings.HasSuffix(name, "."+short[strings.Index(short, ".")+1:]) {
			return true
		}
	}
	return false
}

var closureNumber = regexp.MustCompile(`\.func[0-9]+$`)

func newDriver(t *testing.T, w, h int, opts Options) *driver {
	t.Helper()
	opts.Now = func() time.Time { return fakeNow }
	b := newFakeBackend()
	d := &driver{t: t, m: New(b, opts), b: b, deadline: cmdDeadline}
	d.send(tea.WindowSizeMsg{Width: w, Height: h})
	d.run(d.m.Init())
	return d
}

func (d *driver) send(msg tea.Msg) {
	mod, cmd := d.m.Update(msg)
	d.m = mod.(Model)
	d.run(cmd)
}

// run runs a computing command to completion and feeds back what it
// returns; a waiting command is parked (see driver).
func (d *driver) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	name := cmdName(cmd)
	if waiting(name) {
		d.parked = append(d.parked, parkedCmd{name, cmd})
		return
	}
	d.complete(name, cmd)
}

// await runs cmd to completion even when it is a waiting command, for a
// test that has made sure what it waits for has happened (or will).
func (d *driver) await(cmd tea.Cmd) {
	d.complete(cmdName(cmd), cmd)
}

// fire runs to completion every parked command whose name contains part
// (a clock's waits end by themselves; a terminal's must have been made to),
// in the order they were parked, and feeds back what they return.
func (d *driver) fire(part string) {
	var keep, run []parkedCmd
	for _, p := range d.parked {
		if strings.Contains(p.name, part) {
			run = append(run, p)
		} else {
			keep = append(keep, p)
		}
	}
	d.parked = keep
	for _, p := range run {
		d.complete(p.name, p.cmd)
	}
}

// parkedNamed counts the parked commands whose name contains part.
func (d *driver) parkedNamed(part string) int {
	n := 0
	for _, p := range d.parked {
		if strings.Contains(p.name, part) {
			n++
		}
	}
	return n
}

func (d *driver) complete(name string, cmd tea.Cmd) {
	d.t.Helper()
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	timer := time.NewTimer(d.deadline)
	defer timer.Stop()
	select {
	case msg := <-ch:
		d.handle(msg)
	case <-timer.C:
		d.t.Fatalf("command %s still running after %v: it hangs, or it waits on a clock or a terminal and belongs in waitingCmds", name, d.deadline)
	}
}

var cmdType = reflect.TypeOf(tea.Cmd(nil))

func (d *driver) handle(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil:
		return
	case tea.QuitMsg:
		d.quit = true
		return
	case tea.BatchMsg:
		for _, c := range msg {
			d.run(c)
		}
		return
	}
	// tea.Sequence's message is an unexported slice of commands.
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == cmdType {
		for i := 0; i < v.Len(); i++ {
			d.run(v.Index(i).Interface().(tea.Cmd))
		}
		return
	}
	d.send(msg)
}

// keys presses each key in turn: "enter", "esc", "space", "ctrl+]", "up",
// or a single character.
func (d *driver) keys(keys ...string) {
	for _, k := range keys {
		d.send(keyPress(k))
	}
}

func (d *driver) typeText(s string) {
	for _, r := range s {
		d.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func keyPress(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "ctrl+]":
		return tea.KeyPressMsg{Code: ']', Mod: tea.ModCtrl}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	}
	r := []rune(k)
	if len(r) != 1 {
		panic("keyPress: unknown key " + k)
	}
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// screen is the view without colours and trailing blanks.
func (d *driver) screen() string {
	s := ansi.Strip(d.m.View().Content)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

// golden compares got with testdata/<test>/<name>.golden.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", t.Name(), name+".golden")
	if updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./ui -update to create it): %v", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from %s (run go test ./ui -update if the change is intended)\n--- got ---\n%s--- want ---\n%s", name, path, got, want)
	}
}

// waitTyped waits until the i-th terminal the fake backend opened has
// received text and every pane's terminal has the pane's size (panes pass
// keys and resizes to their terminals from goroutines of their own), then
// redraws the panes as a frame tick would.
func (d *driver) waitTyped(i int, text string) {
	d.t.Helper()
	what := fmt.Sprintf("terminal %d to get %q and every terminal its pane's size", i, text)
	testutil.WaitForState(d.t, cmdDeadline, what, func() (bool, string) {
		d.b.mu.Lock()
		defer d.b.mu.Unlock()
		if i >= len(d.b.terms) {
			return false, fmt.Sprintf("%d terminals open", len(d.b.terms))
		}
		ft := d.b.terms[i]
		ft.mu.Lock()
		got := ft.typed.String()
		ft.mu.Unlock()
		if got != text {
			return false, fmt.Sprintf("terminal %d has %q", i, got)
		}
		for n, p := range d.m.panes.all {
			ft, ok := p.term.(*fakeTerminal)
			if !ok {
				continue
			}
			ft.mu.Lock()
			c, r := ft.cols, ft.rows
			ft.mu.Unlock()
			if c != p.cols || r != p.rows {
				return false, fmt.Sprintf("pane %d is %dx%d, its terminal %dx%d", n+1, p.cols, p.rows, c, r)
			}
		}
		return true, ""
	})
	for _, p := range d.m.panes.all {
		d.send(paneRedrawMsg{id: p.id})
	}
}

// rescans runs n refreshes, as n ticks would.
func (d *driver) rescans(n int) {
	for i := 0; i < n; i++ {
		d.m.scan.busy = true
		d.run(d.m.scanCmd())
	}
}

func (d *driver) scans() int {
	d.b.mu.Lock()
	defer d.b.mu.Unlock()
	return d.b.scans
}

// TestDriverRunsSlowCommandsToTheEnd: a command slower than a frame (here
// 200 ms, as a scan can be under -race on a busy machine) is not dropped:
// what it returns reaches the screen.
func TestDriverRunsSlowCommandsToTheEnd(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.run(func() tea.Msg {
		time.Sleep(200 * time.Millisecond)
		return errMsg{errors.New("slow answer")}
	})
	if !strings.Contains(d.screen(), "slow answer") {
		t.Fatalf("the slow command's message is not on screen:\n%s", d.screen())
	}
}

// TestDriverFailsOnAHangingCommand: a computing command that does not end
// fails the test and names itself, rather than vanishing.
func TestDriverFailsOnAHangingCommand(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	block := make(chan struct{})
	defer close(block)
	msg := testutil.CaptureFailure(t, func(tb testing.TB) {
		d.t, d.deadline = tb, 50*time.Millisecond
		d.run(func() tea.Msg { <-block; return nil })
	})
	if !strings.Contains(msg, "TestDriverFailsOnAHangingCommand") || !strings.Contains(msg, "still running after 50ms") {
		t.Fatalf("failure %q does not name the command and its deadline", msg)
	}
}

// TestDriverParksTheRefreshTick: the refresh tick is never delivered by
// the clock, however short it is, until the test fires it; then it scans
// and parks the next one.
func TestDriverParksTheRefreshTick(t *testing.T) {
	d := newDriver(t, 100, 30, Options{Refresh: time.Millisecond})
	if n := d.parkedNamed("Tick.func1"); n != 1 {
		t.Fatalf("%d refresh ticks parked after Init, want 1 (parked: %v)", n, d.parked)
	}
	before := d.scans()
	if !waiting(cmdName(d.m.tickCmd())) {
		t.Fatalf("the refresh tick %s is not a waiting command", cmdName(d.m.tickCmd()))
	}
	if got := d.scans(); got != before {
		t.Fatalf("scans went from %d to %d with no tick fired", before, got)
	}
	d.fire("Tick.func1")
	if got := d.scans(); got != before+1 {
		t.Fatalf("firing the tick made %d scans, want 1", got-before)
	}
	if n := d.parkedNamed("Tick.func1"); n != 1 {
		t.Fatalf("%d refresh ticks parked after a scan, want 1", n)
	}
}

// TestWaitingCommandsAreKnown: every command the driver parks is named
// by its function, also when inlined into a caller; a computing command
// is not mistaken for one.
func TestWaitingCommandsAreKnown(t *testing.T) {
	for _, name := range []string{
		"charm.land/bubbletea/v2.Tick.func1",
		"boxtui/ui.Model.addPane.waitPane.func1",
		"boxtui/ui.Model.paneDirty.waitPane.func2", // seen on CI-like load: a second inlined copy
		"boxtui/ui.Model.addPaneWatched.watchNotices.func1",
		"charm.land/bubbles/v2/cursor.(*Model).Blink.func1",
	} {
		if !waiting(name) {
			t.Errorf("%s is not taken for a waiting command", name)
		}
	}
	for _, name := range []string{
		"boxtui/ui.Model.scanCmd.func1",
		"boxtui/ui.Model.listKey.Model.execCmd.func4",
		"charm.land/huh/v2.NextField",
		"boxtui/ui.Model.waitPanes.func1",
	} {
		if waiting(name) {
			t.Errorf("%s is taken for a waiting command", name)
		}
	}
	p := &pane{term: newFakeBackend().newTerm(10, 5, "")}
	if name := cmdName(waitPane(p)); !waiting(name) {
		t.Errorf("waitPane's command %s is not taken for a waiting command", name)
	}
}
