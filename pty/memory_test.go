package pty

import (
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// TestCompactScrollback checks that compacting keeps each scrollback line's
// cells only up to its last non-blank one, renders the same, and that the
// ring goes on scrolling over the trimmed lines.
func TestCompactScrollback(t *testing.T) {
	v := newVT(120, 10, 1000, func(string) {})
	for i := range 3000 {
		v.write([]byte("\x1b[32mline\x1b[m " + strings.Repeat("x", i%20) + "\r\n"))
	}
	cellsIn := func() (n int) {
		for i := range v.main.sbLen() {
			n += cap(v.main.sbLine(i).cells)
		}
		return n
	}
	if n := cellsIn(); n != 1000*120 {
		t.Fatalf("scrollback holds %d cells before compacting, want full lines", n)
	}
	var before, after strings.Builder
	v.renderScrolled(&before, v.main.sbLen())
	v.main.compact()
	v.renderScrolled(&after, v.main.sbLen())
	if before.String() != after.String() {
		t.Fatalf("compacting changed the scrollback:\n%q\n%q", before.String(), after.String())
	}
	// The lines are 5 to 24 cells.
	if n := cellsIn(); n > 1000*24 {
		t.Fatalf("scrollback holds %d cells for 1000 lines of at most 24", n)
	}
	for i := range 1500 {
		v.write([]byte("more " + strings.Repeat("y", i%90) + "\r\n"))
	}
	if got, want := strings.Split(v.text(), "\n")[8], "more "+strings.Repeat("y", 1499%90); got != want {
		t.Fatalf("after scrolling over compacted lines: %q, want %q", got, want)
	}
}

// TestResizePullsTrimmedLinesBack checks that growing the screen pulls
// compacted scrollback lines back as full-width screen lines that can be
// written to their last column.
func TestResizePullsTrimmedLinesBack(t *testing.T) {
	v := newVT(10, 3, 100, func(string) {})
	v.write([]byte("a\r\nb\r\nc\r\nd\r\ne"))
	v.main.compact()
	v.resize(10, 5) // same width: only rows change
	if got, want := v.text(), "a\nb\nc\nd\ne"; got != want {
		t.Fatalf("screen %q, want %q", got, want)
	}
	v.write([]byte("\x1b[1;10HX\x1b[2;1H\x1b[10@"))
	if got, want := v.text(), "a        X\n\nc\nd\ne"; got != want {
		t.Fatalf("screen %q, want %q", got, want)
	}
}

// TestReleaseAfterBurst checks that a burst of output, once quiet,
// compacts the scrollback of running terminals and returns the heap.
func TestReleaseAfterBurst(t *testing.T) {
	term := New(100, 5)
	track(term, true)
	defer track(term, false)
	for i := range 200 {
		_, _ = term.Write([]byte("short " + strings.Repeat("z", i%10) + "\r\n"))
	}
	release.mu.Lock()
	before := release.count
	release.mu.Unlock()
	noteOutput(releaseAfterBytes)
	waitFor(t, "a release after the burst", func() bool {
		release.mu.Lock()
		defer release.mu.Unlock()
		return release.count > before && !release.armed && release.bytes == 0
	})
	term.mu.Lock()
	defer term.mu.Unlock()
	if c := cap(term.vt.main.sbLine(0).cells); c > 20 {
		t.Fatalf("oldest scrollback line holds %d cells after the release, want its text only", c)
	}
}

// waitFor polls ok for up to five seconds.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: timed out", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBurstRunsWithDefaultGC checks that a burst of output runs with at
// least Go's default GOGC in a process that keeps a low one while idle
// (the UI), and that the release gives the process its own back.
func TestBurstRunsWithDefaultGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(25))
	release.mu.Lock()
	before := release.count
	release.mu.Unlock()
	noteOutput(releaseAfterBytes)
	if got := gcPercent(); got != burstGCPercent {
		t.Fatalf("GOGC during a burst is %d, want %d", got, burstGCPercent)
	}
	waitFor(t, "a release after the burst", func() bool {
		release.mu.Lock()
		defer release.mu.Unlock()
		return release.count > before && !release.armed
	})
	if got := gcPercent(); got != 25 {
		t.Fatalf("GOGC after the release is %d, want the process's 25", got)
	}
	// A process with a higher GOGC keeps it through a burst.
	debug.SetGCPercent(400)
	noteOutput(releaseAfterBytes)
	if got := gcPercent(); got != 400 {
		t.Fatalf("GOGC during a burst is %d, want the process's 400", got)
	}
	waitFor(t, "the second release", func() bool {
		release.mu.Lock()
		defer release.mu.Unlock()
		return release.count > before+1 && !release.armed
	})
}

func gcPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}
