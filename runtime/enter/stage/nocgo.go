//go:build !cgo

package stage

// Available reports whether the binary has the stage: not without cgo.
const Available = false
