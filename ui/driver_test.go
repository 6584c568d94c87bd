package ui

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// updating reports whether -update was given (the flag itself is
// registered by teatest's golden package, which this test binary links).
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// driver runs the model synchronously: each command runs with a short
// deadline, and what it returns is fed back. Commands that wait longer (the
// refresh tick, cursor blinks, pane readers) are dropped, which keeps the
// screens deterministic.
type driver struct {
	t    *testing.T
	m    Model
	b    *fakeBackend
	quit bool
}

func newDriver(t *testing.T, w, h int, opts Options) *driver {
	t.Helper()
	opts.Now = func() time.Time { return fakeNow }
	b := newFakeBackend()
	d := &driver{t: t, m: New(b, opts), b: b}
	d.send(tea.WindowSizeMsg{Width: w, Height: h})
	d.run(d.m.Init())
	return d
}

func (d *driver) send(msg tea.Msg) {
	mod, cmd := d.m.Update(msg)
	d.m = mod.(Model)
	d.run(cmd)
}

func (d *driver) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	select {
	case msg := <-ch:
		d.handle(msg)
	case <-time.After(60 * time.Millisecond):
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
// received text, then redraws its pane as a frame tick would.
func (d *driver) waitTyped(i int, text string) {
	d.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		d.b.mu.Lock()
		var got string
		if i < len(d.b.terms) {
			ft := d.b.terms[i]
			ft.mu.Lock()
			got = ft.typed.String()
			ft.mu.Unlock()
		}
		d.b.mu.Unlock()
		if got == text {
			break
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("terminal %d got %q, want %q", i, got, text)
		}
		time.Sleep(2 * time.Millisecond)
	}
	for _, p := range d.m.panes {
		d.send(paneRedrawMsg{id: p.id})
	}
}

// rescans runs n refreshes, as n ticks would.
func (d *driver) rescans(n int) {
	for i := 0; i < n; i++ {
		d.m.scanning = true
		d.run(d.m.scanCmd())
	}
}
