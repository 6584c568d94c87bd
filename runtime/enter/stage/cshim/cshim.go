//go:build cgo

// Package cshim exposes the C of package stage to Go tests: bx_parse of
// enterstage.c (linked in through package stage, as in the binary) and a
// test profile (profile.c) whose hooks override the stage's weak ones, as
// a profile package's do; no boxtui binary has it. Its tests compare the C
// parser with Go's encoder, fuzz it, and run this package's test binary as
// the stage to drive the hooks.
//
// The constructor in enterstage.c acts only when argv is exactly
// [anything, "__boxtui-enter"]: a test binary's own arguments never are.
package cshim

// #cgo CFLAGS: -O2 -Wall -Wextra -Wno-unused-parameter -I${SRCDIR}/..
// #include <stdlib.h>
// #include "stage.h"
// const char *bx_parse(const unsigned char *b, size_t n, struct bx_stage *s);
import "C"

import (
	"fmt"
	"strings"
	"unsafe"

	// The stage itself (enterstage.c), with its weak hooks.
	_ "boxtui/runtime/enter/stage"
)

// Parse is bx_parse of block, described as text (fds, flags, strings and
// flags in a fixed order), or the C parser's refusal.
func Parse(block []byte) (string, error) {
	p := C.malloc(C.size_t(len(block) + 1))
	defer C.free(p)
	buf := unsafe.Slice((*byte)(p), len(block)+1)
	copy(buf, block)
	var s C.struct_bx_stage
	bad := C.bx_parse((*C.uchar)(p), C.size_t(len(block)), &s)
	defer C.free(unsafe.Pointer(s.env))
	defer C.free(unsafe.Pointer(s.argv))
	if bad != nil {
		return "", fmt.Errorf("%s", C.GoString(bad))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "target=%d\n", int(s.target))
	for i := 0; i < int(s.nns); i++ {
		fmt.Fprintf(&b, "ns=%d,%#x,%s\n", int(s.ns[i].fd), int(s.ns[i].flag), C.GoString(s.ns[i].name))
	}
	fmt.Fprintf(&b, "root=%d cwd=%d\n", int(s.rootfd), int(s.cwdfd))
	if s.dir != nil {
		fmt.Fprintf(&b, "dir=%q\n", C.GoString(s.dir))
	}
	env := unsafe.Slice(s.env, int(s.nenv))
	for _, e := range env {
		fmt.Fprintf(&b, "env=%q\n", C.GoString(e))
	}
	argv := unsafe.Slice(s.argv, int(s.nargv))
	for _, a := range argv {
		fmt.Fprintf(&b, "arg=%q\n", C.GoString(a))
	}
	if s.setid != 0 {
		fmt.Fprintf(&b, "setid=%d,%d\n", uint32(s.uid), uint32(s.gid))
	}
	if s.mountproc != 0 {
		b.WriteString("mountproc\n")
	}
	return b.String(), nil
}
