package main

import (
	"fmt"
	"strconv"
	"time"

	"boxtui/runtime/discovery"
	"boxtui/runtime/launch"
	"boxtui/runtime/privilege"
	"boxtui/runtime/signals"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

func init() {
	var (
		sigName string
		grace   float64
		inner   int
	)
	kill := &cobra.Command{
		Use:   "kill [-s SIGNAL] [--time SECONDS] [--pid N] TARGET",
		Short: "Stop a container (its stop signal, then SIGKILL), or signal one of its processes",
		Long: `Stop a container: its stop signal to the init, then SIGKILL after the grace
time, which takes every process of the container with it. The stop signal is
SIGTERM, or SIGRTMIN+3 for a systemd init (systemd's own: it halts cleanly).
The kernel drops a signal to a container's init unless the init catches it
(a handler) or blocks it (to read it with signalfd or sigwaitinfo, as systemd
does), so an init that does neither (a shell, sleep) gets SIGKILL at once.
kill prints which signal it sent and why. With -s, send just that signal to
the init. With --pid N, signal the process whose PID inside the container is
N (default SIGTERM).

TARGET is a container's name (boxtui's
or its engine's; ORIGIN:NAME; an engine ID prefix) or the host PID of any process in any
container (docker, podman, unshare...). Processes are signalled through
pidfds after re-checking their start time, so a recycled PID is never hit.`,
		Example: `  sudo boxtui kill web
  sudo boxtui kill -s HUP web
  sudo boxtui kill --pid 6 web`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := privilege.RequireRoot("kill"); err != nil {
				return err
			}
			var sig unix.Signal
			if cmd.Flags().Changed("signal") {
				var err error
				if sig, err = signals.Parse(sigName); err != nil {
					return err
				}
			}
			if grace < 0 {
				return fmt.Errorf("invalid --time %v: the grace time cannot be negative", grace)
			}
			c, err := discovery.FindContainer(args[0])
			if err != nil {
				return err
			}
			switch {
			case cmd.Flags().Changed("pid"):
				if sig == 0 {
					sig = unix.SIGTERM
				}
				return logged("signal", c.Target()+" pid "+strconv.Itoa(inner)+" "+unix.SignalName(sig), launch.SignalProcess(c, inner, sig))
			case sig != 0:
				name := "SIG" + signals.Name(sig)
				if err := logged("signal", c.Target()+" "+name, launch.SignalInit(c, sig)); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: sent %s (asked for)\n", c.Target(), name)
				return nil
			}
			res, err := launch.StopReport(c, time.Duration(grace*float64(time.Second)))
			if err := logged("stop", c.Target(), err); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", c.Target(), res)
			return nil
		},
	}
	kill.Flags().StringVarP(&sigName, "signal", "s", "", "send just this signal (TERM, KILL, HUP, RTMIN+3, 9...)")
	kill.Flags().Float64VarP(&grace, "time", "t", launch.DefaultGrace.Seconds(), "seconds between the stop signal and SIGKILL")
	kill.Flags().IntVar(&inner, "pid", 0, "signal the process with this PID inside the container")
	rootCmd.AddCommand(kill)
}
