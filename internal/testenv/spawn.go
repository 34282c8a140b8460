package testenv

import (
	"os/exec"
	"runtime"
	"syscall"
)

// spawnReq is a command to start on the spawner's thread, and where its
// error goes.
type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

// spawns feeds the one goroutine that starts the test peers: locked to
// its OS thread for the test binary's life, since Linux sends a child its
// parent-death signal when the thread that forked it ends, not the
// process, and the Go runtime may end a thread a locked goroutine leaves.
var spawns = func() chan spawnReq {
	ch := make(chan spawnReq)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread lives as long as the process
		for r := range ch {
			r.done <- r.cmd.Start()
		}
	}()
	return ch
}()

// Start starts cmd so that it is killed when the test binary ends, in
// whatever way: a test that times out panics past every Cleanup, and
// would otherwise leave its brokers and daemons running.
func Start(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	done := make(chan error, 1)
	spawns <- spawnReq{cmd: cmd, done: done}
	return <-done
}
