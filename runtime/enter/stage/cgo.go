//go:build cgo

package stage

// enterstage.c's constructor is the stage; linking this file in is what
// puts it in the binary.

// #cgo CFLAGS: -O2 -Wall -Wextra -Wno-unused-parameter
import "C"

// Available reports whether the binary has the stage.
const Available = true
