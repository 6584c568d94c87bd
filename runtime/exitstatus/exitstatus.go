package exitstatus

import (
	"errors"
	"fmt"
	"io"

	"boxtui/internal/termsafe"
)

// ExitError carries a child's exit code through to boxtui's own exit code
// (`boxtui exec c -- sh -c 'exit 7'` exits 7). It prints nothing.
type Error struct{ Code int }

func (e *Error) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// ExitCode turns a command's error into boxtui's exit code, for the
// commands that run before main (exec, ls): an *ExitError's code silently,
// any other error printed as the single line `boxtui: <error>` and 1.
func Report(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var exit *Error
	if errors.As(err, &exit) {
		return exit.Code
	}
	// Errors may quote what a container chose (a path, a command line) with
	// %s: the line is escaped (see termsafe).
	fmt.Fprintf(stderr, "boxtui: %s\n", termsafe.Message(err.Error()))
	return ForFailure(err)
}

// ForFailure is the exit code for an error that is reported on stderr:
// 127 for a command not found in a container, as a shell, nsenter and
// docker exec say it, else 1.
func ForFailure(err error) int {
	var coded interface{ ExitCode() int }
	if errors.As(err, &coded) {
		return coded.ExitCode()
	}
	return 1
}

// CommandNotFound is the exit code of a command that is not found in a
// container (a shell's, nsenter's and docker exec's).
const CommandNotFound = 127
