//go:build cgo

// Package cshim exposes containerenv.h, the C copy of package containerenv
// that the C stages include, to Go tests: they hold it equal to the Go
// copy (the PATH string, the lookup on the same trees, fuzzed).
package cshim

// #cgo CFLAGS: -O2 -Wall -Wextra -Wno-unused-parameter
// #include <stdlib.h>
// const char *boxtui_shim_container_path(void);
// const char *boxtui_shim_look_path(const char *name, const char *path, char *resolved, size_t size);
// const char *boxtui_shim_shell(void);
import "C"

import "unsafe"

// ContainerPath is BX_CONTAINER_PATH.
func ContainerPath() string { return C.GoString(C.boxtui_shim_container_path()) }

// LookPath is bx_look_path of name in pathList, with a buffer of PATH_MAX
// bytes as the stages give it (neither may hold a NUL).
func LookPath(name, pathList string) (string, bool) {
	cn, cp := C.CString(name), C.CString(pathList)
	defer C.free(unsafe.Pointer(cn))
	defer C.free(unsafe.Pointer(cp))
	buf := (*C.char)(C.malloc(4096))
	defer C.free(unsafe.Pointer(buf))
	r := C.boxtui_shim_look_path(cn, cp, buf, 4096)
	if r == nil {
		return "", false
	}
	return C.GoString(r), true
}

// Shell is bx_shell: the host's, as the test process sees it.
func Shell() (string, bool) {
	r := C.boxtui_shim_shell()
	if r == nil {
		return "", false
	}
	return C.GoString(r), true
}
