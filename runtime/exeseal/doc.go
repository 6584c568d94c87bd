// Package exeseal keeps a container from ever holding a writable handle on
// boxtui's binary (runc's CVE-2019-5736).
//
// Every process boxtui starts inside a container's PID namespace — the
// child of `boxtui exec` before it execs the command, a container's init
// before its exec, `exec --new-mount-proc`'s stage — is, for a moment, a
// copy of the boxtui process that forked it, so its /proc/PID/exe is
// boxtui's binary. A container process can open that link with O_PATH,
// keep the handle, and reopen it for writing once no boxtui runs; a
// `#!/proc/self/exe` script given as the command makes the kernel run
// boxtui's binary inside the container outright. Either way the host's
// binary, which root runs next, is the container's to change.
//
// The defence is runc's: the boxtui processes that start container
// processes run from a sealed copy of the binary, so every /proc/PID/exe a
// container can see is a file that cannot be written:
//
//  1. an overlay filesystem with two lower layers and no upper layer (the
//     binary's own directory and an empty tmpfs), made detached with
//     fsopen/fsmount, so it is in no mount table, and read-only at the
//     superblock, so no mount_setattr can make it writable; it costs
//     about 0.1 ms and copies nothing;
//  2. where overlayfs is missing or refuses the directory: a memfd copy of
//     the binary with F_SEAL_WRITE, F_SEAL_GROW, F_SEAL_SHRINK and
//     F_SEAL_SEAL (a few milliseconds for the copy).
//
// The process then re-executes itself from that file with execveat
// (AT_EMPTY_PATH), keeping its arguments and environment. Its children,
// which boxtui starts through /proc/self/exe, inherit the sealed file.
//
// Which processes seal: `boxtui exec`, `boxtui run`, `boxtui debug` and the
// UI (`boxtui` with no arguments) from a C constructor that runs before
// every other one (seal.c, priority 101), so the C fast paths of exec and
// run fork from the sealed copy; the same rule in Go (this package's init,
// for builds without cgo) and EnsureSealed, which the cobra commands call
// for the forms the rule cannot see (`boxtui --config F exec ...`, the UI
// with flags). Commands that never start a process inside a container
// (ls, ps, mount, kill, attach, ...) do not pay for it.
//
// A binary already on a read-only mount, or already a write-sealed memfd,
// counts as sealed. BOXTUI_EXESEAL=0 turns the protection off (the
// benchmark uses it to measure the cost); if no sealed copy can be made,
// the command fails with the reason rather than run unprotected.
//
// This package must import only the standard library and x/sys: packages
// that run whole commands from their init (runtime/launch/stage0,
// runtime/enter/execcmd) import it so that it initialises first.
package exeseal
