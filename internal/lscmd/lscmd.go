// Package lscmd is `boxtui ls`: its flags, the scan and the table and JSON
// it prints.
//
// It runs from this package's init when boxtui is started as `boxtui ls
// ...`, like runtime/enter/execcmd does for exec: Go initialises every
// package of the binary before main, and the UI libraries' inits cost a
// good part of a whole `ls`. This package imports only the standard library
// and boxtui's runtime (itself only the standard library and x/sys), so its
// init comes before theirs. Anything Parse does not accept (help, a typo,
// an argument) it leaves to the cobra command in cmd/boxtui, which calls Run
// too, so both paths print the same bytes.
//
// It must never import the UI, cobra or any other heavy package: an import
// that initialises late makes this init late too. That holds for the
// standard library as well: Go initialises packages in the order of their
// import paths as far as their dependencies allow, so a package sorting
// after github.com that boxtui/runtime/discovery does not already import (such as
// text/tabwriter or runtime/debug) waits for every third-party package
// that is ready before it, and this init with it.
package lscmd

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"boxtui/internal/termsafe"
	"boxtui/runtime/discovery"
	"boxtui/runtime/exitstatus"
	"boxtui/runtime/namespace"
	"boxtui/runtime/state"
)

// Flags are the parsed arguments of `boxtui ls`.
type Flags struct {
	JSON bool // --json
	All  bool // -a, --all: exited boxtui containers too
	// Config is the root's --config PATH. ls uses no setting, but a file
	// named must exist and parse: the cobra command checks it, so the
	// early path leaves such a command line to it.
	Config string
}

// ErrHelp is returned by Parse for -h and --help.
var ErrHelp = errors.New("help requested")

// Parse reads the arguments after `ls`. It accepts what the cobra command
// accepts in practice (--json, -a/--all, =true/=false values, and the
// root's --no-color, which ls ignores, and --config) and rejects everything
// else, leaving the cobra command to explain it.
func Parse(args []string) (Flags, error) {
	var f Flags
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--":
			if len(args[i+1:]) > 0 {
				return f, fmt.Errorf("unknown command %q for \"boxtui ls\"", args[i+1])
			}
			return f, nil
		case arg == "-h" || arg == "--help":
			return f, ErrHelp
		case arg == "-a":
			f.All = true
		case strings.HasPrefix(arg, "--"):
			name, inline, hasInline := strings.Cut(arg[2:], "=")
			switch name {
			case "json", "all", "no-color":
				on := true
				if hasInline {
					v, err := strconv.ParseBool(inline)
					if err != nil {
						return f, fmt.Errorf("invalid argument %q for --%s: want true or false", inline, name)
					}
					on = v
				}
				switch name {
				case "json":
					f.JSON = on
				case "all":
					f.All = on
				}
			case "config":
				f.Config = inline
				if !hasInline {
					if i+1 >= len(args) {
						return f, errors.New("flag needs an argument: --config")
					}
					i++
					f.Config = args[i]
				}
			default:
				return f, fmt.Errorf("unknown flag: --%s", name)
			}
		default:
			return f, fmt.Errorf("unknown argument %q for \"boxtui ls\"", arg)
		}
	}
	return f, nil
}

// Run scans the host and prints its containers to stdout, as a table or as
// JSON; scan warnings go to stderr, one line each.
func Run(f Flags, stdout, stderr io.Writer) error {
	// The scan only reads; ls is where boxtui's own leftovers are swept.
	state.SweepAbandoned()
	snap, err := discovery.ListContainers(f.All)
	if err != nil {
		return err
	}
	WriteWarnings(stderr, snap.Warnings)
	if f.JSON {
		return WriteJSON(stdout, discovery.ContainersJSON(snap.Containers))
	}
	bw := bufio.NewWriter(stdout)
	WriteTable(bw, snap)
	return bw.Flush()
}

