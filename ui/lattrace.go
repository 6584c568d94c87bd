package ui

import (
	"bufio"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The latency trace: with BOXTUI_LATENCY_TRACE=file, the UI notes when each
// step of a keystroke's way to the screen happened and writes the marks to
// file, one "nanoseconds kind" line each (CLOCK_MONOTONIC, the clock of
// ftrace's mono trace_clock and of the keystroke benchmark's
// BOXTUI_KEYSTROKE_TRACE), every second and as it exits. It
// is how the frame path was measured; without the variable each mark costs
// one load.
//
// Marks: stdin (a read of the terminal's input), tapped (the key tap sent
// it to a pane), key (a key reaches the event loop), dirty (a pane's output
// does), viewed (View returned), fastdrawn (fastDraw drew it or found it
// drawn), write (a write to the terminal ended).

type latMark struct {
	at   int64
	kind string
}

var latTrace struct {
	on     bool
	path   string
	mu     sync.Mutex
	dumpMu sync.Mutex // one latDump at a time
	marks  []latMark
}

// latStart turns the trace on when BOXTUI_LATENCY_TRACE names a file; Run
// calls it, so only the UI's process writes the file.
func latStart() {
	if p := os.Getenv("BOXTUI_LATENCY_TRACE"); p != "" {
		latTrace.on, latTrace.path = true, p
		latTrace.marks = make([]latMark, 0, 1<<16)
		// The UI may end by a hangup, which runs no code of ours: the
		// file is written again every second.
		go func() {
			for range time.Tick(time.Second) {
				latDump()
			}
		}()
	}
}

// latNote records that kind happened now.
func latNote(kind string) {
	if !latTrace.on {
		return
	}
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	at := ts.Nano()
	latTrace.mu.Lock()
	if len(latTrace.marks) < cap(latTrace.marks) {
		latTrace.marks = append(latTrace.marks, latMark{at, kind})
	}
	latTrace.mu.Unlock()
}

// latDump writes the marks to the trace file. The marks are written
// outside the lock, which latNote takes on a keystroke's way: the slice
// never grows past its capacity, so the marks already in it stay put.
func latDump() {
	if !latTrace.on {
		return
	}
	latTrace.dumpMu.Lock()
	defer latTrace.dumpMu.Unlock()
	latTrace.mu.Lock()
	marks := latTrace.marks
	latTrace.mu.Unlock()
	f, err := os.Create(latTrace.path)
	if err != nil {
		return
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	for _, m := range marks {
		fmt.Fprintf(w, "%d %s\n", m.at, m.kind)
	}
	_ = w.Flush()
}
