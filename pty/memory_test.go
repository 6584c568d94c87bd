package pty

import (
	"bytes"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
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

// TestCompactPacksPlainText checks that compacting keeps a scrollback line
// of plain text in one byte a cell, and that everything that reads the
// scrollback (rendering it scrolled back, copy mode's history, a redraw
// for a reattaching client, pulling lines back to a taller screen) sees
// the same as before.
func TestCompactPacksPlainText(t *testing.T) {
	v := newVT(80, 6, 100, func(string) {})
	for i := range 150 {
		if i%5 == 0 {
			v.write([]byte("\x1b[1mbold\x1b[m and plain " + strconv.Itoa(i) + "\r\n"))
			continue
		}
		v.write([]byte("plain text line " + strconv.Itoa(i) + strings.Repeat(" z", i%7) + "\r\n"))
	}
	v.write([]byte("wide 世界 " + strings.Repeat("w", 90) + "\r\nlast"))
	var before []string
	snap := func() []string {
		var r, s strings.Builder
		v.renderScrolled(&r, 60)
		var b bytes.Buffer
		v.snapshot(&b, 100)
		h := copyHistory(v)
		var hist strings.Builder
		for i := range h.Len() {
			hist.WriteString(h.Text(i) + "\n")
		}
		s.WriteString(hist.String())
		return []string{r.String(), b.String(), s.String()}
	}
	before = snap()
	v.main.compact()
	after := snap()
	for i, what := range []string{"the scrolled render", "the redraw", "the history"} {
		if before[i] != after[i] {
			t.Errorf("compacting changed %s:\n%q\n%q", what, before[i], after[i])
		}
	}
	// Plain lines take a byte a cell; the bold ones keep their cells.
	plain, styled := 0, 0
	for i := range v.main.sbLen() {
		l := v.main.sbLine(i)
		switch {
		case l.cells == nil && strings.HasPrefix(l.text, "plain text line"):
			plain++
		case l.text == "" && len(l.cells) > 0 && l.cells[0].st != 0:
			styled++
		default:
			t.Errorf("scrollback line %d holds %d cells and %q", i, len(l.cells), l.text)
		}
	}
	if plain < 70 || styled < 15 {
		t.Errorf("%d plain lines packed and %d styled ones kept, want about 80 and 20", plain, styled)
	}
	// A taller screen pulls packed lines back as full cells, which can be
	// written to their last column.
	v.resize(80, 12)
	v.write([]byte("\x1b[1;80HX"))
	if got := strings.Split(v.text(), "\n")[0]; !strings.HasSuffix(got, "X") || !strings.HasPrefix(got, "plain text line") {
		t.Fatalf("top line after growing: %q", got)
	}
	// Scrolling goes on over packed lines.
	for i := range 200 {
		v.write([]byte("more " + strconv.Itoa(i) + "\r\n"))
	}
	if got := strings.Split(v.text(), "\n")[10]; got != "more 199" {
		t.Fatalf("after scrolling over packed lines: %q", got)
	}
}
