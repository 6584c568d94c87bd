//go:build !cgo

package launch

const cgoBuild = false
