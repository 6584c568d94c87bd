package exitstatus

import (
	"bytes"
	"errors"
	"testing"
)

// The early `ls` and `exec` paths print their error through ExitCode: a
// container-chosen name in it must not reach the terminal raw.
func TestExitCodeEscapesTheErrorLine(t *testing.T) {
	var b bytes.Buffer
	code := Report(errors.New("command /bin/\x1b]0;PWNED\a\x9b\n not found in the container"), &b)
	want := `boxtui: command /bin/\x1b]0;PWNED\x07\x9b\x0a not found in the container` + "\n"
	if code != 1 || b.String() != want {
		t.Errorf("ExitCode printed %q (exit %d), want %q (exit 1)", b.String(), code, want)
	}
	b.Reset()
	if code := Report(&Error{Code: 3}, &b); code != 3 || b.Len() != 0 {
		t.Errorf("ExitCode of an exit status printed %q, exit %d", b.String(), code)
	}
}
