package demo

import "syscall"

// sysProcAttr puts a child in its own process group, so that the
// terminal's Ctrl-C reaches only the orchestrator, which stops the
// children in order, and has the kernel send it SIGTERM when the
// orchestrator dies, however it dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
