// Package execcmd is `boxtui exec`: its flags, the local terminal's raw
// mode and size, signal forwarding and exit-code passthrough, over package
// enter.
//
// It runs from this package's init when boxtui is started as `boxtui exec
// ...`: Go initialises every package of the binary before main, and the UI
// libraries alone cost more than the exec itself. This package imports only
// the standard library, x/sys, charmbracelet/x/term (which itself imports
// only x/sys) and boxtui's runtime, so its init comes before
// theirs. Anything it does not understand (help, a bad flag) it leaves to
// the cobra command in cmd/boxtui, which parses with Parse too, so both
// paths agree.
//
// It must never import the UI, cobra or any other heavy package: an import
// that initialises late makes this init late too.
package execcmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"boxtui/runtime/discovery"
	"boxtui/runtime/enter"
	"boxtui/runtime/exitstatus"
	"boxtui/runtime/privilege"

	// The plain `exec PID -- CMD` never reaches Go: see package fastexec.
	_ "boxtui/runtime/enter/fastexec"
	// Seals the binary before exec starts anything in a container.
	_ "boxtui/runtime/exeseal"
)

// Flags are the parsed arguments of `boxtui exec`.
type Flags struct {
	Interactive  bool     // -i: pass stdin without a PTY
	TTY          bool     // -t: a PTY even when stdin is no terminal
	NewMountProc bool     // --new-mount-proc
	AsEngine     bool     // --as-engine
	NS           string   // --ns LIST
	Dir          string   // -w, --workdir
	Env          []string // -e, --env KEY=VALUE, repeatable
	Target       string   // a boxtui name or a host PID
	Command      []string // after TARGET (and an optional --)
	// Config is the root's --config PATH: exec reads no setting, but a
	// file named must exist and parse, which the cobra command checks.
	Config string
}

// ErrHelp is returned by Parse for -h and --help.
var ErrHelp = errors.New("help requested")

// Parse reads the arguments after `exec`. Flags come before TARGET;
// everything after TARGET belongs to the command (`exec c ls -l`), with an
// optional -- in between.
func Parse(args []string) (Flags, error) {
	var f Flags
	for i := 0; i < len(args); i++ {
		arg := args[i]
		// value returns the flag's value: inline, or the next argument.
		value := func(name, inline string, hasInline bool) (string, error) {
			if hasInline {
				return inline, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("flag needs an argument: %s", name)
			}
			i++
			return args[i], nil
		}
		switch {
		case arg == "--":
			rest := args[i+1:]
			if f.Target == "" && len(rest) > 0 {
				f.Target, f.Command = rest[0], rest[1:]
			}
			return f, nil
		case strings.HasPrefix(arg, "--"):
			name, inline, hasInline := strings.Cut(arg[2:], "=")
			switch name {
			case "help":
				return f, ErrHelp
			case "interactive", "tty", "new-mount-proc", "as-engine":
				on := true
				if hasInline {
					switch inline {
					case "true", "1":
					case "false", "0":
						on = false
					default:
						return f, fmt.Errorf("invalid argument %q for --%s: want true or false", inline, name)
					}
				}
				switch name {
				case "interactive":
					f.Interactive = on
				case "tty":
					f.TTY = on
				case "as-engine":
					f.AsEngine = on
				default:
					f.NewMountProc = on
				}
			case "ns", "workdir", "env", "config":
				v, err := value("--"+name, inline, hasInline)
				if err != nil {
					return f, err
				}
				switch name {
				case "ns":
					f.NS = v
				case "workdir":
					f.Dir = v
				case "config":
					f.Config = v
				default:
					f.Env = append(f.Env, v)
				}
			default:
				return f, fmt.Errorf("unknown flag: --%s", name)
			}
		case len(arg) > 1 && arg[0] == '-':
			for j := 1; j < len(arg); j++ {
				switch c := arg[j]; c {
				case 'h':
					return f, ErrHelp
				case 'i':
					f.Interactive = true
				case 't':
					f.TTY = true
				case 'w', 'e':
					v, err := value("-"+string(c), arg[j+1:], j+1 < len(arg))
					if err != nil {
						return f, err
					}
					if c == 'w' {
						f.Dir = v
					} else {
						f.Env = append(f.Env, v)
					}
					j = len(arg)
				default:
					return f, fmt.Errorf("unknown shorthand flag: %q in %s", c, arg)
				}
			}
		default:
			f.Target = arg
			rest := args[i+1:]
			if len(rest) > 0 && rest[0] == "--" {
				rest = rest[1:]
			}
			f.Command = rest
			return f, nil
		}
	}
	return f, errors.New("no target given: name a container (boxtui's or its engine's, ORIGIN:NAME or an engine ID prefix; see `boxtui ls`) or give the host PID of a process in a container")
}

// Run enters the container and runs the command, wired to the given
// streams (the process's own in the CLI). A non-zero exit of the command
// comes back as *exitstatus.Error with its code (128+N for signal N).
func Run(f Flags, stdin io.Reader, stdout, stderr io.Writer) error {
	if err := privilege.RequireRoot("exec"); err != nil {
		return err
	}
	nss, err := enter.ParseNamespaces(f.NS)
	if err != nil {
		return err
	}
	c, err := discovery.FindInit(f.Target)
	if err != nil {
		return err
	}

	inFile, _ := stdin.(*os.File)
	stdinTTY := inFile != nil && IsTerminal(inFile)
	useTTY := f.TTY || stdinTTY
	opts := enter.Options{
		Command:      f.Command,
		Namespaces:   nss,
		NewMountProc: f.NewMountProc,
		AsEngine:     f.AsEngine,
		Dir:          f.Dir,
		Env:          f.Env,
		TTY:          useTTY,
	}
	if useTTY {
		if t := os.Getenv("TERM"); t != "" {
			opts.Env = append([]string{"TERM=" + t}, f.Env...)
		}
		opts.Rows, opts.Cols = TerminalSize(inFile, stdout)
	} else {
		opts.Stdout, opts.Stderr = stdout, stderr
		if f.Interactive {
			opts.Stdin = stdin
		}
	}

	// Catch the signals before starting, so none slips by unforwarded.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGWINCH)
	defer signal.Stop(sigs)

	p, err := enter.Start(c, opts)
	if err != nil {
		return err
	}
	return Relay(p, p.Master, stdin, stdout, f.Interactive, sigs)
}

func init() {
	if len(os.Args) < 2 || os.Args[1] != "exec" {
		return
	}
	f, err := Parse(os.Args[2:])
	if err != nil || f.Config != "" {
		return // help, a usage error or a config file to check: the cobra command does it
	}
	os.Exit(exitstatus.Report(Run(f, os.Stdin, os.Stdout, os.Stderr), os.Stderr))
}
