package main

import (
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"boxtui/runtime"
	"boxtui/runtime/enter"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
)

// execFlags are the options of `boxtui exec`.
type execFlags struct {
	interactive, tty, newMountProc bool
	ns, dir                        string
	env                            []string
}

func init() {
	var f execFlags
	cmd := &cobra.Command{
		Use:   "exec [-i] [-t] [--ns LIST] [--new-mount-proc] [-w DIR] [-e K=V]... TARGET [-- COMMAND [ARGS...]]",
		Short: "Run a command inside a running container, with nsenter semantics",
		Long: `Run a command inside a running container: TARGET is a boxtui container name or
the host PID of any process inside a container (made by boxtui, unshare,
docker, podman...). The command joins every namespace of the container's init
that differs from boxtui's own, its root and its working directory, like
` + "`nsenter -t PID -a -r -w`" + `, and is a member of the container's PID namespace.
Without a command it runs the container's /bin/bash, else /bin/sh. --ns
limits which namespaces are joined; the root is always the container's.

--new-mount-proc reproduces the classic recipe
` + "`nsenter --pid=/proc/PID/ns/pid unshare --fork --mount-proc=ROOT/proc chroot ROOT`" + `:
join only the PID namespace, get a mount namespace of its own with a fresh
/proc, and chroot into the container's root.

A PTY is used with -t or when stdin is a terminal; the exit code (or 128+signal)
of the command is boxtui's. Containers with their own user or time namespace
cannot be entered (the kernel refuses it to multithreaded programs).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			argv := args[1:]
			if len(argv) > 0 && argv[0] == "--" {
				argv = argv[1:]
			}
			return runExec(cmd, f, args[0], argv)
		},
	}
	// Everything after TARGET belongs to the command: `exec c ls -l`.
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().BoolVarP(&f.interactive, "interactive", "i", false, "keep stdin open and pass it to the command (without a PTY)")
	cmd.Flags().BoolVarP(&f.tty, "tty", "t", false, "run the command on a PTY even when stdin is not a terminal")
	cmd.Flags().StringVar(&f.ns, "ns", "", "namespaces to join, comma-separated: cgroup,ipc,mnt,net,pid,uts (default: all that differ)")
	cmd.Flags().BoolVar(&f.newMountProc, "new-mount-proc", false, "join only the pid namespace, with an own mount namespace and a fresh /proc")
	cmd.Flags().StringVarP(&f.dir, "workdir", "w", "", "working directory inside the container (default: the init's)")
	cmd.Flags().StringArrayVarP(&f.env, "env", "e", nil, "set an environment variable (KEY=VALUE), may repeat")
	rootCmd.AddCommand(cmd)
}

func runExec(cmd *cobra.Command, f execFlags, target string, argv []string) error {
	if err := runtime.RequireRoot("exec"); err != nil {
		return err
	}
	nss, err := enter.ParseNamespaces(f.ns)
	if err != nil {
		return err
	}
	c, err := enter.FindContainer(target)
	if err != nil {
		return err
	}

	stdin := cmd.InOrStdin()
	stdout := cmd.OutOrStdout()
	inFile, _ := stdin.(*os.File)
	stdinTTY := inFile != nil && term.IsTerminal(inFile.Fd())
	useTTY := f.tty || stdinTTY
	opts := enter.Options{
		Command:      argv,
		Namespaces:   nss,
		NewMountProc: f.newMountProc,
		Dir:          f.dir,
		Env:          f.env,
		TTY:          useTTY,
	}
	if useTTY {
		if t := os.Getenv("TERM"); t != "" {
			opts.Env = append([]string{"TERM=" + t}, f.env...)
		}
		opts.Cols, opts.Rows = termSize(inFile, stdout)
	} else {
		opts.Stdout, opts.Stderr = stdout, cmd.ErrOrStderr()
		if f.interactive {
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
	var outDone chan struct{}
	if useTTY {
		if stdinTTY {
			if state, err := term.MakeRaw(inFile.Fd()); err == nil {
				defer term.Restore(inFile.Fd(), state)
			}
		}
		if stdinTTY || f.interactive {
			go io.Copy(p.Master, stdin)
		}
		outDone = make(chan struct{})
		go func() {
			io.Copy(stdout, p.Master) // ends with EIO once the command is gone
			close(outDone)
		}()
	}
	for waiting := true; waiting; {
		select {
		case <-p.Done():
			waiting = false
		case sig := <-sigs:
			if sig == syscall.SIGWINCH {
				if useTTY {
					cols, rows := termSize(inFile, stdout)
					p.Resize(rows, cols)
				}
				continue
			}
			p.Signal(sig)
		}
	}
	status, err := p.Wait()
	if useTTY {
		// The output the command wrote is already in the PTY; a process it
		// left in the background may hold the slave open, so do not wait
		// for EOF forever.
		select {
		case <-outDone:
		case <-time.After(time.Second):
		}
		p.Master.Close()
	}
	if err != nil {
		return err
	}
	if code := status.ShellCode(); code != 0 {
		return &runtime.ExitError{Code: code}
	}
	return nil
}

// termSize returns the window size of the local terminal (stdin's, else
// stdout's), or 80x24 when there is none.
func termSize(in *os.File, out io.Writer) (cols, rows uint16) {
	files := []*os.File{in}
	if f, ok := out.(*os.File); ok {
		files = append(files, f)
	}
	for _, f := range files {
		if f == nil || !term.IsTerminal(f.Fd()) {
			continue
		}
		if w, h, err := term.GetSize(f.Fd()); err == nil && w > 0 && h > 0 {
			return uint16(w), uint16(h)
		}
	}
	return 80, 24
}
