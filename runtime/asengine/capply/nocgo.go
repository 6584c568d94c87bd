//go:build !cgo

// Package capply is empty without cgo: the binary then has no enter stage
// (package runtime/enter/stage) and exec refuses --as-engine with the
// reason.
package capply
