package actionlog

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	at := time.Date(2026, 11, 28, 15, 46, 5, 0, time.FixedZone("x", 3600))
	cases := []struct {
		action, target string
		err            error
		want           string
	}{
		{"launch", "web", nil, "2026-11-28T14:46:05Z uid=0 pid=42 action=launch target=web outcome=ok\n"},
		{"mount.add", "web:/var/gojek", errors.New("bind \"/x\" onto \"/var/gojek\": permission denied"),
			`2026-11-28T14:46:05Z uid=0 pid=42 action=mount.add target=web:/var/gojek outcome="error: bind \"/x\" onto \"/var/gojek\": permission denied"` + "\n"},
		{"exec.open", "a b\nc", nil, `2026-11-28T14:46:05Z uid=0 pid=42 action=exec.open target="a b\nc" outcome=ok` + "\n"},
		{"rm", "", nil, `2026-11-28T14:46:05Z uid=0 pid=42 action=rm target="" outcome=ok` + "\n"},
		{"kill", "k=v", nil, `2026-11-28T14:46:05Z uid=0 pid=42 action=kill target="k=v" outcome=ok` + "\n"},
	}
	for _, c := range cases {
		if got := string(format(at, 0, 42, c.action, c.target, c.err)); got != c.want {
			t.Errorf("format(%q, %q, %v)\n got %q\nwant %q", c.action, c.target, c.err, got, c.want)
		}
	}
	long := string(format(at, 0, 1, "rm", strings.Repeat("é", 2000), nil))
	if strings.Count(long, "\n") != 1 || len(long) > 2*maxField || !strings.Contains(long, "...") {
		t.Errorf("long target not bounded: %d bytes", len(long))
	}
}

func TestRecordToEnvPath(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "actions.log")
	t.Setenv("BOXTUI_LOG", p)
	Record("launch", "web", nil)
	Record("kill", "web", errors.New("no such process"))
	if err := Err(); err != nil {
		t.Fatal(err)
	}
	if Path() != p {
		t.Errorf("Path() = %q, want %q", Path(), p)
	}
	lines := readLines(t, p)
	if len(lines) != 2 || !strings.Contains(lines[0], "action=launch target=web outcome=ok") ||
		!strings.Contains(lines[1], `action=kill target=web outcome="error: no such process"`) {
		t.Fatalf("log = %q", lines)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640", fi.Mode().Perm())
	}
}

func TestRecordOff(t *testing.T) {
	t.Setenv("BOXTUI_LOG", "off")
	Record("launch", "web", nil)
	if Err() != nil || Path() != "" {
		t.Fatalf("Err=%v Path=%q", Err(), Path())
	}
}

// The first candidate that cannot be written falls through to the next.
func TestFallback(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(blocker, "actions.log") // parent is a file: always fails, even as root
	good := filepath.Join(dir, "run", "actions.log")
	if err := write([]string{bad, good}, []byte("x\n")); err != nil {
		t.Fatal(err)
	}
	if got := readLines(t, good); len(got) != 1 {
		t.Fatalf("fallback got %q", got)
	}
	err := write([]string{bad}, []byte("x\n"))
	if err == nil || !strings.Contains(err.Error(), "write action log") {
		t.Fatalf("err = %v", err)
	}
}

// A symlink planted at the log path is not followed.
func TestNoFollow(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	link := filepath.Join(dir, "actions.log")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := write([]string{link}, []byte("x\n")); err == nil {
		t.Fatal("wrote through a symlink")
	}
	if _, err := os.Stat(target); err == nil {
		t.Fatal("symlink target was created")
	}
}

var lineRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ uid=\d+ pid=(\d+) action=(\S+) target=(\S+) outcome=ok$`)

// Goroutines of one process and several processes log at once: every line
// arrives whole.
func TestConcurrentProcesses(t *testing.T) {
	if os.Getenv("ACTIONLOG_CHILD") != "" {
		for i := range 200 {
			Record("child", "n"+strconv.Itoa(i), nil)
		}
		if err := Err(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	p := filepath.Join(t.TempDir(), "actions.log")
	t.Setenv("BOXTUI_LOG", p)
	const children = 4
	var cmds []*exec.Cmd
	for range children {
		cmd := exec.Command(os.Args[0], "-test.run=^TestConcurrentProcesses$")
		cmd.Env = append(os.Environ(), "ACTIONLOG_CHILD=1")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				Record("parent", fmt.Sprintf("g%d-%d", g, i), nil)
			}
		}()
	}
	wg.Wait()
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child: %v", err)
		}
	}
	lines := readLines(t, p)
	if want := children*200 + 8*100; len(lines) != want {
		t.Fatalf("%d lines, want %d", len(lines), want)
	}
	pids := map[string]int{}
	for _, l := range lines {
		m := lineRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("mangled line %q", l)
		}
		pids[m[1]]++
	}
	if len(pids) != children+1 {
		t.Errorf("lines from %d processes, want %d", len(pids), children+1)
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		lines = append(lines, s.Text())
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}
