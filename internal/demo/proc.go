package demo

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// stopGrace is how long a child has to stop after SIGTERM before it is
// killed.
const stopGrace = 15 * time.Second

// proc is one child process, its output in a log file of the demo's
// folder.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error // set before done closes
}

// spawner starts the children from one goroutine locked to its OS thread
// for the demo's life: Linux sends a child its Pdeathsig when the thread
// that forked it ends, not the process, and the Go runtime may end a
// thread that a locked goroutine leaves.
type spawner struct{ req chan func() }

func newSpawner() *spawner {
	s := &spawner{req: make(chan func())}
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for f := range s.req {
			f()
		}
	}()
	return s
}

// do runs f on the spawner's thread and returns when it has.
func (s *spawner) do(f func()) {
	done := make(chan struct{})
	s.req <- func() { f(); close(done) }
	<-done
}

// close ends the spawner once its children have ended.
func (s *spawner) close() { close(s.req) }

// start starts bin with args from the spawner's thread, its output going
// to dir/name.log.
func (s *spawner) start(dir, name, bin string, args ...string) (*proc, error) {
	p := &proc{name: name, log: filepath.Join(dir, name+".log"), done: make(chan struct{})}
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("demo: %s: %w", name, err)
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.SysProcAttr = sysProcAttr()
	s.do(func() { err = p.cmd.Start() })
	f.Close() // the child has its own copy
	if err != nil {
		return nil, fmt.Errorf("demo: start %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits for the process, killing it after
// stopGrace; it reports an exit that was not clean.
func (p *proc) stop() error {
	if p.exited() {
		return p.failure()
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("demo: %s did not stop within %v of SIGTERM and was killed", p.name, stopGrace)
	}
	return p.failure()
}

// failure describes how the process ended, nil for a clean exit.
func (p *proc) failure() error {
	if p.err == nil {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return nil
		}
	}
	return fmt.Errorf("demo: %s: %w\n%s", p.name, p.err, p.tail(20))
}

// tail returns the last n lines of the process's log, indented.
func (p *proc) tail(n int) string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return "  (no log: " + err.Error() + ")"
	}
	lines := strings.Split(string(bytes.TrimRight(b, "\n")), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}
