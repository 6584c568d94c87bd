// Package events keeps each container's history: started, exited, killed,
// exec shells opened and closed, mounts added, flipped and removed, a lost
// holder. A history is a bounded file of JSON lines, keyed by the boxtui
// name or, for other containers, by PID namespace and init start time
// (Key). fastexec.c writes the same lines byte for byte.
package events
