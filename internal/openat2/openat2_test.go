package openat2

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// renamer renames a file in its own directory back and forth as fast as it
// can until the test ends: an unrelated rename elsewhere on the host, as a
// busy machine makes them.
func renamer(t *testing.T) *atomic.Int64 {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.WriteFile(a, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	n := new(atomic.Int64)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if unix.Rename(a, b) == nil && unix.Rename(b, a) == nil {
				n.Add(2)
			}
		}
	})
	t.Cleanup(func() { close(stop); wg.Wait() })
	return n
}

// lookups opens "d/../d" under root with RESOLVE_IN_ROOT (a lookup that
// crosses "..") count times through open and returns how many failed.
func lookups(t *testing.T, root int, count int, open func(int, string, *unix.OpenHow) (int, error)) (failed int) {
	for range count {
		fd, err := open(root, "d/../d/../d", &unix.OpenHow{
			Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
		})
		if err != nil {
			if !errors.Is(err, unix.EAGAIN) {
				t.Fatalf("openat2: %v", err)
			}
			failed++
			continue
		}
		unix.Close(fd)
	}
	return failed
}

// While another goroutine renames an unrelated file in a loop, scoped
// lookups through ".." fail with EAGAIN now and then when made with the
// bare system call (which shows the churn works), and never through Open.
func TestOpenRetriesEAGAINFromUnrelatedRenames(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	rfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rfd)
	renames := renamer(t)
	// Let the renamer get going on the other core.
	deadline := time.Now().Add(5 * time.Second)
	for renames.Load() < 1000 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	const n = 20000
	bare := lookups(t, rfd, n, unix.Openat2)
	wrapped := lookups(t, rfd, n, Open)
	t.Logf("%d renames; EAGAIN: %d of %d bare lookups, %d of %d through Open", renames.Load(), bare, n, wrapped, n)
	if wrapped != 0 {
		t.Fatalf("%d of %d lookups through Open failed with EAGAIN", wrapped, n)
	}
	if bare == 0 {
		t.Skip("no bare lookup hit EAGAIN: the renames did not race the lookups on this machine (one CPU?)")
	}
}

// Unscoped lookups and other errors come back at once, as the bare errno.
func TestOpenReturnsOtherErrors(t *testing.T) {
	root := t.TempDir()
	_, err := Open(unix.AT_FDCWD, filepath.Join(root, "missing"), &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC})
	if err != unix.ENOENT {
		t.Fatalf("Open of a missing file: %v, want ENOENT", err)
	}
	_, err = Open(unix.AT_FDCWD, "/", &unix.OpenHow{Flags: unix.O_PATH, Resolve: unix.RESOLVE_BENEATH})
	if err != unix.EXDEV {
		t.Fatalf("Open of / beneath the working directory: %v, want EXDEV", err)
	}
}
