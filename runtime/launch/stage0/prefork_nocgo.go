//go:build !cgo

package stage0

// preforked: without cgo there is no constructor, so never a holder.
func preforked() (pid, config, report, goPipe, console int) { return -1, -1, -1, -1, -1 }

// zygoteStarted: without cgo there is no zygote either.
func zygoteStarted() zygote { return zygote{pid: -1} }

// ownStarted: without cgo a client is never its own holder.
func ownStarted() *Own { return nil }