func init() {
	if len(os.Args) < 2 || os.Args[1] != "ls" {
		return
	}
	// A CPU profile is started in main: let that path run.
	if os.Getenv("BOXTUI_CPUPROFILE") != "" {
		return
	}
	f, err := Parse(os.Args[2:])
	if err != nil || f.Config != "" {
		return // help, a usage error or a config file to check: the cobra command does it
	}
	os.Exit(exitstatus.Report(Run(f, os.Stdout, os.Stderr), os.Stderr))
}

// WriteWarnings prints scan warnings, one line each. They may name what a
// container chose, so each line is escaped (see termsafe).
func WriteWarnings(w io.Writer, ws []error) {
	for _, e := range ws {
		fmt.Fprintf(w, "boxtui: warning: %s\n", termsafe.Message(e.Error()))
	}
}

// TableNS are the namespace columns of the tables, as in the UI; the JSON
// output has every link, *_for_children included.
var TableNS = []namespace.Type{
	namespace.Cgroup, namespace.IPC, namespace.Mnt, namespace.Net,
	namespace.PID, namespace.Time, namespace.User, namespace.UTS,
}

// NSHeader is the table heading of t's inode column: its type with NS
// after it (PIDNS, MNTNS...), so that PIDNS, the PID namespace, is never
// taken for PID, the init's process ID beside it.
func NSHeader(t namespace.Type) string {
	return strings.ToUpper(t.String()) + "NS"
}

// WriteTable prints the containers of snap as `boxtui ls` does.
func WriteTable(w io.Writer, snap discovery.Snapshot) {
	head := []string{"NAME", "PID", "ORIGIN", "PROCS", "STATUS"}
	for _, t := range TableNS {
		head = append(head, NSHeader(t))
	}
	head = append(head, "COMMAND")
	rows := [][]string{head}
	for _, c := range snap.Containers {
		// boxtui's name, else the engine's (docker, podman, lxc, nspawn...).
		name := c.DisplayName()
		if name == "" {
			name = "-"
		}
		status := c.Status
		if c.Status == state.StatusExited {
			status = exitText(c)
		}
		row := []string{name, strconv.Itoa(c.PID), string(c.Origin), strconv.Itoa(c.Processes), status}
		for _, t := range TableNS {
			if c.Status == state.StatusExited {
				row = append(row, "-")
				continue
			}
			row = append(row, MarkedInode(c.Namespaces[t], snap.Host[t]))
		}
		row = append(row, termsafe.Clip(c.Command, 60))
		rows = append(rows, row)
	}
	// Names, origins and command lines come from containers: the table
	// escapes every cell (termsafe) and aligns on terminal columns.
	w.Write(termsafe.AppendTable(nil, rows))
	if len(snap.Containers) == 0 {
		fmt.Fprintln(w, "no containers running (start one with `sudo boxtui run`)")
		return
	}
	fmt.Fprintln(w, "* = shared with the host")
}

func exitText(c discovery.Container) string {
	switch {
	case c.ExitCode != nil:
		return fmt.Sprintf("exited(%d)", *c.ExitCode)
	case c.ExitSignal != "":
		return "exited(" + c.ExitSignal + ")"
	}
	return "exited"
}

// Inode prints a namespace inode, or ? when it could not be read (0).
func Inode(ino uint64) string {
	if ino == 0 {
		return "?"
	}
	return strconv.FormatUint(ino, 10)
}

// MarkedInode prints an inode with * when the host has the same one.
func MarkedInode(ino, host uint64) string {
	if ino != 0 && ino == host {
		return Inode(ino) + "*"
	}
	return Inode(ino)
}

// WriteJSON prints v as indented JSON, the form of every --json output,
// with the characters encoding/json leaves raw that a terminal would act
// on (DEL, C1) written as \u escapes: the same JSON values (termsafe.JSON).
func WriteJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(termsafe.JSON(append(b, '\n')))
	return err
}

// WriteJSONLine prints v as one line of JSON, the form of the streaming
// --json outputs (events, stats), made terminal-safe as WriteJSON does.
func WriteJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(termsafe.JSON(append(b, '\n')))
	return err
}
