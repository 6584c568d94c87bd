//go:build cgo

package exeseal

// seal.c's constructor seals the process before the Go runtime starts;
// linking this file in is what puts it in the binary. The wrappers below
// let the tests hold the C rule and check to their Go twins.

// #cgo CFLAGS: -O2 -Wall -Wextra -Wno-unused-parameter
// #include <stdlib.h>
// int boxtui_needs_seal(int argc, char **argv);
// int boxtui_exe_sealed(int fd);
import "C"

import "unsafe"

func cNeedsSeal(args []string) bool {
	argv := make([]*C.char, len(args)+1)
	for i, a := range args {
		argv[i] = C.CString(a)
		defer C.free(unsafe.Pointer(argv[i]))
	}
	return C.boxtui_needs_seal(C.int(len(args)), &argv[0]) != 0
}

func cExeSealed(fd int) bool { return C.boxtui_exe_sealed(C.int(fd)) != 0 }
