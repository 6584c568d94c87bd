//go:build cgo

// Package cshim exposes the C of package capply (asengine.c, linked here,
// not copied) to Go tests, with shim.c's entry points: a dump of what the C
// parser read from an encoded plan, and a forked child that applies a plan
// the way the exec stage does and execs. The tests read real containers'
// profiles (docker, podman), apply them, and compare /proc of the child
// with /proc of the container's init.
package cshim

// #cgo CFLAGS: -O2 -Wall -Wextra -Wno-unused-parameter
// #include <stdlib.h>
// int bt_ase_shim_dump(const void *buf, size_t len, char *out, size_t outlen, char *err, size_t errlen);
// int bt_ase_shim_spawn(const void *buf, size_t len, const int *nsfds, int nns, int rootfd, int fork_after_join,
//                       int pty_sock, char *const argv[], char *const envp[], int *helper, char *err, size_t errlen);
import "C"

import (
	"errors"
	"unsafe"
)

// Dump is what asengine.c's parser read from plan, in the form of
// DumpPlan, or its refusal.
func Dump(plan []byte) (string, error) {
	cbuf := C.CBytes(plan)
	defer C.free(cbuf)
	out := make([]byte, 1<<20)
	errb := make([]byte, 512)
	n := C.bt_ase_shim_dump(cbuf, C.size_t(len(plan)), (*C.char)(unsafe.Pointer(&out[0])), C.size_t(len(out)),
		(*C.char)(unsafe.Pointer(&errb[0])), C.size_t(len(errb)))
	if n == -2 {
		return "", errors.New("dump too long")
	}
	if n < 0 {
		return "", errors.New(C.GoString((*C.char)(unsafe.Pointer(&errb[0]))))
	}
	return string(out[:n]), nil
}

// Spawn forks a child that joins nsfds, chroots into rootfd (-1: no
// chroot), with forkAfterJoin forks again (to be in a joined PID
// namespace; the child then waits for the grandchild), joins the plan's
// cgroups, opens a terminal from the root's devpts and sends its master
// over ptySock (-1: none), applies the plan and execs argv[0] with argv and
// env. It returns the host PID of the process that exec'd, once the exec
// has happened, and the waiting child (0 without forkAfterJoin); the
// caller reaps them.
func Spawn(plan []byte, nsfds []int, rootfd int, forkAfterJoin bool, ptySock int, argv, env []string) (pid, helper int, err error) {
	cbuf := C.CBytes(plan)
	defer C.free(cbuf)
	cstrs := func(ss []string) []*C.char {
		out := make([]*C.char, len(ss)+1)
		for i, s := range ss {
			out[i] = C.CString(s)
		}
		return out
	}
	cargv, cenv := cstrs(argv), cstrs(env)
	defer func() {
		for _, list := range [][]*C.char{cargv, cenv} {
			for _, s := range list {
				C.free(unsafe.Pointer(s))
			}
		}
	}()
	// C memory for what C reads: Go pointers to Go pointers may not be
	// passed.
	pargv := C.malloc(C.size_t(len(cargv)) * C.size_t(unsafe.Sizeof(uintptr(0))))
	penv := C.malloc(C.size_t(len(cenv)) * C.size_t(unsafe.Sizeof(uintptr(0))))
	defer C.free(pargv)
	defer C.free(penv)
	copy(unsafe.Slice((**C.char)(pargv), len(cargv)), cargv)
	copy(unsafe.Slice((**C.char)(penv), len(cenv)), cenv)
	cns := make([]C.int, len(nsfds)+1)
	for i, fd := range nsfds {
		cns[i] = C.int(fd)
	}
	errb := make([]byte, 1024)
	fork := C.int(0)
	if forkAfterJoin {
		fork = 1
	}
	var chelper C.int
	cpid := C.bt_ase_shim_spawn(cbuf, C.size_t(len(plan)), &cns[0], C.int(len(nsfds)), C.int(rootfd), fork, C.int(ptySock),
		(**C.char)(pargv), (**C.char)(penv), &chelper, (*C.char)(unsafe.Pointer(&errb[0])), C.size_t(len(errb)))
	if cpid < 0 {
		return -1, 0, errors.New(C.GoString((*C.char)(unsafe.Pointer(&errb[0]))))
	}
	return int(cpid), int(chelper), nil
}
