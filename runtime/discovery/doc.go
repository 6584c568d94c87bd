// Package runtime is boxtui's engine: it discovers containers from /proc,
// launches and holds them, enters their namespaces, signals their processes
// and changes their mounts.
//
// It is the only package (with pty) that makes system calls. It must never
// import bubbletea, lipgloss or anything else of the UI: the CLI, the UI and
// the tests all drive the same functions here.
//
// Parsers (status, stat, namespace links, cgroup, state files) take an
// io.Reader or a string and are tested without root on captured samples; the
// code that opens /proc is kept apart from them.
package discovery
