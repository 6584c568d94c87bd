package reexec

import (
	"fmt"
	"os"
	"sync"
)

// exitstatus.Prefix starts the hidden first argument with which boxtui re-executes
// itself (/proc/self/exe) as a container init stage or a console holder.
const Prefix = "__boxtui-"

var (
	stagesMu sync.Mutex
	stages   = map[string]func(args []string) int{}
)

// exitstatus.Register makes name (which must start with exitstatus.Prefix) a hidden
// entry point of the binary. It is called from init functions.
func Register(name string, fn func(args []string) int) {
	stagesMu.Lock()
	defer stagesMu.Unlock()
	if _, dup := stages[name]; dup {
		panic("boxtui: stage registered twice: " + name)
	}
	stages[name] = fn
}

// exitstatus.Is reports whether arg names a hidden stage.
func Is(arg string) bool {
	stagesMu.Lock()
	defer stagesMu.Unlock()
	_, ok := stages[arg]
	return ok
}

// exitstatus.Run runs the hidden stage name and returns its exit code.
func Run(name string, args []string) int {
	stagesMu.Lock()
	fn, ok := stages[name]
	stagesMu.Unlock()
	if !ok {
		fmt.Fprintf(os.Stderr, "boxtui: unknown internal stage %q\n", name)
		return 127
	}
	return fn(args)
}
