package faults

import (
	"archive/tar"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
)

// staticPause builds a static program that waits for SIGTERM or SIGINT,
// the only file of the roots below: no shell, no libc, no /bin.
func staticPause(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "pause.go")
	prog := "package main\n\nimport (\n\t\"os\"\n\t\"os/signal\"\n\t\"syscall\"\n)\n\n" +
		"func main() {\n\tc := make(chan os.Signal, 1)\n\tsignal.Notify(c, syscall.SIGTERM, syscall.SIGINT)\n\t<-c\n}\n"
	if err := os.WriteFile(src, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "pause")
	cmd := exec.Command("go", "build", "-o", bin, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build a static pause: %v\n%s", err, out)
	}
	return bin
}

// noShellRootfs is a root filesystem holding only /pause.
func noShellRootfs(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, staticPause(t), filepath.Join(root, "pause"))
	if err := os.Chmod(filepath.Join(root, "pause"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func readMountinfo(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDebugBoxtuiContainerWithoutShell drives `boxtui debug` on a boxtui
// container whose rootfs is one static binary: the command runs from the
// toolbox in its namespaces with its root at /target, stdout and the exit
// code pass through, -t -i gives a PTY fed from stdin, and the container's
// mount table does not change.
func TestDebugBoxtuiContainerWithoutShell(t *testing.T) {
	c := newCLI(t)
	tools := testutil.Rootfs(t)
	name := "bt-debug-" + strings.ReplaceAll(marker(), ".", "")
	ct := c.detached(name, noShellRootfs(t), "/pause")
	before := readMountinfo(t, ct.PID)

	out, errOut, code := c.run("debug", "--tools", tools, name, "--", "sh", "-c",
		"hostname; ps -e -o pid=,comm=; ls /target; exit 7")
	if code != 7 {
		t.Fatalf("debug exited %d, want the command's 7\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	fields := strings.Fields(out)
	if len(fields) == 0 || fields[0] != name {
		t.Errorf("hostname is not the container's (%s):\n%s", name, out)
	}
	if !strings.Contains(out, "1 pause") || !strings.Contains(out, "\npause\n") {
		t.Errorf("ps or /target do not show the container:\n%s", out)
	}

	// With a PTY (no terminal here, so -t), fed from stdin (-i).
	cmd := exec.Command(c.bin, "debug", "-t", "-i", "--tools", tools, name)
	cmd.Env = c.env
	cmd.Stdin = strings.NewReader("echo M$((6*7))\nexit 3\n")
	ptyOut, err := cmd.Output()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 3 || !strings.Contains(string(ptyOut), "M42") {
		t.Errorf("debug -t -i: %v, want exit 3 and M42 in\n%s", err, ptyOut)
	}

	// Its own history says a debug shell came and went.
	if events := c.mustRun("events", name); !strings.Contains(events, "debug") || !strings.Contains(events, "exec-closed") {
		t.Errorf("the container's history does not show the debug shell:\n%s", events)
	}
	if after := readMountinfo(t, ct.PID); after != before {
		t.Errorf("the container's mount table changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// The errors a user meets are one line saying what to do.
	for _, tc := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"debug", "--tools", "/nonexistent/tools", name}, "toolbox /nonexistent/tools", 1},
		// Not found: 127, as exec, a shell and nsenter say it.
		{[]string{"debug", "--tools", tools, name, "--", "no-such-tool"}, "command no-such-tool not found in the toolbox", 127},
		{[]string{"debug", "--tools", tools, "no-such-container"}, "no container named", 1},
		{[]string{"debug", "--tools", tools}, "no target given", 1},
	} {
		_, errOut, code := c.run(tc.args...)
		line := strings.TrimSpace(errOut)
		if code != tc.code || strings.Contains(line, "\n") || !strings.Contains(line, tc.want) {
			t.Errorf("boxtui %s: exit %d, said %q; want exit %d and one line with %q", strings.Join(tc.args, " "), code, line, tc.code, tc.want)
		}
	}
}

// TestDebugDockerContainerWithoutShell: a docker container made from a
// one-file image (`docker import` of a tarball holding a static binary) is
// debugged by its init's host PID: docker's hostname, the image's file at
// /target, docker's mount table untouched.
func TestDebugDockerContainerWithoutShell(t *testing.T) {
	c := newCLI(t)
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("needs docker")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := exec.CommandContext(ctx, "docker", "info").Run(); err != nil {
		t.Skip("needs a running docker daemon")
	}
	mark := strings.ReplaceAll(marker(), ".", "")
	image, name := "bt-debug-pause-"+mark, "bt-debug-"+mark
	tarball := filepath.Join(t.TempDir(), "pause.tar")
	writeOneFileTar(t, tarball, staticPause(t), "pause")
	docker := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("docker", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	docker("import", tarball, image)
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", image).Run() })
	id := docker("run", "-d", "--network", "none", "--name", name, image, "/pause")
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", name).Run() })
	pid, err := strconv.Atoi(docker("inspect", "-f", "{{.State.Pid}}", name))
	if err != nil || pid <= 0 {
		t.Fatalf("docker's init pid: %v", err)
	}
	before := readMountinfo(t, pid)
	out, errOut, code := c.run("debug", "--tools", testutil.Rootfs(t), strconv.Itoa(pid), "--", "sh", "-c",
		"hostname; cat /proc/1/cmdline; echo; ls /target")
	if code != 0 {
		t.Fatalf("debug: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if !strings.HasPrefix(out, id[:12]+"\n") {
		t.Errorf("hostname is not docker's (%s):\n%s", id[:12], out)
	}
	if !strings.Contains(out, "/pause") || !strings.Contains(out, "\npause\n") {
		t.Errorf("PID 1 or /target are not the container's:\n%s", out)
	}
	if after := readMountinfo(t, pid); after != before {
		t.Errorf("docker's mount table changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// writeOneFileTar writes a tarball holding src as name (mode 0755).
func writeOneFileTar(t *testing.T, tarball, src, name string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(tarball)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}
