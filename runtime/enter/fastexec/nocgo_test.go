//go:build !cgo

package fastexec_test

const cgoBuild = false
