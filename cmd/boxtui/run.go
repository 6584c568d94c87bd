package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"boxtui/runtime/exitstatus"
	"boxtui/runtime/launch"
	"boxtui/runtime/mounts"
	"boxtui/runtime/privilege"

	"github.com/charmbracelet/x/term"

	"github.com/spf13/cobra"
)

const detachHelp = `Detach with ctrl+p ctrl+q: the container keeps running, and
` + "`boxtui attach NAME`" + ` brings its console back.`

func init() {
	var (
		opts    launch.Options
		detach  bool
		volumes []string
	)
	run := &cobra.Command{
		Use:   "run [flags] [-- CMD ARGS...]",
		Short: "Launch a container: the command as PID 1 in new namespaces, chrooted into a rootfs",
		Long: `Launch a container: new PID, mount, UTS and IPC namespaces (--net adds a
network namespace), a fresh /proc and a minimal /dev, root changed to the
rootfs, and the command (default /bin/bash, else /bin/sh) as PID 1.

The container outlives this command: a small holder process owns its
console. In a terminal, run attaches to it. ` + detachHelp + `
With -d it prints the name and returns. Without a terminal (and without -d)
stdin and stdout are passed through and run exits with the command's exit
code; stderr arrives on stdout, as on any console.`,
		Example: `  sudo boxtui rootfs create
  sudo boxtui run --name web -- /bin/sh
  sudo boxtui run -d --rm -v /srv/data:/data:ro -- /bin/sleep 1000
  sudo boxtui run -- /bin/sh -c 'echo $$'     # prints 1`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := privilege.RequireRoot("run"); err != nil {
				return err
			}
			opts.Command = args
			if opts.Rootfs == "" {
				cfg, err := loadedConfig()
				if err != nil {
					return err
				}
				opts.Rootfs = cfg.Rootfs // "" still means launch's default
			}
			opts.Mounts, opts.Prepare = nil, nil
			for _, v := range volumes {
				m, err := mounts.ParseVolume(v)
				if err != nil {
					return err
				}
				if _, err := os.Stat(m.Source); err != nil {
					return fmt.Errorf("invalid volume %q: host path %s: %w", v, m.Source, errors.Unwrap(err))
				}
				opts.Mounts = append(opts.Mounts, m)
			}
			if len(opts.Mounts) > 0 {
				opts.Prepare = mounts.AtLaunch(opts.Mounts)
			}
			return runContainer(cmd, opts, detach)
		},
	}
	f := run.Flags()
	f.StringVar(&opts.Name, "name", "", "container name (default: a generated one)")
	f.StringVar(&opts.Rootfs, "rootfs", "", "root directory of the container (default "+launch.DefaultRootfs+")")
	f.StringVar(&opts.Hostname, "hostname", "", "hostname inside (default: the name)")
	f.BoolVar(&opts.Net, "net", false, "give the container its own, empty network namespace")
	f.BoolVarP(&detach, "detach", "d", false, "run in the background and print the name")
	f.BoolVar(&opts.Remove, "rm", false, "remove the container's state when it exits")
	f.StringArrayVarP(&volumes, "volume", "v", nil, "bind mount HOST:CTR[:ro] (repeatable)")
	f.StringArrayVarP(&opts.Env, "env", "e", nil, "set KEY=VALUE in the command's environment (repeatable)")
	rootCmd.AddCommand(run)
}

func runContainer(cmd *cobra.Command, opts launch.Options, detach bool) error {
	interactive := !detach && term.IsTerminal(os.Stdin.Fd()) && term.IsTerminal(os.Stdout.Fd())
	if interactive {
		if s, err := terminalSize(); err == nil {
			opts.Rows, opts.Cols = s.Rows, s.Cols
		}
	} else if !detach {
		opts.Raw = true
	}
	opts.Console = !detach
	c, err := launch.Run(opts)
	if err := logged("launch", launchTarget(opts, c), err); err != nil {
		return err
	}
	if detach {
		fmt.Fprintln(cmd.OutOrStdout(), c.Name)
		return nil
	}
	defer c.Console.Close()
	if interactive {
		// A screen client: a terminal slower than the console is skipped
		// ahead, never waited for. Nothing to redraw: it saw it all.
		c.Console.Screen(opts.Rows, opts.Cols, false, nil)
		return attachTerminal(cmd, c.Console)
	}
	st, err := launch.AttachConsole(c.Console, os.Stdin, cmd.OutOrStdout(), nil, launch.AttachOptions{DetachKeys: []byte{}, SendEOF: true})
	return exitResult(c.Name, st, err)
}

// attachTerminal relays the console to this terminal in raw mode, with the
// window size following SIGWINCH, until the container exits or the user
// detaches.
func attachTerminal(cmd *cobra.Command, con *launch.Console) error {
	state, err := term.MakeRaw(os.Stdin.Fd())
	if err != nil {
		return fmt.Errorf("put the terminal in raw mode: %w", err)
	}
	restore := func() error { return term.Restore(os.Stdin.Fd(), state) }
	resize := make(chan launch.Size, 1)
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	defer signal.Stop(winch)
	if s, err := terminalSize(); err == nil {
		resize <- s
	}
	go func() {
		for range winch {
			if s, err := terminalSize(); err == nil {
				// Only the latest size matters: replace a pending one.
				select {
				case <-resize:
				default:
				}
				resize <- s
			}
		}
	}()
	st, err := launch.AttachConsole(con, os.Stdin, os.Stdout, resize, launch.AttachOptions{})
	restore()
	if errors.Is(err, launch.ErrDetached) {
		fmt.Fprintf(cmd.ErrOrStderr(), "\r\ndetached from %s; `boxtui attach %s` to come back\n", con.Name(), con.Name())
		return nil
	}
	return exitResult(con.Name(), st, err)
}

// exitResult turns how an attached container ended into boxtui's result:
// its exit code passes through.
func exitResult(name string, st *launch.ExitStatus, err error) error {
	if errors.Is(err, syscall.EPIPE) {
		// Whoever read our output stopped (`| head`): end quietly, as a
		// process killed by SIGPIPE would, which is what happens to a
		// client that does not ignore it. The container runs on.
		return &exitstatus.Error{Code: 128 + int(syscall.SIGPIPE)}
	}
	if err != nil {
		if errors.Is(err, launch.ErrConsoleLost) {
			return fmt.Errorf("container %s: %w (it may still run: `boxtui ls`)", name, err)
		}
		return err
	}
	if st.Code != 0 {
		return &exitstatus.Error{Code: st.Code}
	}
	return nil
}

var _ io.Reader = (*launch.Console)(nil)

// terminalSize is the size of the terminal on stdout.
func terminalSize() (launch.Size, error) {
	cols, rows, err := term.GetSize(os.Stdout.Fd())
	if err != nil {
		return launch.Size{}, fmt.Errorf("read terminal size: %w", err)
	}
	return launch.Size{Rows: rows, Cols: cols}, nil
}
