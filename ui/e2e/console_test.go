package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"

	"golang.org/x/sys/unix"
)

// runDetached starts a container with `boxtui run -d` and removes it when
// the test ends.
func runDetached(t *testing.T, runDir, name string, args ...string) {
	t.Helper()
	bin := Binary(t)
	cmd := exec.Command(bin, append([]string{"run", "-d", "--name", name}, args...)...)
	cmd.Env = append(os.Environ(), "BOXTUI_RUN_DIR="+runDir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("boxtui run: %v: %s", err, out)
	}
	t.Cleanup(func() {
		runShell(fmt.Sprintf("BOXTUI_RUN_DIR=%s %s rm -f %s >/dev/null 2>&1", runDir, bin, name))
	})
}

// holderOf reads the holder's PID from the container's state.
func holderOf(t *testing.T, runDir, name string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(runDir, name, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(data), `"holder_pid":`)
	if i < 0 {
		t.Fatalf("no holder in the state: %s", data)
	}
	rest := strings.TrimLeft(string(data[i+len(`"holder_pid":`):]), " ")
	end := strings.IndexAny(rest, ",}\n")
	pid, err := strconv.Atoi(strings.TrimSpace(rest[:end]))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// openConsolePane starts the UI and opens the console of name in pane 1.
func openConsolePane(t *testing.T, runDir, name string, width, height int) *Session {
	t.Helper()
	s := Start(t, Options{Width: width, Height: height, KeepOpen: true, Env: []string{"BOXTUI_RUN_DIR=" + runDir}}, Binary(t))
	s.Wait("container(s)", 10*time.Second)
	s.Keys("/")
	s.Type(name)
	s.Keys("Enter")
	s.Keys("Enter")
	s.Wait("1 "+name+" console", 15*time.Second)
	return s
}

// The flood: two panes each cat 40 MB at once. The console pane
// used to close with "console lost: the container's holder process is
// gone" (false: the holder had dropped it as too slow). Both panes now
// stay and end showing the last lines.
func TestDoubleFloodKeepsTheConsole(t *testing.T) {
	testutil.RequireRoot(t, "launches a container")
	rootfs := testutil.Rootfs(t)
	runDir := t.TempDir()
	name := fmt.Sprintf("flood%d", os.Getpid()%100000)
	runDetached(t, runDir, name, "--rootfs", rootfs, "-e", "PS1=# ", "--", "/bin/bash", "--norc", "--noprofile")
	s := openConsolePane(t, runDir, name, 160, 40)
	// 5,000,000 numbered lines: 38.9 MB, in the container's own /dev tmpfs.
	s.Type("seq 1 5000000 > /dev/shm/big; wc -c < /dev/shm/big; echo M$((6*7))")
	s.Keys("Enter")
	s.Wait("M42", 60*time.Second)
	s.Keys("C-]")
	s.Keys("e")
	s.Wait("2 "+name+" exec", 10*time.Second)
	s.Type("cat /dev/shm/big; echo E$((40+2))")
	s.Keys("C-]")
	s.Keys("1")
	s.Type("cat /dev/shm/big; echo C$((40+2))")
	start := time.Now()
	s.Keys("Enter")
	s.Keys("C-]")
	s.Keys("2")
	s.Keys("Enter")
	screen := s.WaitFunc(func(sc string) bool {
		return strings.Contains(sc, "C42") && strings.Contains(sc, "E42") || strings.Contains(sc, "lost")
	}, "both floods to end", 180*time.Second)
	t.Logf("two 38.9 MB cats in two panes: %v", time.Since(start).Round(10*time.Millisecond))
	if !strings.Contains(screen, "1 "+name+" console") || strings.Contains(screen, "lost") || strings.Contains(screen, "ended") {
		t.Fatalf("the console pane did not stay:\n%s", screen)
	}
	// Each pane ends with the file's last line above its marker.
	for _, marker := range []string{"C42", "E42"} {
		if !lastLineBefore(screen, "5000000", marker) {
			t.Errorf("pane with %s does not show the last line above it:\n%s", marker, screen)
		}
	}
	// And the console pane still takes input.
	s.Keys("C-]")
	s.Keys("1")
	s.Type("echo A$((5*5))")
	s.Keys("Enter")
	s.Wait("A25", 10*time.Second)
}

// lastLineBefore reports whether, in some column range, the line above
// the one holding marker holds last.
func lastLineBefore(screen, last, marker string) bool {
	rows := strings.Split(screen, "\n")
	for y := 1; y < len(rows); y++ {
		x := strings.Index(rows[y], marker)
		if x < 0 {
			continue
		}
		above := []rune(rows[y-1])
		col := len([]rune(rows[y][:x]))
		if col+len(last) <= len(above) && string(above[col:col+len(last)]) == last {
			return true
		}
	}
	return false
}

// Reattaching with `boxtui attach` in a terminal of another size shows the
// console's current screen at that size: what a terminal of that size
// shows when the console is resized, exactly (the lines that no longer fit
// went into the scrollback), not the bytes drawn for the old size.
func TestAttachAtAnotherSizeShowsTheCurrentScreen(t *testing.T) {
	testutil.RequireRoot(t, "launches a container")
	rootfs := testutil.Rootfs(t)
	runDir := t.TempDir()
	name := fmt.Sprintf("reatt%d", os.Getpid()%100000)
	// Drawn for the 80x24 console run -d gives: TWENTY goes on row 20.
	runDetached(t, runDir, name, "--rootfs", rootfs, "--", "/bin/sh", "-c",
		`seq 1 30; printf '\033[20;1HTWENTY\033[24;1H'; exec sleep 1000`)
	// run -d returns once the container runs, maybe before its holder has
	// read the output: an attach at the console's own size shows when it
	// has (no resize, so nothing is redrawn), and detaches.
	first := Start(t, Options{Width: 80, Height: 24, KeepOpen: true, Env: []string{"BOXTUI_RUN_DIR=" + runDir}}, Binary(t), "attach", name)
	first.Wait("TWENTY", 15*time.Second)
	first.Keys("C-p")
	first.Keys("C-q")
	first.Wait("detached from "+name, 15*time.Second)
	s := Start(t, Options{Width: 60, Height: 15, KeepOpen: true, Env: []string{"BOXTUI_RUN_DIR=" + runDir}}, Binary(t), "attach", name)
	var want []string
	for i := 17; i <= 30; i++ {
		want = append(want, strconv.Itoa(i))
	}
	want[27-17] = "TWENTY"
	wantScreen := strings.Join(want, "\n") + "\n"
	s.WaitFunc(func(sc string) bool { return strings.TrimRight(sc, "\n")+"\n" == wantScreen }, wantScreen, 15*time.Second)
}

// A console pane whose connection breaks while the holder runs dials
// again by itself and says so; when the holder is killed, the pane says
// the console is lost, which is then true.
func TestConsolePaneReconnectsAndSaysWhatHappened(t *testing.T) {
	testutil.RequireRoot(t, "launches a container")
	rootfs := testutil.Rootfs(t)
	runDir := t.TempDir()
	name := fmt.Sprintf("brk%d", os.Getpid()%100000)
	runDetached(t, runDir, name, "--rootfs", rootfs, "-e", "PS1=# ", "--", "/bin/bash", "--norc", "--noprofile")
	s := openConsolePane(t, runDir, name, 120, 30)
	s.Type("echo B$((6*7))")
	s.Keys("Enter")
	s.Wait("B42", 10*time.Second)
	holder := holderOf(t, runDir, name)
	if n := testutil.ShutdownConns(t, holder); n != 1 {
		t.Fatalf("shut down %d connections of the holder, want 1", n)
	}
	s.Wait("reconnected", 20*time.Second)
	s.Wait(fmt.Sprintf("holder (pid %d) broke", holder), time.Second)
	s.Type("echo R$((6*7))")
	s.Keys("Enter")
	s.Wait("R42", 10*time.Second)
	if !strings.Contains(s.Screen(), "B42") {
		t.Errorf("the screen before the break was not redrawn:\n%s", s.Screen())
	}

	unix.Kill(holder, unix.SIGKILL)
	s.Wait("console lost: the container's holder process is gone", 20*time.Second)
}
