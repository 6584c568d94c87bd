package main

import (
	"boxtui/runtime/actionlog"
	"boxtui/runtime/launch"
)

// logged records a privileged action in the action log
// (/var/log/boxtui/actions.log, see docs/config.md) and passes err on.
// Only actions that were attempted are logged, not refused command lines.
var logged = actionlog.Logged

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
