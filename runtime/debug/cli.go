package debug

import (
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"boxtui/runtime/actionlog"
	"boxtui/runtime/discovery"
	"boxtui/runtime/enter/execcmd"
	"boxtui/runtime/privilege"
)

// Flags are the parsed arguments of `boxtui debug`.
type Flags struct {
	Tools       string   // --tools DIR
	ReadOnly    bool     // --ro
	Interactive bool     // -i: pass stdin without a PTY
	TTY         bool     // -t: a PTY even when stdin is no terminal
	Dir         string   // -w
	Env         []string // -e KEY=VALUE
	Target      string
	Command     []string
}

// Run is `boxtui debug`: it starts the shell or command wired to the given
// streams, a PTY when stdin is a terminal (or with -t), and passes the
// command's exit code back as *exitstatus.Error (128+N for signal N), as
// `boxtui exec` does.
func Run(f Flags, stdin io.Reader, stdout, stderr io.Writer) error {
	if err := privilege.RequireRoot("debug"); err != nil {
		return err
	}
	// Checked before the scan, so a missing toolbox is the first thing said.
	if _, err := ToolsDir(f.Tools); err != nil {
		return err
	}
	c, err := discovery.FindInit(f.Target)
	if err != nil {
		return err
	}
	inFile, _ := stdin.(*os.File)
	stdinTTY := inFile != nil && execcmd.IsTerminal(inFile)
	useTTY := f.TTY || stdinTTY
	opts := Options{Tools: f.Tools, ReadOnly: f.ReadOnly, Command: f.Command, Dir: f.Dir, Env: f.Env, TTY: useTTY}
	if useTTY {
		if t := os.Getenv("TERM"); t != "" {
			opts.Env = append([]string{"TERM=" + t}, f.Env...)
		}
		opts.Rows, opts.Cols = execcmd.TerminalSize(inFile, stdout)
	} else {
		opts.Stdout, opts.Stderr = stdout, stderr
		if f.Interactive {
			opts.Stdin = stdin
		}
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGWINCH)
	defer signal.Stop(sigs)

	what := c.Target() + " shell"
	if len(f.Command) > 0 {
		what = c.Target() + " " + strings.Join(f.Command, " ")
	}
	p, err := Start(c, opts)
	if err := actionlog.Logged("debug", what, err); err != nil {
		return err
	}
	return execcmd.Relay(p, p.Master, stdin, stdout, f.Interactive, sigs)
}
