package demo

import "syscall"

// sysProcAttr puts a child in its own process group, so that the
// terminal's Ctrl-C reaches only the orchestrator, which stops the
// children in order, and has the kernel send it SIGTERM when the
// orchestrator dies, however it dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// lockAddr is the address of the instance lock: a socket in Linux's
// abstract namespace, which leaves no file and is released by the kernel
// when its holder dies.
func lockAddr(name string) string { return "@" + name }
