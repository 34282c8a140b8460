//go:build !linux

package demo

import (
	"os"
	"path/filepath"
	"syscall"
)

// sysProcAttr puts a child in its own process group, so that the
// terminal's Ctrl-C reaches only the orchestrator, which stops the
// children in order. Without Linux's Pdeathsig, children outlive an
// orchestrator killed with SIGKILL.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// lockAddr is the address of the instance lock: a socket file in the
// temporary folder, removed when the lock is released.
func lockAddr(name string) string { return filepath.Join(os.TempDir(), name+".sock") }
