// Package stage is the enter stage: `boxtui __boxtui-enter`, a C
// constructor (enterstage.c) that joins a container's namespaces — the
// user and time namespaces too, which the kernel lets only a
// single-threaded process join — takes its root and working directory and
// executes the command in place, before the Go runtime starts. Every exec
// that package enter starts from Go goes through it; the fast path
// (package fastexec) shares its joining code (join.h).
//
// Go's side is the config block (Config.Encode): tagged, length-prefixed
// records, with room for a profile's own records (tags from ProfileFirst),
// which the C side hands to boxtui_stage_profile_record (stage.h).
//
// Without cgo the package has no stage (Available is false) and package
// enter joins on a Go thread, which cannot join user or time namespaces.
package stage
