package exeseal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"boxtui/internal/testutil"
)

func TestNeedsSeal(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"boxtui"}, true},
		{[]string{"boxtui", "exec", "x"}, true},
		{[]string{"boxtui", "run"}, true},
		{[]string{"boxtui", "debug", "web"}, true},
		{[]string{"boxtui", "ls"}, false},
		{[]string{"boxtui", "mount", "a", "b", "c"}, false},
		{[]string{"boxtui", "--config", "f", "exec"}, false}, // left to the cobra layer
		{[]string{"boxtui.test", "-test.run=X"}, false},
		{[]string{"boxtui", "__boxtui-holder"}, false},
		{[]string{"boxtui", "execx"}, false},
		{nil, false},
	} {
		if got := NeedsSeal(tc.args); got != tc.want {
			t.Errorf("NeedsSeal(%q) = %v, want %v", tc.args, got, tc.want)
		}
		if haveC && len(tc.args) > 0 {
			if got := cNeedsSeal(tc.args); got != tc.want {
				t.Errorf("C boxtui_needs_seal(%q) = %v, want %v (the twins disagree)", tc.args, got, tc.want)
			}
		}
	}
}

// checkSealed opens path and checks it is the running binary, sealed by
// both twins' rule, and that it cannot be reopened for writing through
// /proc/self/fd the way a container would try.
func checkSealed(t *testing.T, path string) {
	t.Helper()
	want, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not a copy of the running binary", path)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !FileSealed(int(f.Fd())) {
		t.Fatalf("%s is not sealed", path)
	}
	if haveC && !cExeSealed(int(f.Fd())) {
		t.Fatalf("%s: Go says sealed, C does not (the twins disagree)", path)
	}
	w, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), os.O_WRONLY|os.O_APPEND, 0)
	if err == nil {
		_, err = w.Write([]byte("x"))
		w.Close()
		if err == nil {
			t.Fatalf("wrote to the sealed copy %s", path)
		}
	}
}

func TestSealedCopyIsTheBinaryAndReadOnly(t *testing.T) {
	testutil.RequireRoot(t, "makes detached mounts with fsopen/fsmount")
	c, err := SealedCopy()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	checkSealed(t, c.Path)
}

func TestMemfdCopyIsSealed(t *testing.T) {
	exe, err := os.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer exe.Close()
	fd, err := memfdCopy(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	checkSealed(t, fmt.Sprintf("/proc/self/fd/%d", fd))
	if _, err := unix.Write(fd, []byte("x")); !errors.Is(err, unix.EPERM) {
		t.Fatalf("write to the sealed memfd: %v, want EPERM", err)
	}
}

func TestOrdinaryFileIsNotSealed(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "bin")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if FileSealed(int(f.Fd())) {
		t.Fatal("a writable temp file counts as sealed")
	}
	if haveC && cExeSealed(int(f.Fd())) {
		t.Fatal("C: a writable temp file counts as sealed")
	}
}
