package testutil

import (
	"debug/buildinfo"
	"fmt"
	"testing"
)

// BinaryHasCgo reports whether the boxtui binary under test (Binary) was
// built with cgo, and so has its C parts (the own holder, prefork, the
// exec fast path): its build settings say, as `go version -m` shows them.
// It asks the binary, not the test binary, which may be built otherwise.
// A binary without build settings fails the test: it cannot say.
func BinaryHasCgo(t testing.TB) bool {
	t.Helper()
	bin := Binary(t)
	cgo, err := builtWithCgo(bin)
	if err != nil {
		t.Fatalf("binary under test %s: %v", bin, err)
	}
	return cgo
}

// builtWithCgo reads the CGO_ENABLED build setting of the Go binary at path.
func builtWithCgo(path string) (bool, error) {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("read build info: %w", err)
	}
	for _, s := range info.Settings {
		if s.Key == "CGO_ENABLED" {
			return s.Value == "1", nil
		}
	}
	return false, fmt.Errorf("no CGO_ENABLED in its build settings")
}
