package enter

import (
	"errors"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"boxtui/runtime/containerenv"
	"boxtui/runtime/namespace"

	"golang.org/x/sys/unix"
)

func TestParseNamespaces(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []namespace.Type
	}{
		{"", nil},
		{"all", nil},
		{"pid", []namespace.Type{namespace.PID}},
		{"pid,mnt, uts,pid", []namespace.Type{namespace.PID, namespace.Mnt, namespace.UTS}},
		{"mount,net,ipc,cgroup", []namespace.Type{namespace.Mnt, namespace.Net, namespace.IPC, namespace.Cgroup}},
		// Accepted so that Start can say why it refuses them.
		{"user", []namespace.Type{namespace.User}},
	} {
		got, err := ParseNamespaces(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseNamespaces(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"foo", "pid,foo", "pid,", "pid_for_children"} {
		_, err := ParseNamespaces(bad)
		if err == nil || !strings.Contains(err.Error(), "unknown namespace") || strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseNamespaces(%q) error = %v; want one line naming the unknown namespace", bad, err)
		}
	}
}

func fakeStat(files map[string]uint32) containerenv.StatFunc {
	return func(name string) (uint32, error) {
		if m, ok := files[name]; ok {
			return m, nil
		}
		return 0, unix.ENOENT
	}
}

func TestLookCommand(t *testing.T) {
	exe := uint32(unix.S_IFREG | 0o755)
	files := map[string]uint32{
		"/bin/sh":       exe,
		"/usr/bin/top":  exe,
		"/bin/data":     unix.S_IFREG | 0o644,
		"/usr/bin/dir":  unix.S_IFDIR | 0o755,
		"/sbin/hidden":  exe,
		"/opt/x/run.sh": exe,
	}
	stat := fakeStat(files)
	for _, tc := range []struct {
		argv     []string
		path     string
		wantPath string
		wantArgs []string
		notFound string
	}{
		{argv: nil, wantPath: "/bin/sh", wantArgs: []string{"/bin/sh"}},
		{argv: []string{"top", "-b"}, path: "/bin:/usr/bin", wantPath: "/usr/bin/top", wantArgs: []string{"top", "-b"}},
		{argv: []string{"/opt/x/run.sh"}, wantPath: "/opt/x/run.sh", wantArgs: []string{"/opt/x/run.sh"}},
		{argv: []string{"hidden"}, path: "/bin:/usr/bin", notFound: "hidden"},
		{argv: []string{"data"}, path: "/bin", notFound: "data"},
		{argv: []string{"dir"}, path: "/usr/bin", notFound: "dir"},
		{argv: []string{"/bin/nope"}, path: "/bin", notFound: "/bin/nope"},
	} {
		p, args, err := lookCommand(tc.argv, tc.path, stat)
		if tc.notFound != "" {
			var nf *CommandNotFoundError
			if !errors.As(err, &nf) || nf.Command != tc.notFound || !errors.Is(err, ErrCommandNotFound) {
				t.Errorf("lookCommand(%q) error = %v; want command %s not found", tc.argv, err, tc.notFound)
			}
			continue
		}
		if err != nil || p != tc.wantPath || !reflect.DeepEqual(args, tc.wantArgs) {
			t.Errorf("lookCommand(%q) = %q, %q, %v; want %q, %q", tc.argv, p, args, err, tc.wantPath, tc.wantArgs)
		}
	}
	// bash is preferred when there is one.
	files["/bin/bash"] = exe
	if p, _, _ := lookCommand(nil, "", stat); p != "/bin/bash" {
		t.Errorf("default shell = %q; want /bin/bash", p)
	}
	if _, _, err := lookCommand(nil, "", fakeStat(nil)); !errors.Is(err, errNoShell) {
		t.Errorf("no shell: error = %v; want errNoShell", err)
	}
	if got := (&CommandNotFoundError{Command: "/bin/nope"}).Error(); got != "command /bin/nope not found in the container" {
		t.Errorf("error text = %q", got)
	}
}

func TestBuildEnv(t *testing.T) {
	env, err := buildEnv([]string{"PATH=/x", "A=1", "A=2", "EMPTY="}, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"PATH=/x", "HOME=/root", "TERM=xterm", "A=2", "EMPTY="}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("buildEnv = %q; want %q", env, want)
	}
	if containerenv.EnvPath(env) != "/x" {
		t.Errorf("envPath = %q", containerenv.EnvPath(env))
	}
	if env, _ := buildEnv(nil, false); strings.Contains(strings.Join(env, " "), "TERM=") {
		t.Errorf("TERM set without a TTY: %q", env)
	}
	for _, bad := range []string{"NOEQUALS", "=v", "A=\x00"} {
		if _, err := buildEnv([]string{bad}, false); err == nil || !strings.Contains(err.Error(), "KEY=VALUE") {
			t.Errorf("buildEnv(%q) error = %v", bad, err)
		}
	}
}

func TestExitStatus(t *testing.T) {
	if s := (ExitStatus{Code: 7}); s.ShellCode() != 7 || s.String() != "exited with status 7" {
		t.Errorf("%v: ShellCode %d", s, s.ShellCode())
	}
	if s := (ExitStatus{Code: -1, Signal: syscall.SIGTERM}); s.ShellCode() != 143 || s.String() != "killed by signal TERM" {
		t.Errorf("%v: ShellCode %d", s, s.ShellCode())
	}
}
