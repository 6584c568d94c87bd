//go:build cgo

package stage0

const cgoBuild = true
