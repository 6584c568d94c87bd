//go:build cgo

// Package capply links asengine.c, the C that applies an engine profile
// (package runtime/asengine) in the exec stage just before it execs, into
// the binary. Its functions are called from the stage's C, never from Go;
// tests reach them through package cshim.
package capply

// #cgo CFLAGS: -O2 -Wall -Wextra -Wno-unused-parameter -I${SRCDIR}/../../enter/stage
import "C"
