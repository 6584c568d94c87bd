// Package procfs reads processes from /proc: the stat, status and cmdline
// parsers (tested without root on captured samples), start times, the
// getdents listing of /proc, boot time, and OpenPidfd, the one way boxtui
// holds a process it saw in a scan and checks it is still that process.
package procfs
