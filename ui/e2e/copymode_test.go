package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
)

// execPane starts boxtui next to a fresh container and opens an exec shell
// in it; it returns the session at the shell's prompt.
func execPane(t *testing.T) *Session {
	t.Helper()
	testutil.RequireRoot(t, "starts a container and execs a shell in it")
	tag := "7" + strconv.Itoa(100000+time.Now().Nanosecond()%800000)
	pid := testutil.StartUnshare(t, testutil.Rootfs(t), "/bin/sleep", tag)
	s := Start(t, Options{Width: 120, Height: 40, KeepOpen: true, Env: []string{"BOXTUI_RUN_DIR=" + t.TempDir(), "BOXTUI_LOG=off"}}, Binary(t))
	// OSC 52 from boxtui becomes a tmux paste buffer.
	s.Tmux("set-option", "-g", "set-clipboard", "on")
	s.Wait("container(s)", 10*time.Second)
	s.Keys("/")
	s.Type(tag)
	s.Keys("Enter")
	s.Keys("e")
	s.Wait("1 "+strconv.Itoa(pid)+" exec", 10*time.Second)
	s.Wait("#", 10*time.Second)
	return s
}

// paneCell returns the outer terminal's 1-based column and row of cell
// (x, y) of pane n's screen, found by its top border.
func paneCell(t *testing.T, screen string, n, x, y int) (col, row int) {
	t.Helper()
	for i, line := range strings.Split(screen, "\n") {
		for _, corner := range []string{"┏━ " + strconv.Itoa(n) + " ", "┌─ " + strconv.Itoa(n) + " "} {
			if j := strings.Index(line, corner); j >= 0 {
				return len([]rune(line[:j])) + 1 + x + 1, i + 1 + y + 1
			}
		}
	}
	t.Fatalf("no pane %d on screen:\n%s", n, screen)
	return 0, 0
}

// sendBytes writes raw bytes to boxtui's terminal input, as a terminal
// would for a mouse event.
func sendBytes(s *Session, b string) {
	args := []string{"send-keys", "-t", "e2e", "-H"}
	for i := 0; i < len(b); i++ {
		args = append(args, fmt.Sprintf("%02x", b[i]))
	}
	s.Tmux(args...)
}

// captureStyled is the screen with its SGR sequences.
func captureStyled(s *Session) string {
	return s.Tmux("capture-pane", "-p", "-e", "-t", "e2e")
}

// TestCopyModeScrollSearchCopy: after seq 1 5000 in a pane, shift+pgup
// scrolls back, ? finds a number long gone from the screen and highlights
// it, v and enter copy three lines to the system clipboard through OSC 52
// (tmux keeps it as a paste buffer), and the pane is live again after.
// The mouse wheel over the pane scrolls back too, and q leaves.
func TestCopyModeScrollSearchCopy(t *testing.T) {
	s := execPane(t)
	s.Type("seq 1 5000")
	s.Keys("Enter")
	s.Wait("┃5000", 15*time.Second)

	s.Keys("S-PageUp")
	screen := s.Wait("/1000]", 5*time.Second)
	if strings.Contains(screen, "┃5000") {
		t.Fatalf("shift+pgup did not scroll back a page:\n%s", screen)
	}

	s.Keys("?")
	s.Wait("search up:", 5*time.Second)
	s.Type("4242")
	s.Keys("Enter")
	s.Wait("4241", 5*time.Second)
	// The match is drawn in the current-match style (background 213).
	var styled string
	deadline := time.Now().Add(5 * time.Second)
	for {
		styled = captureStyled(s)
		if hasStyledText(styled, "48;5;213", "4242") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("4242 is not highlighted:\n%q", styled)
		}
		time.Sleep(PollInterval)
	}

	// Select 4242 to 4244 and copy.
	s.Keys("v")
	s.Keys("j", "j", "$")
	s.Keys("Enter")
	s.Wait("copied 14 character(s) on 3 line(s)", 5*time.Second)
	s.WaitBuffer("4242\n4243\n4244", 10*time.Second)

	// Copy mode is gone: keys reach the shell again.
	s.Type("echo L$((6*7))")
	s.Keys("Enter")
	screen = s.Wait("┃L42", 5*time.Second)

	// A left drag over a shell (which does not take the mouse) selects,
	// and its release copies, as in tmux.
	lines := strings.Split(screen, "\n")
	for y := len(lines) - 1; y >= 0; y-- {
		if strings.Contains(lines[y], "┃L42") {
			top := 0
			for i, l := range lines {
				if strings.Contains(l, "┏━ 1 ") {
					top = i
				}
			}
			col, row := paneCell(t, screen, 1, 0, y-top-1)
			sendBytes(s, fmt.Sprintf("\x1b[<0;%d;%dM", col, row))
			sendBytes(s, fmt.Sprintf("\x1b[<32;%d;%dM", col+2, row))
			sendBytes(s, fmt.Sprintf("\x1b[<0;%d;%dm", col+2, row))
			break
		}
	}
	s.Wait("copied 3 character(s) on 1 line(s)", 5*time.Second)
	s.WaitBuffer("L42", 10*time.Second) // a drag's copy

	// The wheel up over the pane scrolls back three lines; q leaves.
	col, row := paneCell(t, s.Screen(), 1, 10, 5)
	sendBytes(s, fmt.Sprintf("\x1b[<64;%d;%dM", col, row))
	s.Wait("[3/1000]", 5*time.Second)
	s.Keys("q")
	s.WaitFunc(func(sc string) bool { return !strings.Contains(sc, "/1000]") }, "copy mode to end", 5*time.Second)

	s.Keys("C-]")
	s.Keys("q")
	s.Wait("Quit?", 5*time.Second)
	s.Keys("y")
	s.Wait("EXIT=0", 10*time.Second)
}

