package containerenv

import (
	"testing"

	"golang.org/x/sys/unix"
)

func fakeStat(files map[string]uint32) StatFunc {
	return func(name string) (uint32, error) {
		if m, ok := files[name]; ok {
			return m, nil
		}
		return 0, unix.ENOENT
	}
}

// TestLookPath: what a shell finds, joined as given (never cleaned).
func TestLookPath(t *testing.T) {
	exe := uint32(unix.S_IFREG | 0o755)
	stat := fakeStat(map[string]uint32{
		"/bin/sh": exe, "/usr/bin/top": exe, "/bin/data": unix.S_IFREG | 0o644, "/usr/bin/dir": unix.S_IFDIR | 0o755,
		"/x/../bin/sh": exe, "run": exe, "/bin//sh": exe, "rel/run": exe,
	})
	for _, tc := range []struct {
		name, path, want string
		ok               bool
	}{
		{"top", "/bin:/usr/bin", "/usr/bin/top", true},
		{"sh", "/usr/bin:/bin", "/bin/sh", true},
		{"data", "/bin", "", false},
		{"dir", "/usr/bin", "", false},
		{"", "/bin", "", false},
		{"sh", "/x/../bin", "/x/../bin/sh", true}, // not cleaned to /bin/sh
		{"sh", "/bin/", "/bin//sh", true},
		{"run", "/bin:", "run", true}, // empty entry: the working directory
		{"run", "::/bin", "run", true},
		{"/bin/sh", "", "/bin/sh", true},
		{"/bin/data", "/bin", "", false},
		{"rel/run", "/bin", "rel/run", true},
		{"nope", Path, "", false},
	} {
		got, ok := LookPath(tc.name, tc.path, stat)
		if got != tc.want || ok != tc.ok {
			t.Errorf("LookPath(%q, %q) = %q %v, want %q %v", tc.name, tc.path, got, ok, tc.want, tc.ok)
		}
	}
}

func TestShellAndEnvPath(t *testing.T) {
	exe := uint32(unix.S_IFREG | 0o755)
	if sh, ok := Shell(fakeStat(map[string]uint32{"/bin/sh": exe})); sh != "/bin/sh" || !ok {
		t.Errorf("Shell = %q %v, want /bin/sh", sh, ok)
	}
	if sh, ok := Shell(fakeStat(map[string]uint32{"/bin/sh": exe, "/bin/bash": exe})); sh != "/bin/bash" || !ok {
		t.Errorf("Shell = %q %v, want /bin/bash first", sh, ok)
	}
	if sh, ok := Shell(fakeStat(nil)); ok {
		t.Errorf("Shell with none = %q %v", sh, ok)
	}
	if p := EnvPath([]string{"A=1", "PATH=/x", "PATH=/y"}); p != "/x" {
		t.Errorf("EnvPath = %q, want the first PATH", p)
	}
	if p := EnvPath([]string{"XPATH=/x"}); p != Path {
		t.Errorf("EnvPath without PATH = %q, want %q", p, Path)
	}
}
