package testutil

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// recordingTB is the testing.TB a helper under test gets from
// CaptureFailure: it keeps the failure messages, and Fatal* end the
// helper's goroutine as they do in a real test. Everything else (Helper,
// Name, TempDir, Cleanup, Log...) is the real test's.
type recordingTB struct {
	testing.TB
	mu     sync.Mutex
	msgs   []string
	failed bool
}

func (r *recordingTB) record(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, s)
	r.failed = true
}

func (r *recordingTB) Error(args ...any)                 { r.record(fmt.Sprint(args...)) }
func (r *recordingTB) Errorf(format string, args ...any) { r.record(fmt.Sprintf(format, args...)) }
func (r *recordingTB) Fail()                             { r.record("") }
func (r *recordingTB) Fatal(args ...any)                 { r.record(fmt.Sprint(args...)); runtime.Goexit() }
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.record(fmt.Sprintf(format, args...))
	runtime.Goexit()
}
func (r *recordingTB) FailNow() { r.record(""); runtime.Goexit() }
func (r *recordingTB) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

// Skip* would end the helper's goroutine; a helper that skips is not what
// a failure test expects, so it fails the capture.
func (r *recordingTB) Skip(args ...any) {
	r.record("skipped: " + fmt.Sprint(args...))
	runtime.Goexit()
}
func (r *recordingTB) Skipf(format string, args ...any) {
	r.record("skipped: " + fmt.Sprintf(format, args...))
	runtime.Goexit()
}
func (r *recordingTB) SkipNow() { r.record("skipped"); runtime.Goexit() }

// CaptureFailure runs fn, on a goroutine of its own, with a testing.TB that
// records failures instead of failing t, and returns the failure messages
// joined by newlines. It is for testing test helpers' failure paths: the
// test fails if fn does not fail.
func CaptureFailure(t testing.TB, fn func(tb testing.TB)) string {
	t.Helper()
	r := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	if !r.Failed() {
		t.Fatal("the helper did not fail")
	}
	return strings.Join(r.msgs, "\n")
}
