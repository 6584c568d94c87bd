package pty

import (
	"runtime/debug"
	"sync"
	"time"
)

// A flood through a pane (a big cat, a build log) churns through many
// times the heap it leaves live: frames, read buffers, lines scrolled out.
// Go keeps the freed pages and gives them back to the OS only slowly, so a
// UI that showed two floods held on to megabytes it no longer used. Once a
// burst of output is over, the heap is returned at once.
//
// A process that keeps its heap small while idle (the UI runs with a low
// GOGC: cmd/boxtui) would collect over and over during a burst, whose
// live heap is larger and churns fast; a burst runs with at least
// burstGCPercent, and the process's own setting comes back with the
// release.
const (
	// releaseAfterBytes is how much output counts as a burst.
	releaseAfterBytes = 4 << 20
	// releaseQuiet is how long the output must have stopped.
	releaseQuiet = time.Second
	// burstGCPercent is the least GOGC a burst runs with (Go's default).
	burstGCPercent = 100
)

var release struct {
	mu    sync.Mutex
	bytes int         // output since the last release, all terminals
	armed bool        // a release is due once output is quiet
	timer *time.Timer // fires releaseMemory
	count int         // releases done, for tests
	terms map[*Terminal]struct{}
	// idleGC is the GOGC the process had before the burst raised it, to
	// be set again by the release; -2 while no burst holds it.
	idleGC int
}

func init() { release.idleGC = -2 }

// noteOutput counts n bytes of output read by any terminal; after a burst
// it (re)arms the release for when output has been quiet for releaseQuiet.
func noteOutput(n int) {
	release.mu.Lock()
	defer release.mu.Unlock()
	release.bytes += n
	if release.armed || release.bytes >= releaseAfterBytes {
		armReleaseLocked()
	}
}

// armRelease asks for a release once output is quiet: opening a pane is a
// burst too (starting a process in a container, the first screens).
func armRelease() {
	release.mu.Lock()
	defer release.mu.Unlock()
	armReleaseLocked()
}

func armReleaseLocked() {
	release.armed = true
	if release.idleGC == -2 {
		release.idleGC = debug.SetGCPercent(burstGCPercent)
		if release.idleGC < 0 || release.idleGC > burstGCPercent {
			debug.SetGCPercent(release.idleGC) // off, or already higher
		}
	}
	if release.timer == nil {
		release.timer = time.AfterFunc(releaseQuiet, releaseMemory)
		return
	}
	release.timer.Reset(releaseQuiet)
}

// releaseMemory is the end of a burst: trim the scrollback the burst left
// (see buffer.compact), give the process its own GOGC back, collect, and
// return the free heap to the OS. With a pane's few megabytes live this
// takes a millisecond or two, once per burst.
func releaseMemory() {
	release.mu.Lock()
	release.bytes, release.armed = 0, false
	release.count++
	if release.idleGC != -2 {
		debug.SetGCPercent(release.idleGC)
		release.idleGC = -2
	}
	terms := make([]*Terminal, 0, len(release.terms))
	for t := range release.terms {
		terms = append(terms, t)
	}
	release.mu.Unlock()
	for _, t := range terms {
		t.mu.Lock()
		t.vt.main.compact()
		t.mu.Unlock()
	}
	debug.FreeOSMemory()
}

// track adds or removes a running terminal from those releaseMemory
// compacts.
func track(t *Terminal, running bool) {
	release.mu.Lock()
	defer release.mu.Unlock()
	if !running {
		delete(release.terms, t)
		return
	}
	if release.terms == nil {
		release.terms = map[*Terminal]struct{}{}
	}
	release.terms[t] = struct{}{}
}
