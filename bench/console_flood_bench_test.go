package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
)

// BenchmarkConsoleDoubleFlood is issue 17's flood, side by side in one run:
// the real UI (in tmux, 160x40) with a console pane and an exec pane on
// one container, each cat-ing the same 38.9 MB file at once, against two
// tmux panes doing the same on the host. It prints both times (from Enter
// to both panes showing their end marker), the ratio, and the holder's
// resident memory before and after. The console pane must stay connected.
func BenchmarkConsoleDoubleFlood(b *testing.B) {
	requireRoot(b)
	if _, err := exec.LookPath("tmux"); err != nil {
		b.Skip("needs tmux")
	}
	rootfs := testutil.Rootfs(b)
	bin := boxtuiBin(b)
	for i := 0; i < b.N; i++ {
		runDir := b.TempDir()
		name := fmt.Sprintf("bflood%d", os.Getpid()%100000)
		run := exec.Command(bin, "run", "-d", "--name", name, "--rootfs", rootfs, "-e", "PS1=# ", "--", "/bin/bash", "--norc", "--noprofile")
		run.Env = append(os.Environ(), "BOXTUI_RUN_DIR="+runDir)
		if out, err := run.CombinedOutput(); err != nil {
			b.Fatalf("run: %v: %s", err, out)
		}
		b.Cleanup(func() {
			exec.Command("sh", "-c", fmt.Sprintf("BOXTUI_RUN_DIR=%s %s rm -f %s", runDir, bin, name)).Run()
		})
		holder := holderPID(b, runDir, name)
		idle := rssKB(holder)

		ui := newTmuxWindow(b, 160, 40, fmt.Sprintf("env TERM=xterm-256color BOXTUI_RUN_DIR=%s %s", runDir, bin))
		ui.wait(b, "container(s)", 10*time.Second)
		ui.keys("/")
		ui.text(name)
		ui.keys("Enter", "Enter")
		ui.wait(b, "1 "+name+" console", 15*time.Second)
		ui.text("seq 1 5000000 > /dev/shm/big; echo M$((6*7))")
		ui.keys("Enter")
		ui.wait(b, "M42", 60*time.Second)
		ui.keys("C-]", "e")
		ui.wait(b, "2 "+name+" exec", 10*time.Second)
		ui.text("cat /dev/shm/big; echo E$((40+2))")
		ui.keys("C-]", "1")
		ui.text("cat /dev/shm/big; echo C$((40+2))")
		start := time.Now()
		ui.keys("Enter", "C-]", "2", "Enter")
		ui.waitFunc(b, func(s string) bool {
			return strings.Contains(s, "C42") && strings.Contains(s, "E42") || strings.Contains(s, "lost")
		}, 180*time.Second)
		boxtuiTime := time.Since(start)
		screen := ui.screen()
		if strings.Contains(screen, "lost") || !strings.Contains(screen, "1 "+name+" console") {
			b.Fatalf("the console pane did not stay:\n%s", screen)
		}
		after := rssKB(holder)
		ui.kill()

		// tmux: two panes, the same file on the host's /dev/shm.
		big := filepath.Join("/dev/shm", fmt.Sprintf("bflood-%d", os.Getpid()))
		if err := exec.Command("sh", "-c", "seq 1 5000000 > "+big).Run(); err != nil {
			b.Fatal(err)
		}
		tm := newTmuxWindow(b, 160, 40, "env PS1='# ' bash --norc --noprofile")
		tm.run("split-window", "-h", "-t", "w", "env PS1='# ' bash --norc --noprofile")
		tm.waitFunc(b, func(s string) bool { return strings.Contains(s, "#") }, 5*time.Second)
		tm.run("send-keys", "-t", "w.0", "-l", "cat "+big+"; echo C$((40+2))")
		tm.run("send-keys", "-t", "w.1", "-l", "cat "+big+"; echo E$((40+2))")
		start = time.Now()
		tm.run("send-keys", "-t", "w.0", "Enter")
		tm.run("send-keys", "-t", "w.1", "Enter")
		for _, p := range []string{"w.0", "w.1"} {
			deadline := time.Now().Add(180 * time.Second)
			for !endMarker.MatchString(tm.run("capture-pane", "-p", "-t", p)) {
				if time.Now().After(deadline) {
					b.Fatal("tmux panes never finished")
				}
				time.Sleep(15 * time.Millisecond)
			}
		}
		tmuxTime := time.Since(start)
		tm.kill()
		os.Remove(big)
		b.Logf("two 38.9 MB cats at once: boxtui (console + exec pane) %v, tmux (two panes) %v: %.2fx tmux; holder RSS %d kB idle, %d kB after",
			boxtuiTime.Round(10*time.Millisecond), tmuxTime.Round(10*time.Millisecond), boxtuiTime.Seconds()/tmuxTime.Seconds(), idle, after)
	}
}

// endMarker is a pane's end marker on a line of its own (numbers of the
// flood may contain 42).
var endMarker = regexp.MustCompile(`(?m)^[CE]42\s*$`)

func holderPID(tb testing.TB, runDir, name string) int {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(runDir, name, "state.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var st struct {
		HolderPID int `json:"holder_pid"`
	}
	if err := json.Unmarshal(data, &st); err != nil || st.HolderPID == 0 {
		tb.Fatalf("no holder in %s: %v", data, err)
	}
	return st.HolderPID
}

func rssKB(pid int) int {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// tmuxWindow is a private tmux server with one window "w".
type tmuxWindow struct{ socket string }

func newTmuxWindow(tb testing.TB, w, h int, cmd string) *tmuxWindow {
	tb.Helper()
	t := &tmuxWindow{socket: fmt.Sprintf("bflood-%d-%d", os.Getpid(), time.Now().UnixNano())}
	t.run("-f", "/dev/null", "new-session", "-d", "-s", "w", "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), cmd)
	t.run("set-option", "-t", "w", "window-size", "manual")
	tb.Cleanup(t.kill)
	return t
}

func (t *tmuxWindow) run(args ...string) string {
	out, _ := exec.Command("tmux", append([]string{"-L", t.socket}, args...)...).Output()
	return string(out)
}

func (t *tmuxWindow) keys(keys ...string) {
	t.run(append([]string{"send-keys", "-t", "w"}, keys...)...)
}
func (t *tmuxWindow) text(s string)  { t.run("send-keys", "-t", "w", "-l", s) }
func (t *tmuxWindow) screen() string { return t.run("capture-pane", "-p", "-t", "w") }
func (t *tmuxWindow) kill()          { t.run("kill-server") }

func (t *tmuxWindow) wait(tb testing.TB, want string, d time.Duration) {
	tb.Helper()
	t.waitFunc(tb, func(s string) bool { return strings.Contains(s, want) }, d)
}

func (t *tmuxWindow) waitFunc(tb testing.TB, ok func(string) bool, d time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for {
		s := t.screen()
		if ok(s) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("waited %v; screen:\n%s", d, s)
		}
		time.Sleep(15 * time.Millisecond)
	}
}
