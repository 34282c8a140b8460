package demo

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrRunning is returned by Run when another demo holds the lock; the
// error wrapping it says which process and where its dashboard is.
var ErrRunning = errors.New("demo: another ngic demo is running")

// lock is the instance lock: a listening unix socket. Whoever connects
// reads one line, the holder's process id and dashboard URL (never the
// token), so a second demo can say where the first one is.
type lock struct {
	l    net.Listener
	mu   sync.Mutex
	info string
	done chan struct{}
}

// acquire takes the lock name, or returns an error wrapping ErrRunning
// that names the holder. The lock is a socket in Linux's abstract
// namespace: it leaves no file, and the kernel frees it when its holder
// dies.
func acquire(name string) (*lock, error) {
	addr := "@" + name
	l, err := net.Listen("unix", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%w (%s); stop it with Ctrl-C in its terminal, or kill -TERM its process", ErrRunning, holder(addr))
	}
	if err != nil {
		return nil, fmt.Errorf("demo: lock %s: %w", addr, err)
	}
	k := &lock{l: l, info: fmt.Sprintf("pid %d, starting", os.Getpid()), done: make(chan struct{})}
	go k.serve()
	return k, nil
}

// set changes what the lock tells a second demo.
func (k *lock) set(info string) {
	k.mu.Lock()
	k.info = info
	k.mu.Unlock()
}

func (k *lock) serve() {
	defer close(k.done)
	for {
		c, err := k.l.Accept()
		if err != nil {
			return
		}
		k.mu.Lock()
		info := k.info
		k.mu.Unlock()
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = fmt.Fprintln(c, info)
		c.Close()
	}
}

// release frees the lock.
func (k *lock) release() {
	k.l.Close()
	<-k.done
}

// holder asks the lock's holder who it is.
func holder(addr string) string {
	c, err := net.DialTimeout("unix", addr, time.Second)
	if err != nil {
		return "it does not answer"
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if line = strings.TrimSpace(line); err != nil || line == "" {
		return "it does not say where"
	}
	return line
}
