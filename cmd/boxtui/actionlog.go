package main

import (
	"strconv"

	"boxtui/runtime"
	"boxtui/runtime/actionlog"
	"boxtui/runtime/launch"
)

// logged records a privileged action in the action log
// (/var/log/boxtui/actions.log, see docs/config.md) and passes err on, so a
// call site stays one line: return logged("kill", target, launch.Stop(c, g)).
// Only actions that were attempted are logged, not refused command lines.
func logged(action, target string, err error) error {
	actionlog.Record(action, target, err)
	return err
}

// containerTarget names a container in the log: its boxtui name, else its
// init's host PID, since other tools' containers have no name.
func containerTarget(c runtime.Container) string {
	if c.Name != "" {
		return c.Name
	}
	return "pid:" + strconv.Itoa(c.PID)
}

// launchTarget names a launch in the log: the container's name when it
// started, else the name asked for and the rootfs.
func launchTarget(opts launch.Options, c *launch.Container) string {
	if c != nil && c.Name != "" {
		return c.Name
	}
	name := opts.Name
	if name == "" {
		name = "(unnamed)"
	}
	return name + " rootfs " + opts.Rootfs
}

func roOrRW(readOnly bool) string {
	if readOnly {
		return "ro"
	}
	return "rw"
}
