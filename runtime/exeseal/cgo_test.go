//go:build cgo

package exeseal

const haveC = true
