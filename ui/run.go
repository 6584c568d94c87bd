package ui

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	tea "charm.land/bubbletea/v2"
)

// rendererFPS is how often bubbletea's renderer wakes to compare the view
// and flush it. Its ticker runs even when nothing changed, and at the
// default 60 it was most of the idle UI's CPU (about 4% of a core on the
// 2,000-process benchmark; the scan itself costs ~1 ms a second); at 30
// about 2%. The frame clock (frame.go) draws at once what a person waits
// for (input, a pane's output), up to 60 frames a second, so the ticker
// only paces the rest: the list's refresh, shown up to 100 ms late.
const rendererFPS = 10

// idleProcs is the GOMAXPROCS of the UI while no terminal pane is open.
// With a second P, every wakeup of the idle program (30 renderer frames and
// a refresh a second) also wakes a second thread to look for work that is
// not there: on the 2,000-process benchmark one P cut the idle UI's CPU by
// about a third. The list needs no parallelism; a pane's output (a flood of
// bytes to emulate and render) does, so an open pane gets every P back.
const idleProcs = 1

// Run runs the UI on the terminal until the person quits, then writes the
// summary (containers keep running) to out.
func Run(ctx context.Context, b Backend, opts Options, out io.Writer) error {
	full := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(full)
	latStart()
	fc := newFrameClock(rendererFPS)
	popts := []tea.ProgramOption{tea.WithContext(ctx)}
	if os.Getenv("BOXTUI_NO_FASTDRAW") == "" {
		// The terminal's input is read through the key tap (keytap.go),
		// which sends typing for the focused pane to it without the event
		// loop.
		fc.tap = newKeyTap(os.Stdin)
		popts = append(popts, tea.WithInput(fc.tap))
	}
	p := newProgram(newRunModel(b, opts, fc), fc, os.Stdout, termColorsFilter(procsFilter(full)), popts...)
	requestTermColors(p)
	final, err := p.Run()
	latDump()
	if err != nil {
		return fmt.Errorf("run the terminal UI: %w", err)
	}
	if s := summaryOf(final); s != "" {
		fmt.Fprintln(out, s)
	}
	return nil
}

// newRunModel and summaryOf keep every copy of the Model out of
// Run's frame, which stays on the main goroutine's stack below every
// Update and View for the whole session: with five copies in it (172 KB),
// the deepest Update needed more than 512 KB and the stack stayed at 1 MB.
//
//go:noinline
func newRunModel(b Backend, opts Options, fc *frameClock) tea.Model {
	m := New(b, opts)
	m.frames = fc
	return m
}

//go:noinline
func summaryOf(final tea.Model) string {
	if m, ok := final.(Model); ok {
		return m.Summary()
	}
	return ""
}

// newProgram makes the program that runs m on out, its frames paced by fc
// (which m's View must tell of every view: frame.go). The clock takes the
// renderer's ticker over at the first message, from the filter, which runs
// on the goroutine of Run after the renderer has started; filter (if not
// nil) then sees the message.
func newProgram(m tea.Model, fc *frameClock, out *os.File, filter func(tea.Model, tea.Msg) tea.Msg, opts ...tea.ProgramOption) *tea.Program {
	var p *tea.Program
	attached := false
	f := func(mod tea.Model, msg tea.Msg) tea.Msg {
		if !attached {
			fc.attach(p)
			attached = true
		}
		if msg = fc.tapFilter(msg); msg == nil {
			return nil
		}
		if filter != nil {
			msg = filter(mod, msg)
		}
		fc.handling(msg)
		return msg
	}
	p = tea.NewProgram(m, append(opts, tea.WithFPS(int(time.Second/fc.period)),
		tea.WithOutput(&frameWriter{File: out, clock: fc}), tea.WithFilter(f))...)
	return p
}

// procsFilter sees every message before Update, on the event loop's
// goroutine, and sets GOMAXPROCS to idleProcs while the model has no pane
// open and to full while it has. A pane's first output message comes right
// after the pane opens, so it runs with every P from its first screenful.
func procsFilter(full int) func(tea.Model, tea.Msg) tea.Msg {
	cur := full
	return func(m tea.Model, msg tea.Msg) tea.Msg {
		want := full
		if mm, ok := m.(Model); ok && len(mm.panes.all) == 0 {
			want = min(idleProcs, full)
		}
		if want != cur {
			runtime.GOMAXPROCS(want)
			cur = want
		}
		return msg
	}
}
