package launch

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestFrames(t *testing.T) {
	var buf bytes.Buffer
	writeFrame(&buf, frameOutput, []byte("abc"))
	writeFrame(&buf, frameResize, encodeSize(30, 100))
	writeFrame(&buf, frameExit, encodeExit(ExitStatus{Code: 137, Signal: "KILL"}))
	typ, p, err := readFrame(&buf, nil)
	if err != nil || typ != frameOutput || string(p) != "abc" {
		t.Fatalf("output frame: %c %q %v", typ, p, err)
	}
	typ, p, _ = readFrame(&buf, nil)
	if rows, cols, err := decodeSize(p); typ != frameResize || rows != 30 || cols != 100 || err != nil {
		t.Fatalf("resize frame: %d %d %v", rows, cols, err)
	}
	typ, p, _ = readFrame(&buf, nil)
	if st, err := decodeExit(p); typ != frameExit || st.Code != 137 || st.Signal != "KILL" || err != nil {
		t.Fatalf("exit frame: %+v %v", st, err)
	}
	if _, _, err := readFrame(&buf, nil); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
	// A peer announcing a huge frame is refused before any allocation.
	huge := []byte{frameOutput, 0xff, 0xff, 0xff, 0xff}
	if _, _, err := readFrame(bytes.NewReader(huge), nil); !errors.Is(err, errFrameTooBig) {
		t.Fatalf("huge frame: %v", err)
	}
	if _, _, err := readFrame(bytes.NewReader([]byte{frameOutput, 0, 0, 0, 9, 'x'}), nil); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated frame: %v", err)
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{frameOutput, 0, 0, 0, 3, 'a', 'b', 'c'})
	f.Add([]byte{frameResize, 0, 0, 0, 4, 0, 30, 0, 100})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for {
			typ, p, err := readFrame(r, nil)
			if err != nil {
				return
			}
			if typ == frameResize {
				decodeSize(p)
			}
			if typ == frameExit {
				decodeExit(p)
			}
		}
	})
}

// consolePair returns a Console whose far end is the returned conn, as
// the holder would have it.
func consolePair(t *testing.T) (*Console, net.Conn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]net.Conn, 2)
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		conns[i], err = net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { conns[0].Close(); conns[1].Close() })
	return &Console{conn: conns[0].(*net.UnixConn), name: "test", buf: make([]byte, 1024)}, conns[1]
}

// chunkReader returns its chunks one Read at a time, then EOF.
type chunkReader struct{ chunks []string }

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	r.chunks = r.chunks[1:]
	return n, nil
}

func inputOf(t *testing.T, far net.Conn) string {
	t.Helper()
	far.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	var got strings.Builder
	for {
		typ, p, err := readFrame(far, nil)
		if err != nil {
			return got.String()
		}
		if typ == frameInput {
			got.Write(p)
		}
	}
}

func TestDetachKeys(t *testing.T) {
	cases := []struct {
		name   string
		chunks []string
		sent   string
		detach bool
	}{
		{"in one read", []string{"ls\r\x10\x11more"}, "ls\r", true},
		{"split across reads", []string{"ab\x10", "\x11cd"}, "ab", true},
		{"ctrl+p alone passes", []string{"a\x10", "b"}, "a\x10b", false},
		{"ctrl+p at the end passes", []string{"a\x10"}, "a\x10", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			con, far := consolePair(t)
			err := relayInput(con, &chunkReader{chunks: tc.chunks}, DefaultDetachKeys, false)
			if tc.detach != errors.Is(err, ErrDetached) {
				t.Fatalf("relay: %v, detach want %v", err, tc.detach)
			}
			if got := inputOf(t, far); got != tc.sent {
				t.Fatalf("sent %q, want %q", got, tc.sent)
			}
		})
	}
}

func TestSendEOFEndsAPendingLineFirst(t *testing.T) {
	con, far := consolePair(t)
	relayInput(con, &chunkReader{chunks: []string{"no newline"}}, nil, true)
	if got := inputOf(t, far); got != "no newline\x04\x04" {
		t.Fatalf("sent %q", got)
	}
	con, far = consolePair(t)
	relayInput(con, &chunkReader{chunks: []string{"line\n"}}, nil, true)
	if got := inputOf(t, far); got != "line\n\x04" {
		t.Fatalf("sent %q", got)
	}
}

func TestConsoleReadsExitStatus(t *testing.T) {
	con, far := consolePair(t)
	go func() {
		writeFrame(far, frameOutput, []byte("bye\n"))
		writeFrame(far, frameExit, encodeExit(ExitStatus{Code: 3}))
		far.Close()
	}()
	out, err := io.ReadAll(con)
	if err != nil || string(out) != "bye\n" {
		t.Fatalf("read %q %v", out, err)
	}
	if st := con.ExitStatus(); st == nil || st.Code != 3 {
		t.Fatalf("status %v", st)
	}
	// Without an exit frame the holder is gone: console lost.
	lost, gone := consolePair(t)
	gone.Close()
	if _, err := io.ReadAll(lost); !errors.Is(err, ErrConsoleLost) {
		t.Fatalf("holder gone: %v", err)
	}
}
