package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"boxtui/internal/termsafe"
)

// StagePrefix starts the hidden first argument with which boxtui re-executes
// itself (/proc/self/exe) as a container init stage or a console holder.
const StagePrefix = "__boxtui-"

var (
	stagesMu sync.Mutex
	stages   = map[string]func(args []string) int{}
)

// RegisterStage makes name (which must start with StagePrefix) a hidden
// entry point of the binary. It is called from init functions.
func RegisterStage(name string, fn func(args []string) int) {
	stagesMu.Lock()
	defer stagesMu.Unlock()
	if _, dup := stages[name]; dup {
		panic("boxtui: stage registered twice: " + name)
	}
	stages[name] = fn
}

// IsStage reports whether arg names a hidden stage.
func IsStage(arg string) bool {
	stagesMu.Lock()
	defer stagesMu.Unlock()
	_, ok := stages[arg]
	return ok
}

// RunStage runs the hidden stage name and returns its exit code.
func RunStage(name string, args []string) int {
	stagesMu.Lock()
	fn, ok := stages[name]
	stagesMu.Unlock()
	if !ok {
		fmt.Fprintf(os.Stderr, "boxtui: unknown internal stage %q\n", name)
		return 127
	}
	return fn(args)
}

// ExitError carries a child's exit code through to boxtui's own exit code
// (`boxtui exec c -- sh -c 'exit 7'` exits 7). It prints nothing.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// ExitCode turns a command's error into boxtui's exit code, for the
// commands that run before main (exec, ls): an *ExitError's code silently,
// any other error printed as the single line `boxtui: <error>` and 1.
func ExitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	// Errors may quote what a container chose (a path, a command line) with
	// %s: the line is escaped (see termsafe).
	fmt.Fprintf(stderr, "boxtui: %s\n", termsafe.Message(err.Error()))
	return FailureCode(err)
}

// FailureCode is the exit code for an error that is reported on stderr:
// 127 for a command not found in a container, as a shell, nsenter and
// docker exec say it, else 1.
func FailureCode(err error) int {
	var coded interface{ ExitCode() int }
	if errors.As(err, &coded) {
		return coded.ExitCode()
	}
	return 1
}

// CommandNotFoundCode is the exit code of a command that is not found in a
// container (a shell's, nsenter's and docker exec's).
const CommandNotFoundCode = 127

// RequireRoot returns a clear error when boxtui is not running as root.
// action names what needs it, e.g. "run" or "exec".
func RequireRoot(action string) error {
	if os.Geteuid() == 0 {
		return nil
	}
	return fmt.Errorf("boxtui %s needs root: run it again with sudo", action)
}
