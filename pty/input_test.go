package pty

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	uv "github.com/charmbracelet/ultraviolet"
)

// TestInputKeepsOrderPastAFullPTY sends 30,000 bytes of keys and text to a
// program that reads none of them for a while, far more than a PTY's input
// queue holds: what goes straight to the PTY (sendInput) and what waits
// for the writer goroutine must reach the program whole and in order.
func TestInputKeepsOrderPastAFullPTY(t *testing.T) {
	if _, err := exec.LookPath("stty"); err != nil {
		t.Skip("needs stty")
	}
	const n = 30000
	out := filepath.Join(t.TempDir(), "out")
	term := New(80, 24)
	cmd := exec.Command("sh", "-c", fmt.Sprintf("stty raw -echo; echo ready; sleep 0.3; head -c %d > %s", n, out))
	if err := term.Start(cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = term.Close() })
	waitText(t, term, "ready")
	var want strings.Builder
	for i := 0; want.Len() < n; i++ {
		c := rune('a' + i%26)
		if i%3 == 0 {
			term.SendKey(uv.KeyPressEvent{Code: c, Text: string(c)})
			want.WriteRune(c)
			continue
		}
		s := strings.Repeat(string(c), 1+i%700)
		if want.Len()+len(s) > n {
			s = s[:n-want.Len()]
		}
		term.SendText(s)
		want.WriteString(s)
	}
	select {
	case <-term.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the program never read all its input")
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want.String() {
		i := 0
		for i < len(got) && i < want.Len() && got[i] == want.String()[i] {
			i++
		}
		t.Fatalf("the program read %d bytes, differing from what was sent at byte %d", len(got), i)
	}
}
