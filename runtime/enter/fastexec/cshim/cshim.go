//go:build cgo

// Package cshim exposes the C of package fastexec to Go tests: fastexec.c
// (a link to the very file the binary is built from) compiled with its
// test hooks (BOXTUI_TEST_HOOKS), which no boxtui binary has. Its tests
// compare the C encoders with Go's on the same inputs, and run this
// package's test binary as `exec ...` to drive the C path with a hook.
//
// The constructor in fastexec.c acts only when argv[1] is "exec": a test
// binary's own arguments (-test.*) never are.
package cshim

// #cgo CFLAGS: -O2 -Wall -Wextra -Wno-unused-parameter -DBOXTUI_TEST_HOOKS
// #include <stdlib.h>
// size_t boxtui_shim_json_str(char *buf, size_t size, const char *s);
// int boxtui_shim_parse(int argc, char **argv, char **out, size_t *outlen);
// const char *boxtui_shim_signame(int sig, char *buf, size_t size);
// int boxtui_shim_valid_name(const char *s);
// int boxtui_shim_target_kind(const char *t, int *pid);
// int boxtui_shim_parse_status(const char *buf, size_t len, long *ppid, long *inner);
// int boxtui_shim_parse_stat(const char *buf, size_t len, char *state, unsigned long long *start);
// int boxtui_shim_state_doc(const char *doc, size_t len, const char *name, int *pid, unsigned long long *start);
// int boxtui_shim_state_init(const char *rundir, const char *name, int *pid, unsigned long long *start);
// char *boxtui_shim_event_line(const char *stamp, const char *key, const char *kind, const char *detail, size_t *len);
import "C"

import (
	"strings"
	"unsafe"
)

// JSONString is fastexec.c's json_str of s (s must hold no NUL: it is a C
// string there).
func JSONString(s string) string {
	cs := C.CString(s)
	defer C.free(unsafe.Pointer(cs))
	n := C.boxtui_shim_json_str(nil, 0, cs)
	buf := make([]byte, int(n))
	if n > 0 {
		C.boxtui_shim_json_str((*C.char)(unsafe.Pointer(&buf[0])), n, cs)
	}
	return string(buf)
}

// EventLine is the history line fastexec.c writes for the event.
func EventLine(stamp, key, kind, detail string) string {
	cstrs := []*C.char{C.CString(stamp), C.CString(key), C.CString(kind), C.CString(detail)}
	defer func() {
		for _, c := range cstrs {
			C.free(unsafe.Pointer(c))
		}
	}()
	var n C.size_t
	p := C.boxtui_shim_event_line(cstrs[0], cstrs[1], cstrs[2], cstrs[3], &n)
	if p == nil {
		return ""
	}
	defer C.free(unsafe.Pointer(p))
	return C.GoStringN(p, C.int(n))
}

// Parse is fastexec.c's parse of `boxtui exec ARGS...`: its fields
// (interactive "0"/"1", dir, nenv, env..., target, command...), or ok
// false when it declines.
func Parse(args []string) (fields []string, ok bool) {
	argv := make([]*C.char, len(args)+3)
	argv[0], argv[1] = C.CString("boxtui"), C.CString("exec")
	for i, a := range args {
		argv[i+2] = C.CString(a)
	}
	defer func() {
		for _, a := range argv {
			C.free(unsafe.Pointer(a))
		}
	}()
	var out *C.char
	var n C.size_t
	if C.boxtui_shim_parse(C.int(len(args)+2), &argv[0], &out, &n) != 0 {
		return nil, false
	}
	defer C.free(unsafe.Pointer(out))
	return strings.Split(strings.TrimSuffix(C.GoStringN(out, C.int(n)), "\x00"), "\x00"), true
}

// HasNUL reports whether s cannot pass through a C string.
func HasNUL(s string) bool { return strings.IndexByte(s, 0) >= 0 }

// SignalName is fastexec.c's name of sig in exec-closed's "killed by
// signal NAME".
func SignalName(sig int) string {
	var buf [32]C.char
	return C.GoString(C.boxtui_shim_signame(C.int(sig), &buf[0], C.size_t(len(buf))))
}

// ValidName is statefile.h's bx_valid_name (s must hold no NUL).
func ValidName(s string) bool {
	cs := C.CString(s)
	defer C.free(unsafe.Pointer(cs))
	return C.boxtui_shim_valid_name(cs) != 0
}

// StateDoc is statefile.h's reading of a state document for the
// container name: the init's PID and start time, or ok false when the C
// path would leave the name to Go.
func StateDoc(doc []byte, name string) (pid int, start uint64, ok bool) {
	cdoc := C.CBytes(doc) // len(doc) may be 0: C.CBytes still allocates
	defer C.free(cdoc)
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var cpid C.int
	var cstart C.ulonglong
	if C.boxtui_shim_state_doc((*C.char)(cdoc), C.size_t(len(doc)), cname, &cpid, &cstart) != 0 {
		return 0, 0, false
	}
	return int(cpid), uint64(cstart), true
}

// StateInit is statefile.h's reading of RUNDIR/NAME/state.json.
func StateInit(runDir, name string) (pid int, start uint64, ok bool) {
	cdir, cname := C.CString(runDir), C.CString(name)
	defer C.free(unsafe.Pointer(cdir))
	defer C.free(unsafe.Pointer(cname))
	var cpid C.int
	var cstart C.ulonglong
	if C.boxtui_shim_state_init(cdir, cname, &cpid, &cstart) != 0 {
		return 0, 0, false
	}
	return int(cpid), uint64(cstart), true
}

// TargetKind is how fastexec.c reads a TARGET: 1 a host PID (pid), 0 a
// name, -1 left to Go.
func TargetKind(target string) (kind, pid int) {
	ct := C.CString(target)
	defer C.free(unsafe.Pointer(ct))
	var cpid C.int
	kind = int(C.boxtui_shim_target_kind(ct, &cpid))
	return kind, int(cpid)
}

// ParseStatus is fastexec.c's reading of a /proc/PID/status text: PPid
// and the innermost NSpid, or ok false.
func ParseStatus(text []byte) (ppid, inner int, ok bool) {
	c := C.CBytes(text)
	defer C.free(c)
	var cp, ci C.long
	if C.boxtui_shim_parse_status((*C.char)(c), C.size_t(len(text)), &cp, &ci) != 0 {
		return 0, 0, false
	}
	return int(cp), int(ci), true
}

// ParseStat is fastexec.c's reading of a /proc/PID/stat text: the state
// letter and the start time, or ok false.
func ParseStat(text []byte) (state byte, start uint64, ok bool) {
	c := C.CBytes(text)
	defer C.free(c)
	var cs C.char
	var cst C.ulonglong
	if C.boxtui_shim_parse_stat((*C.char)(c), C.size_t(len(text)), &cs, &cst) != 0 {
		return 0, 0, false
	}
	return byte(cs), uint64(cst), true
}
