package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
)

// TestTypingWhileAnotherPaneFloods types into an exec pane key by key
// (keys sent by the key tap, echoes drawn by the pane's reader or at once
// by fastDraw; the editing keys go through bubbletea, in order with them),
// editing the line and wrapping it,
// while the console pane beside it floods (frames drawn by the renderer,
// views left pending by the flood), and checks that the typed pane ends
// showing exactly what a tmux window of the pane's size shows for the same
// shell and the same keys.
func TestTypingWhileAnotherPaneFloods(t *testing.T) {
	testutil.RequireRoot(t, "launches a container")
	rootfs := testutil.Rootfs(t)
	runDir := t.TempDir()
	name := fmt.Sprintf("typing%d", os.Getpid()%100000)
	runDetached(t, runDir, name, "--rootfs", rootfs, "-e", "PS1=# ", "--", "/bin/bash", "--norc", "--noprofile")
	trace := t.TempDir() + "/latency"
	ui := Start(t, Options{Width: 160, Height: 40, KeepOpen: true,
		Env: []string{"BOXTUI_RUN_DIR=" + runDir, "BOXTUI_LATENCY_TRACE=" + trace}}, Binary(t))
	ui.Wait("container(s)", 10*time.Second)
	ui.Keys("/")
	ui.Type(name)
	ui.Keys("Enter")
	ui.Keys("Enter")
	ui.Wait("1 "+name+" console", 15*time.Second)
	ui.Keys("C-]")
	ui.Keys("e")
	ui.Wait("2 "+name+" exec", 15*time.Second)

	// The exec pane's size, from its border, once its shell prompts.
	title := "2 " + name + " exec"
	var rows, cols int
	ui.WaitFunc(func(s string) bool {
		_, _, cols, rows = paneRect(s, title)
		region := paneRegion(s, title, cols, rows)
		return len(region) > 0 && strings.Contains(region[0], "#")
	}, "the exec pane's prompt", 15*time.Second)
	// Its shell agrees.
	ui.Type("echo SZ$(stty size)Z")
	ui.Keys("Enter")
	ui.Wait(fmt.Sprintf("SZ%d %dZ", rows, cols), 10*time.Second)

	// The same shell in a tmux window of the pane's size.
	ref := Start(t, Options{Width: cols, Height: rows, Env: []string{"BOXTUI_RUN_DIR=" + runDir}}, Binary(t), "exec", name)
	ref.Tmux("set-option", "-t", "e2e", "status", "off")
	if got := strings.TrimSpace(ref.Tmux("display", "-p", "-t", "e2e", "#{pane_width}x#{pane_height}")); got != fmt.Sprintf("%dx%d", cols, rows) {
		t.Fatalf("the reference pane is %s, not %dx%d", got, cols, rows)
	}
	ref.WaitFunc(func(s string) bool { return strings.Contains(s, "#") || strings.Contains(s, "$") }, "a prompt", 15*time.Second)
	for _, s := range []*Session{ui, ref} {
		s.Type(`PS1='$ '; printf '\033[H\033[2J'`)
		s.Keys("Enter")
	}
	ref.Wait("$", 10*time.Second)

	// The flood, in the console pane; then the keys go to the exec pane.
	ui.Keys("C-]")
	ui.Keys("1")
	ui.Type(`i=0; while :; do echo "flood line $((i+=1))"; done`)
	ui.Keys("Enter")
	ui.Keys("C-]")
	ui.Keys("2")

	// Keys one at a time, as typed: a line long enough to wrap, edited in
	// its middle, run; then a second line. (Only keys that tmux and the UI
	// send alike: tmux sends End as ESC [4~, which bash does not bind.)
	word := "the quick brown fox jumps over the lazy dog "
	line := "echo " + strings.Repeat(word, (cols+len(word)-1)/len(word)+1)
	keys := []string{}
	for _, c := range line {
		keys = append(keys, "l:"+string(c))
	}
	keys = append(keys, "BSpace", "BSpace", "Left", "Left", "Left", "l:X", "l:Y", "C-e", "l:!", "Enter")
	for _, c := range "echo done$((40+2))" {
		keys = append(keys, "l:"+string(c))
	}
	keys = append(keys, "Enter")
	start := time.Now()
	for _, k := range keys {
		for _, s := range []*Session{ui, ref} {
			if text, ok := strings.CutPrefix(k, "l:"); ok {
				s.Type(text)
			} else {
				s.Keys(k)
			}
		}
	}
	typed := time.Since(start)
	// The flood ran all along; end it, and the console pane takes input.
	ui.Keys("C-]")
	ui.Keys("1")
	ui.Keys("C-c")
	ui.Type("echo F$((6*7))")
	ui.Keys("Enter")
	want := ref.Wait("done42", 10*time.Second)
	wantLines := strings.Split(strings.TrimRight(want, "\n"), "\n")

	var got []string
	ui.WaitFunc(func(s string) bool {
		got = paneRegion(s, title, cols, rows)
		if got == nil || !strings.Contains(s, "F42") {
			return false
		}
		for len(got) > 0 && got[len(got)-1] == "" {
			got = got[:len(got)-1]
		}
		return strings.Join(got, "\n") == strings.Join(wantLines, "\n")
	}, "the flood to end and the typed pane to show what tmux shows:\n"+want, 120*time.Second)
	t.Logf("%d keys typed in %v", len(keys), typed.Round(time.Millisecond))

	// The keys went by the key tap, the echoes were drawn by the pane's
	// reader and fastDraw (the UI writes its latency trace every second).
	fast, tapped, drawn := 0, 0, 0
	testutil.WaitForState(t, 10*time.Second, "the key tap's keys and fastDraw's frames in the latency trace", func() (bool, string) {
		data, _ := os.ReadFile(trace)
		fast = strings.Count(string(data), " fastdrawn\n")
		tapped = strings.Count(string(data), " tapped\n")
		drawn = strings.Count(string(data), " panedrawn\n")
		// (The pane's reader draws only when no flood frame is waiting for
		// the renderer: it draws some, how many depends on the machine.)
		return fast >= len(keys)/4 && tapped > 0,
			fmt.Sprintf("%d frames drawn by fastDraw, %d reads sent by the tap, %d echoes drawn by the pane's reader", fast, tapped, drawn)
	})
	t.Logf("%d views drawn or found drawn by fastDraw, %d reads sent by the key tap, %d echoes drawn by the pane's reader", fast, tapped, drawn)
}

