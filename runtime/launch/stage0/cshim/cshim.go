//go:build cgo

// Package cshim exposes the C of package stage0 to Go tests: initstage.c,
// zygote.c and closefds.c (links to the very files the binary is built
// from) compiled with their test hooks (BOXTUI_TEST_HOOKS), which no
// boxtui binary has. Its tests compare the C parsers and encoders with the
// Go ones on the same inputs, and fuzz them.
//
// The files' constructors (here a second copy of
// each, beside package stage0's) act only when argv[1] is "__boxtui-init" or
// "__boxtui-holder": a test binary's own arguments (-test.*) never are.
package cshim

// The tests link package stage0 too, with the same C: the shim's copies of
// its global symbols get names of their own (the -D flags below).

// #cgo CFLAGS: -O2 -Wall -Wextra -Wno-unused-parameter -DBOXTUI_TEST_HOOKS
// #cgo CFLAGS: -Dboxtui_close_fds=shim_close_fds -Dboxtui_is_pipe=shim_is_pipe -Dboxtui_run_init=shim_run_init
// #cgo CFLAGS: -Dboxtui_zygote_start=shim_zygote_start -Dboxtui_zygote_pid=shim_zygote_pid
// #cgo CFLAGS: -Dboxtui_zygote_reply=shim_zygote_reply -Dboxtui_zygote_master=shim_zygote_master
// #cgo CFLAGS: -Dboxtui_zygote_ready=shim_zygote_ready
// #include <stdlib.h>
// const char *boxtui_shim_quote(char *buf, size_t size, const char *s);
// int boxtui_shim_parse_block(const char *msg, size_t len, char **out, size_t *outlen);
// int boxtui_shim_open_in_root(int rootfd, const char *name, int eagains);
// int boxtui_shim_close_fds_in_child(int from, const int *keep, int n, int out);
// long boxtui_shim_init_args(int argc, char **argv);
import "C"

import (
	"strings"
	"unsafe"
)

// Quote is initstage.c's quoting of s (which must hold no NUL).
func Quote(s string) string {
	cs := C.CString(s)
	defer C.free(unsafe.Pointer(cs))
	size := 4*len(s) + 3
	buf := (*C.char)(C.malloc(C.size_t(size)))
	defer C.free(unsafe.Pointer(buf))
	return C.GoString(C.boxtui_shim_quote(buf, C.size_t(size), cs))
}

// ParseBlock is zygote.c's parse_block of the config msg: its fields (flags,
// rows, cols, rootfs, hostname, nenv, env..., command...), or ok false
// when it refuses the block.
func ParseBlock(msg []byte) (fields []string, ok bool) {
	var cmsg *C.char
	if len(msg) > 0 {
		cmsg = (*C.char)(C.CBytes(msg))
		defer C.free(unsafe.Pointer(cmsg))
	}
	var out *C.char
	var n C.size_t
	if C.boxtui_shim_parse_block(cmsg, C.size_t(len(msg)), &out, &n) != 0 {
		return nil, false
	}
	defer C.free(unsafe.Pointer(out))
	s := C.GoStringN(out, C.int(n))
	return strings.Split(strings.TrimSuffix(s, "\x00"), "\x00"), true
}

// OpenInRoot is open_dir_in_root's openat2 after eagains EAGAINs: the fd,
// or -errno.
func OpenInRoot(rootfd int, name string, eagains int) int {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	return int(C.boxtui_shim_open_in_root(C.int(rootfd), cs, C.int(eagains)))
}

// CloseFDsInChild runs boxtui_close_fds(from, keep) in a forked child,
// which writes the fds it has left to out: the child's exit status.
func CloseFDsInChild(from int, keep []int, out int) int {
	ck := make([]C.int, len(keep)+1)
	for i, k := range keep {
		ck[i] = C.int(k)
	}
	return int(C.boxtui_shim_close_fds_in_child(C.int(from), &ck[0], C.int(len(keep)), C.int(out)))
}

// InitArgs is initstage.c's check of the init's argv (InitArgs's form):
// its NENV, or -1 when the C init leaves the argv to init.go (which
// refuses it).
func InitArgs(args []string) int {
	argv := make([]*C.char, len(args)+1)
	for i, a := range args {
		argv[i] = C.CString(a)
	}
	defer func() {
		for _, a := range argv[:len(args)] {
			C.free(unsafe.Pointer(a))
		}
	}()
	return int(C.boxtui_shim_init_args(C.int(len(args)), &argv[0]))
}