// hasStyledText says some line has text right after an SGR sequence that
// holds param.
func hasStyledText(screen, param, text string) bool {
	for _, line := range strings.Split(screen, "\n") {
		for i := 0; ; {
			j := strings.Index(line[i:], text)
			if j < 0 {
				break
			}
			before := line[:i+j]
			if k := strings.LastIndex(before, "\x1b["); k >= 0 && strings.Contains(before[k:], param) {
				return true
			}
			i += j + len(text)
		}
	}
	return false
}

// TestMouseReachesAProgramThatAsksForIt: a program that turns on mouse
// reporting (1002 and SGR 1006) reads a click, a drag, its release and
// the wheel on its pane in its own coordinates; once it turns reporting
// off, the mouse is the UI's again.
func TestMouseReachesAProgramThatAsksForIt(t *testing.T) {
	s := execPane(t)
	s.Type(`printf '\e[?1002h\e[?1006hMOUSE-READY\n'; a=; for i in 1 2 3; do IFS= read -rs -d M x; a+="${x//$'\e'/E}M "; done; printf '\e[?1002l\e[?1006l'; echo "GOT:$a"`)
	s.Keys("Enter")
	screen := s.Wait("┃MOUSE-READY", 10*time.Second)
	col, row := paneCell(t, screen, 1, 5, 2)
	sendBytes(s, fmt.Sprintf("\x1b[<0;%d;%dM", col, row))
	sendBytes(s, fmt.Sprintf("\x1b[<32;%d;%dM", col+2, row))
	sendBytes(s, fmt.Sprintf("\x1b[<0;%d;%dm", col+2, row))
	sendBytes(s, fmt.Sprintf("\x1b[<64;%d;%dM", col+2, row))
	s.Wait("GOT:E[<0;6;3M E[<32;8;3M E[<0;8;3mE[<64;8;3M", 5*time.Second)
	// Reporting is off: the wheel starts copy mode instead (its help bar
	// shows).
	sendBytes(s, fmt.Sprintf("\x1b[<64;%d;%dM", col, row))
	s.Wait("/ search down", 5*time.Second)
	s.Keys("q")
	s.Wait("shift+pgup scroll back", 5*time.Second)
	s.Type("echo R$((6*7))")
	s.Keys("Enter")
	s.Wait("R42", 5*time.Second)

	s.Keys("C-]")
	s.Keys("q")
	s.Wait("Quit?", 5*time.Second)
	s.Keys("y")
	s.Wait("EXIT=0", 10*time.Second)
}