// paneRect finds the pane whose top border holds title: the column and
// line of its top left corner and its inner size; cols is 0 when the
// screen has no such pane.
func paneRect(screen, title string) (x, y, cols, rows int) {
	lines := strings.Split(screen, "\n")
	for y, l := range lines {
		i := strings.Index(l, title)
		if i < 0 {
			continue
		}
		row := []rune(l)
		x := len([]rune(l[:i]))
		for x >= 0 && row[x] != '┏' && row[x] != '┌' {
			x--
		}
		end := len([]rune(l[:i]))
		for end < len(row) && row[end] != '┓' && row[end] != '┐' {
			end++
		}
		if x < 0 || end == len(row) {
			return 0, 0, 0, 0
		}
		bottom := y + 1
		for bottom < len(lines) {
			b := []rune(lines[bottom])
			if x < len(b) && (b[x] == '┗' || b[x] == '└') {
				break
			}
			bottom++
		}
		if bottom == len(lines) {
			return 0, 0, 0, 0
		}
		return x, y, end - x - 1, bottom - y - 1
	}
	return 0, 0, 0, 0
}

// paneRegion returns the inner cols x rows cells of the pane whose top
// border holds title, as lines with trailing blanks cut; nil when the
// screen has no such pane.
func paneRegion(screen, title string, cols, rows int) []string {
	lines := strings.Split(screen, "\n")
	x, y, c, _ := paneRect(screen, title)
	if c == 0 || y+rows >= len(lines) {
		return nil
	}
	var out []string
	for r := y + 1; r <= y+rows; r++ {
		row := []rune(lines[r])
		if len(row) < x+1+cols {
			row = append(row, []rune(strings.Repeat(" ", x+1+cols-len(row)))...)
		}
		out = append(out, strings.TrimRight(string(row[x+1:x+1+cols]), " "))
	}
	return out
}
