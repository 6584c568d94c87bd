package pty

import (
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The tests here run real full-screen programs (vi, less, bash's line
// editor) side by side in our Terminal and in a tmux pane of the same size,
// type the same bytes into both, and compare the screens: tmux is a
// well-tested emulator, so a difference is a bug in ours.

type tmuxSide struct {
	sock string
}

// startTmux runs the shell command line in a new tmux server.
func startTmux(t *testing.T, cols, rows int, cmdline string) *tmuxSide {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("needs tmux")
	}
	s := &tmuxSide{sock: fmt.Sprintf("boxtui-pty-test-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-"))}
	cmd := []string{"exec", "env", "-i"}
	for _, kv := range appEnv(t) {
		cmd = append(cmd, "'"+kv+"'")
	}
	cmd = append(cmd, cmdline)
	s.run(t, "-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", fmt.Sprint(cols), "-y", fmt.Sprint(rows), strings.Join(cmd, " "))
	// tmux 3.3a leaves its socket file behind after kill-server.
	path := strings.TrimSpace(s.run(t, "display-message", "-p", "#{socket_path}"))
	t.Cleanup(func() {
		_ = exec.Command("tmux", "-L", s.sock, "kill-server").Run()
		_ = os.Remove(path)
	})
	s.run(t, "set-option", "-g", "status", "off")
	s.run(t, "resize-window", "-t", "t", "-x", fmt.Sprint(cols), "-y", fmt.Sprint(rows))
	return s
}

func (s *tmuxSide) run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// send types raw bytes into the pane.
func (s *tmuxSide) send(t *testing.T, raw string) {
	args := []string{"send-keys", "-t", "t", "-H"}
	for i := 0; i < len(raw); i++ {
		args = append(args, hex.EncodeToString([]byte{raw[i]}))
	}
	s.run(t, args...)
}

func (s *tmuxSide) screen(t *testing.T) string {
	return strings.TrimRight(s.run(t, "capture-pane", "-p", "-t", "t"), "\n")
}

func appEnv(t *testing.T) []string {
	return []string{"PS1=$ ", "TERM=xterm-256color", "PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "LANG=C.UTF-8"}
}

func startOurs(t *testing.T, cols, rows int, argv ...string) *Terminal {
	t.Helper()
	term := New(cols, rows)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = appEnv(t)
	if err := term.Start(cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = term.Close() })
	return term
}

// sameScreens polls both until their screens agree and ok holds on ours.
func sameScreens(t *testing.T, step string, ours *Terminal, tm *tmuxSide, ok func(string) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		o, m := ours.String(), tm.screen(t)
		if o == m && ok(o) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, screens differ (ok=%v)\nours:\n%s\ntmux:\n%s", step, ok(o), quoteLines(o), quoteLines(m))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func has(s string) func(string) bool { return func(x string) bool { return strings.Contains(x, s) } }

func sampleFile(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for i := 1; i <= 200; i++ {
		fmt.Fprintf(&b, "line %03d %s\n", i, strings.Repeat("word ", i%23))
	}
	b.WriteString("über 中文 wide\tand\ttabs\n")
	p := filepath.Join(t.TempDir(), "sample.txt")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// runSideBySide runs cmdline (a shell command line) in both terminals and
// types each step's keys into both; after each step the screens must agree
// and show want. When the program ends, "EXITED" is printed and the panes
// stay open, so the screen it leaves behind is compared too.
func runSideBySide(t *testing.T, cols, rows int, cmdline string, steps []struct{ keys, want string }) {
	t.Helper()
	cmdline += "; echo EXITED; exec cat"
	ours := startOurs(t, cols, rows, "sh", "-c", cmdline)
	tm := startTmux(t, cols, rows, "sh -c '"+strings.ReplaceAll(cmdline, "'", `'\''`)+"'")
	for i, st := range steps {
		if st.keys != "" {
			ours.SendText(st.keys)
			tm.send(t, st.keys)
		}
		sameScreens(t, fmt.Sprintf("step %d (%q)", i, st.keys), ours, tm, has(st.want))
	}
}

func TestVimLikeTmux(t *testing.T) {
	if _, err := exec.LookPath("vim"); err != nil {
		t.Skip("needs vim")
	}
	f := sampleFile(t)
	runSideBySide(t, 80, 24, "vim -u NONE -i NONE -N -n "+f, []struct{ keys, want string }{
		{"", "line 001"},
		{"50G", "line 050"},
		{"ddOinserted 中文 text\x1b", "inserted"},
		{":set nu\r", " 50 inserted"},
		{"G", "über"},
		{"gg/word word word word word word word word\r", "line 008"},
		{"\x06\x06", "line 0"}, // ctrl+f twice
		{"\x02", "line 0"},     // ctrl+b
		{":split\r", "sample.txt"},
		{"\x17j:q\r", "line"},
		{":q!\r", "EXITED"},
	})
}

func TestLessLikeTmux(t *testing.T) {
	if _, err := exec.LookPath("less"); err != nil {
		t.Skip("needs less")
	}
	f := sampleFile(t)
	runSideBySide(t, 70, 20, "less "+f, []struct{ keys, want string }{
		{"", "line 001"},
		{"G", "über"},
		{"g", "line 001"},
		{"/line 1.5\r", "line 105"},
		{"q", "EXITED"},
	})
}

func TestBashLineEditingLikeTmux(t *testing.T) {
	runSideBySide(t, 40, 10, "bash --norc --noprofile", []struct{ keys, want string }{
		{"", "$"},
		{"echo " + strings.Repeat("abcdefghij", 6), "abcdefghij"},
		{"\x01\x1bf\x1bf\x1b[D\x1b[DXY", "XY"}, // ctrl+a, alt+f x2, left x2
		{"\x05 tail\r", "tail"},
		{"printf '\\e[1;31mred\\e[0m\\tx\\n'\r", "red"},
		{"\x0c", "$"}, // ctrl+l
		{"for i in 1 2 3; do echo $i; done\r", "3"},
		{"exit\r", "EXITED"},
	})
}

// TestTop runs top (its screen changes every refresh, so it is not compared
// with tmux): its header must be drawn at the top and the prompt must come
// back when it quits.
func TestTop(t *testing.T) {
	if _, err := exec.LookPath("top"); err != nil {
		t.Skip("needs top")
	}
	term := startBash(t, 100, 30)
	term.SendText("top -d 0.2\r")
	waitScreen(t, term, "top's header", func(s string) bool {
		return strings.HasPrefix(s, "top - ") && strings.Contains(s, "Tasks:") && strings.Contains(s, "PID")
	})
	term.SendText("q")
	waitScreen(t, term, "prompt after top", func(s string) bool {
		return strings.HasSuffix(strings.TrimRight(s, " \n"), "\n$")
	})
}
