// Command boxtui is a terminal UI and CLI for hand-made Linux containers.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"

	"boxtui/internal/termsafe"
	"boxtui/runtime/exeseal"
	"boxtui/runtime/exitstatus"
	"boxtui/runtime/launch"
	"boxtui/runtime/reexec"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func init() {
	// Keep the main goroutine on the main thread: threads that join a
	// container's namespaces are locked and thrown away, and the runtime must
	// never park this one in their place.
	runtime.LockOSThread()
}

var rootCmd = &cobra.Command{
	Use:   "boxtui",
	Short: "A terminal UI for hand-made Linux containers",
	Long: `boxtui lists every container on the host (any process tree in its own PID
namespace, whoever made it) with its namespace inodes, launches chrooted
containers, enters them with nsenter semantics, kills them, and hot-plugs
bind mounts. Without a subcommand it opens the terminal UI.`,
	Version:       version,
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	if len(os.Args) > 1 && reexec.Is(os.Args[1]) {
		os.Exit(reexec.Run(os.Args[1], os.Args[2:]))
	}
	stop := startProfile()
	code := execute(os.Args[1:])
	stop()
	// A `boxtui run` that failed before launching leaves no holder behind,
	// and one that holds its own container stays until it has exited.
	launch.Exit(code)
}

// startProfile writes a CPU profile to $BOXTUI_CPUPROFILE, for finding where
// the UI's time goes (go tool pprof bin/boxtui FILE).
func startProfile() (stop func()) {
	path := os.Getenv("BOXTUI_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "boxtui: cpu profile: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "boxtui: cpu profile: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// execute runs the CLI with args and returns the process exit code.
func execute(args []string) int { return executeTo(args, os.Stderr) }

// sealedCommands start processes inside containers (the UI is rootCmd
// itself): they run from a sealed copy of the binary (package exeseal).
var sealedCommands = map[string]bool{"exec": true, "run": true, "debug": true}

func init() {
	rootCmd.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		// A config file named with --config is read by every command, even
		// one that uses none of its settings: a missing or invalid file is
		// an error, never silently ignored.
		if err := checkConfigFlag(configFlags.path); err != nil {
			return err
		}
		return sealIfEntering(cmd)
	}
}

// sealIfEntering runs the commands that start processes inside containers
// from a sealed copy of the binary. exeseal's C constructor (and its init
// without cgo) already sealed `boxtui`, `boxtui exec ...` and `boxtui run
// ...`; this catches the forms it cannot see, such as `boxtui --config F
// exec ...`. It re-executes the process's own command line, so only when
// that is what is running (tests call execute in-process with other args).
func sealIfEntering(cmd *cobra.Command) error {
	if cmd != rootCmd && !sealedCommands[cmd.Name()] {
		return nil
	}
	if !slices.Equal(os.Args[1:], executing) {
		return nil
	}
	return exeseal.EnsureSealed()
}

// executing is the argument list executeTo was last given.
var executing []string

// executeTo is execute with the error line written to stderr.
func executeTo(args []string, stderr io.Writer) int {
	executing = args
	// Flags keep their values from one Execute to the next, and tests run
	// many command lines in one process: each starts from the defaults.
	configFlags.path, configFlags.noColor = "", false
	rootCmd.SetArgs(args)
	err := rootCmd.Execute()
	if err == nil {
		return 0
	}
	var exit *exitstatus.Error
	if errors.As(err, &exit) {
		return exit.Code
	}
	// Errors may quote what a container chose (a path, a command line) with
	// %s: the line is escaped (see termsafe).
	fmt.Fprintf(stderr, "boxtui: %s\n", termsafe.Message(err.Error()))
	return exitstatus.ForFailure(err)
}
