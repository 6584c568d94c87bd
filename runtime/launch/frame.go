package launch

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// The console protocol, spoken over the holder's unix socket. Every message
// in either direction is a frame: one type byte, a 4-byte big-endian payload
// length, the payload. Frames keep resizes apart from keystrokes (a raw
// byte stream could not tell them apart) and let the holder say how the
// container ended before it hangs up.
//
//	holder -> client  'h' hello, empty: the client is registered and will get
//	                      every output from here on and the exit status
//	                  'o' output bytes (for a stream client, the first frame
//	                      has the console's recent lines as text)
//	                  'x' exit status, JSON ExitStatus; the holder then closes
//	                  'e' error text (a refused connection); the holder then closes
//	client -> holder  'i' input bytes for the container's console
//	                  'w' window size: rows, cols as two big-endian uint16
//	                  's' screen client: rows, cols as 'w', then one flags
//	                      byte (1: draw the current screen now)
//
// A client starts as a stream client: it gets every byte, and a client that
// does not keep up holds the console's output back, as a pipe would. A
// screen client (a terminal: a pane, attach) is never waited for: when it
// falls too far behind, what it missed is replaced by a redraw of the
// console's current screen, as a tmux client gets; it also gets one when it
// attaches (flag 1) and when its resize changes the console's size. The
// holder keeps an emulator of the console for this (pty.Screen).
const (
	frameHello  = 'h'
	frameOutput = 'o'
	frameExit   = 'x'
	frameError  = 'e'
	frameInput  = 'i'
	frameResize = 'w'
	frameScreen = 's'
)

// maxFrame bounds a frame's payload so a broken peer cannot make the other
// side allocate without limit.
const maxFrame = 1 << 20

var errFrameTooBig = errors.New("console frame too large")

// writeFrame writes one frame in a single write call, so that frames written
// by different goroutines under one lock never interleave.
func writeFrame(w io.Writer, typ byte, payload []byte) error {
	if len(payload) > maxFrame {
		return errFrameTooBig
	}
	buf := make([]byte, 5+len(payload))
	buf[0] = typ
	binary.BigEndian.PutUint32(buf[1:5], uint32(len(payload)))
	copy(buf[5:], payload)
	_, err := w.Write(buf)
	return err
}

// readFrame reads one frame. buf is reused for the payload when it is large
// enough.
func readFrame(r io.Reader, buf []byte) (typ byte, payload []byte, err error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:5])
	if n > maxFrame {
		return 0, nil, errFrameTooBig
	}
	if int(n) <= cap(buf) {
		payload = buf[:n]
	} else {
		payload = make([]byte, n)
	}
	if _, err := io.ReadFull(r, payload); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return hdr[0], payload, nil
}

func encodeSize(rows, cols int) []byte {
	var b [4]byte
	binary.BigEndian.PutUint16(b[0:2], clampSize(rows))
	binary.BigEndian.PutUint16(b[2:4], clampSize(cols))
	return b[:]
}

func encodeScreen(rows, cols int, redraw bool) []byte {
	flags := byte(0)
	if redraw {
		flags = 1
	}
	return append(encodeSize(rows, cols), flags)
}

func decodeScreen(p []byte) (rows, cols int, redraw bool, err error) {
	if len(p) != 5 {
		return 0, 0, false, fmt.Errorf("console screen frame of %d bytes, want 5", len(p))
	}
	rows, cols, err = decodeSize(p[:4])
	return rows, cols, p[4]&1 != 0, err
}

func decodeSize(p []byte) (rows, cols int, err error) {
	if len(p) != 4 {
		return 0, 0, fmt.Errorf("console resize frame of %d bytes, want 4", len(p))
	}
	return int(binary.BigEndian.Uint16(p[0:2])), int(binary.BigEndian.Uint16(p[2:4])), nil
}

func clampSize(n int) uint16 {
	if n < 0 {
		return 0
	}
	if n > 0xffff {
		return 0xffff
	}
	return uint16(n)
}

func encodeExit(s ExitStatus) []byte {
	b, _ := json.Marshal(s)
	return b
}

func decodeExit(p []byte) (ExitStatus, error) {
	var s ExitStatus
	if err := json.Unmarshal(p, &s); err != nil {
		return s, fmt.Errorf("console exit frame: %w", err)
	}
	return s, nil
}
