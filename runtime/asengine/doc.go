// Package asengine reads a container process's "engine profile" from the
// host, for `boxtui exec --as-engine`: what an engine's own exec (docker
// exec, podman exec) would give a new process in that container besides
// its namespaces, and what the default exec (nsenter semantics) leaves
// out:
//
//   - the capability sets (CapInh, CapPrm, CapEff, CapBnd, CapAmb of
//     /proc/PID/status) and no_new_privs;
//   - the seccomp mode and, in filter mode, the filters themselves, read
//     with PTRACE_SECCOMP_GET_FILTER (see seccomp.go: the only way the
//     kernel gives them out, and what it costs the target);
//   - the real, effective, saved and filesystem uid and gid and the
//     supplementary groups, and the target's uid and gid maps to turn
//     them into the IDs of its user namespace;
//   - the environment the process was started with (/proc/PID/environ,
//     size-bound);
//   - its resource limits (/proc/PID/limits);
//   - its cgroup in every hierarchy (/proc/PID/cgroup: cgroup v1, hybrid
//     and v2), resolved beneath the host's own cgroup mounts.
//
// Everything a container controls is hostile input here: its environment
// block, its cgroup names, its willingness to be traced. Files of the
// target are read through one /proc/PID directory fd opened before its
// start time is checked, so a recycled PID is never read. The C side that
// applies a profile in the exec stage is package capply.
//
// The package imports only the standard library, x/sys and boxtui's
// internal/openat2, so that the exec path (runtime/enter/execcmd) may use
// it without initialising late (docs/architecture.md).
package asengine
