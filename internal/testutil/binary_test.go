package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBuiltWithCgo builds one small program with cgo and one without, and
// reads each one's setting back.
func TestBuiltWithCgo(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, want := range []bool{false, true} {
		env := "CGO_ENABLED=0"
		if want {
			if _, err := exec.LookPath("cc"); err != nil {
				continue // no C compiler: only the cgo-less case
			}
			env = "CGO_ENABLED=1"
		}
		out := filepath.Join(dir, env)
		cmd := exec.Command("go", "build", "-o", out, src)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env, "GOFLAGS=", "GO111MODULE=off")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s go build: %v\n%s", env, err, b)
		}
		got, err := builtWithCgo(out)
		if err != nil || got != want {
			t.Errorf("%s: builtWithCgo = %v, %v; want %v", env, got, err, want)
		}
	}
	if _, err := builtWithCgo(src); err == nil {
		t.Error("a source file read as a binary with build settings")
	}
}

// TestBinaryForNobody: a binary under test in a directory only root can
// enter is copied where nobody can run it.
func TestBinaryForNobody(t *testing.T) {
	RequireRoot(t, "runs a binary as nobody")
	private := filepath.Join(t.TempDir(), "private")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(private, "boxtui")
	if err := copyFile("/bin/true", bin, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BOXTUI_BIN", bin)
	asNobody := func(path string) error {
		c := exec.Command(path)
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		return c.Run()
	}
	if err := asNobody(bin); err == nil {
		t.Fatalf("nobody ran %s in a 0700 directory: the test proves nothing", bin)
	}
	if err := othersCanEnter(private); err == nil {
		t.Errorf("othersCanEnter(%s) = nil for a 0700 directory", private)
	}
	got := BinaryFor(t, 65534, 65534)
	if err := asNobody(got); err != nil {
		t.Fatalf("nobody cannot run the copy %s: %v", got, err)
	}
}

// TestStartGroupKillsTheWholeGroup: a command's background children die
// with it at cleanup.
func TestStartGroupKillsTheWholeGroup(t *testing.T) {
	var pids []int
	t.Run("group", func(t *testing.T) {
		cmd := StartGroup(t, "sh", "-c", "sleep 1001 & exec sleep 1002")
		// The shell execs the second sleep; its one child is the first.
		var kids []int
		WaitFor(t, time.Minute, func() bool {
			kids = Children(cmd.Process.Pid)
			return len(kids) == 1
		}, "the shell's background sleep")
		pids = []int{cmd.Process.Pid, kids[0]}
	})
	if len(pids) != 2 {
		t.Fatal("the group did not start")
	}
	for _, pid := range pids {
		WaitForState(t, time.Minute, fmt.Sprintf("process %d to die with its group", pid), func() (bool, string) {
			data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if err != nil {
				return true, ""
			}
			f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
			return f[0] == "Z", "state " + f[0]
		})
	}
}
