// Package enter starts a process inside a running container with nsenter
// semantics: it joins the namespaces of the process entered (the one a host
// PID names, as nsenter -t PID; for a name, the container's init), chroots
// into its root and changes into its working directory, then starts the command,
// which lands in the container's PID namespace. It is the engine behind
// `boxtui exec` and the UI's second shell: Start hands back a running
// Process, on a PTY the caller owns when asked for one.
//
// Every handle (namespace fds, the root, the PTY pair, boxtui's own
// executable for the --new-mount-proc stage) is opened from the host before
// anything is joined, so nothing is looked up by path half inside. Joined
// processes are always reaped: Start launches the wait itself, so a caller
// that forgets Wait never keeps a container's init from finishing its exit.
//
// The kernel lets only single-threaded processes join user and time
// namespaces, and a Go program never is one. So Start joins nothing itself
// but the PID namespace (for its child): it starts the C enter stage
// (package stage), its own sealed binary, which joins the rest, user and
// time included, takes the root and working directory, becomes root inside
// a user namespace it joined (as nsenter -U) and executes the command in
// place. A binary without cgo has no stage: it joins on a Go thread and
// refuses user and time namespaces (nsjoin.ErrUserNamespace,
// nsjoin.ErrTimeNamespace); BOXTUI_ENTER_STAGE=go takes that path too.
//
// The package must never import anything of the UI.
package enter
