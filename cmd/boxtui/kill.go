package main

import (
	"fmt"
	"strconv"
	"time"

	"boxtui/runtime"
	"boxtui/runtime/launch"

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
		Short: "Stop a container (SIGTERM, then SIGKILL), or signal one of its processes",
		Long: `Stop a container: SIGTERM to its init, then SIGKILL after the grace time,
which takes every process of the container with it. An init without a
SIGTERM handler (a shell, sleep) gets SIGKILL at once: the kernel would drop
the SIGTERM. With -s, send just that signal to the init. With --pid N, signal
the process whose PID inside the container is N (default SIGTERM).

TARGET is a boxtui container name or the host PID of any process in any
container (docker, podman, unshare...). Processes are signalled through
pidfds after re-checking their start time, so a recycled PID is never hit.`,
		Example: `  sudo boxtui kill web
  sudo boxtui kill -s HUP web
  sudo boxtui kill --pid 6 web`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := runtime.RequireRoot("kill"); err != nil {
				return err
			}
			var sig unix.Signal
			if cmd.Flags().Changed("signal") {
				var err error
				if sig, err = runtime.ParseSignal(sigName); err != nil {
					return err
				}
			}
			if grace < 0 {
				return fmt.Errorf("invalid --time %v: the grace time cannot be negative", grace)
			}
			c, err := runtime.FindContainer(args[0])
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
				return logged("signal", c.Target()+" "+unix.SignalName(sig), launch.SignalInit(c, sig))
			}
			return logged("stop", c.Target(), launch.Stop(c, time.Duration(grace*float64(time.Second))))
		},
	}
	kill.Flags().StringVarP(&sigName, "signal", "s", "", "send just this signal (TERM, KILL, HUP, 9...)")
	kill.Flags().Float64VarP(&grace, "time", "t", launch.DefaultGrace.Seconds(), "seconds between SIGTERM and SIGKILL")
	kill.Flags().IntVar(&inner, "pid", 0, "signal the process with this PID inside the container")
	rootCmd.AddCommand(kill)
}
