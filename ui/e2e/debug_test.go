package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"boxtui/internal/testutil"
)

// TestDebugKeyOnAContainerWithoutShell: d on a container whose root holds
// one static program opens a shell from the toolbox (the config's rootfs)
// in a pane, in the container's PID namespace with its root at /target.
func TestDebugKeyOnAContainerWithoutShell(t *testing.T) {
	testutil.RequireRoot(t, "starts a container and debugs it")
	tools := testutil.Rootfs(t)
	root := filepath.Join(t.TempDir(), "root")
	if err := os.MkdirAll(filepath.Join(root, "proc"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The container's only program: a copy of the toolbox's sleep would
	// need its libraries; build a static one.
	src := filepath.Join(t.TempDir(), "pause.go")
	if err := os.WriteFile(src, []byte("package main\n\nimport \"time\"\n\nfunc main() { time.Sleep(time.Hour) }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(root, "pause"), src)
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build a static pause: %v\n%s", err, out)
	}
	// The filter finds this container among any others on the host.
	tag := "9" + strconv.Itoa(100000+time.Now().Nanosecond()%800000)
	if err := os.Rename(filepath.Join(root, "pause"), filepath.Join(root, "pause"+tag)); err != nil {
		t.Fatal(err)
	}
	testutil.StartUnshare(t, root, "/pause"+tag)
	config := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(config, []byte("rootfs = \""+tools+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := Start(t, Options{Width: 120, Height: 40, KeepOpen: true, Env: []string{"BOXTUI_RUN_DIR=" + t.TempDir(), "BOXTUI_LOG=off"}},
		Binary(t), "--config", config)
	s.Wait("container(s)", 10*time.Second)
	s.Keys("/")
	s.Type(tag)
	s.Keys("Enter")
	s.Keys("d")
	s.Wait("#", 10*time.Second)
	s.Type("echo D$(cat /proc/1/comm)$(test -x /target/pause" + tag + " && echo T)")
	s.Keys("Enter")
	s.Wait("Dpause"+tag+"T", 10*time.Second)
	s.Type("exit")
	s.Keys("Enter")
	s.Wait("exited", 10*time.Second)
	s.Keys("q")
	s.Wait("EXIT=0", 10*time.Second)
}
