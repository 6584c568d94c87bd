// Package fastexec serves the common `boxtui exec PID|NAME -- CMD` before the Go
// runtime starts, from a C constructor (fastexec.c), the way runc's nsexec
// runs before its Go code. Starting a Go binary costs more here than
// nsenter's whole run; this path costs about what nsenter does.
//
// It serves only the plain case: a host PID or a running boxtui container's
// name as target (its state read for the init's PID and start time; a host
// PID enters that process, and its PID namespace's init, found by its
// parents or else among /proc, keys the history), stdin
// not a terminal,
// no --ns, --new-mount-proc or -t, root, and a container whose history file
// already exists. Everything else, and any doubt, returns from the
// constructor before any side effect, and the Go code (package execcmd over
// package enter) runs as if this package were not there. Both paths print
// the same errors, record the same events and return the same exit codes;
// tests run each case both ways (BOXTUI_FASTEXEC=0 turns the fast path off,
// BOXTUI_FASTEXEC=require makes declining an error, exit 125).
//
// Without cgo (CGO_ENABLED=0) the package is empty and every exec takes
// the Go path.
package fastexec
