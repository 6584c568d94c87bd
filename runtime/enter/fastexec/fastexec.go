//go:build cgo

package fastexec

// The constructor in fastexec.c does the work; linking this file in is
// what puts it in the binary.

// #cgo CFLAGS: -O2 -Wall -Wextra -Wno-unused-parameter
import "C"
