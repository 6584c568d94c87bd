// Package exitstatus turns errors into boxtui's exit codes: a command's
// own status passed through, 127 for a command not found in a container
// (as a shell, nsenter and docker exec say it), else the error printed as
// one escaped line and 1.
package exitstatus
