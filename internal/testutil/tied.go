package testutil

import (
	"os/exec"
	"runtime"
	"syscall"
)

// StartTied starts cmd so that it dies with the test binary: Pdeathsig
// SIGKILL, forked from a thread that stays locked for as long as cmd lives
// (the kernel ties Pdeathsig to the forking *thread*, and a test that later
// locks and discards a thread, entering a container, must not take this
// one down). exited is closed once cmd has been waited for; waitErr is
// what Wait returned, valid after that.
func StartTied(cmd *exec.Cmd) (exited <-chan struct{}, waitErr func() error, err error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	done := make(chan struct{})
	started := make(chan error, 1)
	var werr error
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			close(done)
			return
		}
		started <- nil
		werr = cmd.Wait()
		close(done)
	}()
	if err := <-started; err != nil {
		return nil, nil, err
	}
	return done, func() error { <-done; return werr }, nil
}
