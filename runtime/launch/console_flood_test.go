package launch

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/pty"

	"golang.org/x/sys/unix"
)

// waitExec waits until the init of c runs the command whose argv[0] is
// name (the scripts below end with `exec sleep`, after their output).
func waitExec(t *testing.T, c *Container, name string) {
	t.Helper()
	testutil.WaitFor(t, 60*time.Second, func() bool {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", c.InitPID))
		return strings.HasPrefix(string(b), name+"\x00")
	}, "the container's script to get to "+name)
}

// A stream client (a pipe) that reads slower than the console writes
// holds the console back and gets every byte: the holder used to drop it
// after 1,024 chunks ("too slow") and it read "console lost".
func TestSlowStreamClientGetsEveryByte(t *testing.T) {
	rootfs := setup(t)
	c := launch(t, Options{Rootfs: rootfs, Console: true, Raw: true,
		Command: []string{"/bin/sh", "-c", "read x; seq 1 400000; echo END"}})
	c.Console.Write([]byte("go\n"))
	// Read slowly: 16 KB, then a pause.
	var got strings.Builder
	buf := make([]byte, 16<<10)
	deadline := time.Now().Add(90 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		var n int
		n, err = c.Console.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			break
		}
		time.Sleep(3 * time.Millisecond)
	}
	if !errors.Is(err, io.EOF) {
		t.Fatalf("slow reader: %v after %d bytes", err, got.Len())
	}
	sc := bufio.NewScanner(strings.NewReader(got.String()))
	next := 1
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if next <= 400000 {
			if line != strconv.Itoa(next) {
				t.Fatalf("line %d is %q: output lost", next, line)
			}
			next++
		} else if line != "END" {
			t.Fatalf("after the last number: %q", line)
		}
	}
	if next != 400001 {
		t.Fatalf("got %d lines", next-1)
	}
	if st := c.Console.ExitStatus(); st == nil || st.Code != 0 {
		t.Fatalf("exit status %v", st)
	}
}

// screenReader feeds what a screen client reads into an emulator of its
// size, counting the bytes, until the console ends.
type screenReader struct {
	mu    sync.Mutex
	scr   *pty.Screen
	bytes int
	err   error
	done  chan struct{}
}

func readScreen(con *Console, cols, rows int) *screenReader {
	r := &screenReader{scr: pty.NewScreen(cols, rows, 0), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		buf := make([]byte, 32<<10)
		for {
			n, err := con.Read(buf)
			r.scr.Write(buf[:n])
			r.mu.Lock()
			r.bytes += n
			r.err = err
			r.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return r
}

func (r *screenReader) state() (string, int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.scr.String(), r.bytes, r.err
}

// waitScreen waits until the client's screen is want.
func (r *screenReader) waitScreen(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, _, err := r.state()
		if got == want {
			return
		}
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("screen (err %v):\n%s\nwant:\n%s", err, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func lines(from, to int, more ...string) string {
	var l []string
	for i := from; i <= to; i++ {
		l = append(l, strconv.Itoa(i))
	}
	return strings.Join(append(l, more...), "\n")
}

// A screen client that does not read at all while the console floods
// neither slows the flood nor is dropped: once it reads, it gets the
// current screen, not the 7 MB it missed.
func TestSlowScreenClientIsSkippedToTheCurrentScreen(t *testing.T) {
	rootfs := setup(t)
	c := launch(t, Options{Rootfs: rootfs, Rows: 24, Cols: 80,
		Command: []string{"/bin/sh", "-c", "read x; seq 1 1000000; echo END; exec sleep 1000"}})
	con, err := DialConsole(c.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer con.Close()
	if err := con.Screen(24, 80, true, nil); err != nil {
		t.Fatal(err)
	}
	con.Write([]byte("go\n"))
	// The flood ends while this client reads nothing.
	waitExec(t, c, "sleep")
	r := readScreen(con, 80, 24)
	r.waitScreen(t, lines(999979, 1000000, "END"))
	if _, n, _ := r.state(); n > 2<<20 {
		t.Errorf("the client read %d bytes: it was not skipped ahead", n)
	}
}

// A client attaching at another size gets the console's current screen
// at its size: the console is resized, and the screen redrawn, instead of
// a replay of bytes drawn for the old size (which put TWENTY on the last
// row: its CUP named row 20 of 24).
func TestReattachAtAnotherSizeShowsTheCurrentScreen(t *testing.T) {
	rootfs := setup(t)
	c := launch(t, Options{Rootfs: rootfs, Rows: 24, Cols: 80,
		Command: []string{"/bin/sh", "-c", `seq 1 30; printf '\033[20;1HTWENTY\033[24;1H'; exec sleep 1000`}})
	first, err := DialConsole(c.Name)
	if err != nil {
		t.Fatal(err)
	}
	first.Screen(24, 80, true, nil)
	waitExec(t, c, "sleep")
	r := readScreen(first, 80, 24)
	r.waitScreen(t, lines(8, 26, "TWENTY", "28", "29", "30"))
	first.Close()

	for _, size := range []Size{{10, 40}, {30, 100}} {
		again, err := DialConsole(c.Name)
		if err != nil {
			t.Fatal(err)
		}
		again.Screen(size.Rows, size.Cols, true, nil)
		r := readScreen(again, size.Cols, size.Rows)
		var want string
		switch size.Rows {
		case 10: // the top lines went into the scrollback
			want = lines(22, 26, "TWENTY", "28", "29", "30")
		case 30: // taller again: the lines come back from the holder's scrollback
			want = lines(2, 26, "TWENTY", "28", "29", "30")
		}
		r.waitScreen(t, want)
		again.Close()
	}
}

// A connection that breaks while the holder runs is dialled again by a
// screen client, which says so and gets the screen back; when the holder
// is really gone, the client says the console is lost.
func TestBrokenConnectionRedialsAndALostHolderIsSaidSo(t *testing.T) {
	rootfs := setup(t)
	c := launch(t, Options{Rootfs: rootfs, Rows: 10, Cols: 40,
		Command: []string{"/bin/sh", "-c", `while read l; do echo "got $l"; done`}})
	con, err := DialConsole(c.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer con.Close()
	notices := make(chan error, 4)
	con.Screen(10, 40, true, func(why error) { notices <- why })
	r := readScreen(con, 40, 10)
	con.Write([]byte("one\n"))
	r.waitScreen(t, "one\ngot one")

	// Break the holder's end of the connection, as a failing socket would.
	if n := testutil.ShutdownConns(t, c.HolderPID); n != 1 {
		t.Fatalf("shut down %d connections of the holder, want 1", n)
	}
	select {
	case why := <-notices:
		if !strings.Contains(why.Error(), "broke") || !strings.Contains(why.Error(), strconv.Itoa(c.HolderPID)) {
			t.Errorf("notice %q does not say what happened", why)
		}
	case <-time.After(20 * time.Second):
		_, _, err := r.state()
		t.Fatalf("no reconnect within 20s (read error %v)", err)
	}
	con.Write([]byte("two\n"))
	r.waitScreen(t, "one\ngot one\ntwo\ngot two")

	// Now the holder dies for real: the console is lost, and said so.
	unix.Kill(c.HolderPID, unix.SIGKILL)
	select {
	case <-r.done:
	case <-time.After(20 * time.Second):
		t.Fatal("the client did not notice its holder died")
	}
	if _, _, err := r.state(); !errors.Is(err, ErrConsoleLost) {
		t.Fatalf("holder killed: %v, want %v", err, ErrConsoleLost)
	}
}
