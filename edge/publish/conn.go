package publish

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// The MQTT client writes each packet with its own write system call and
// reads each packet with several (its type, each byte of its length, its
// body). At thousands of events a second those calls cost more CPU than
// the rest of the pipeline, so the connection under the client is wrapped:
// reads come from a buffer, and writes are copied to a buffer that one
// goroutine writes out, whatever accumulated while its previous write ran
// going out in a single call. Nothing waits for a batch to fill: a packet
// goes out as soon as the previous write returns.

// coalesceMax bounds the bytes waiting for the socket; a writer beyond it
// waits for room.
const coalesceMax = 256 << 10

// closeFlushWait bounds how long Close waits for pending bytes (such as
// the DISCONNECT packet) to reach the socket.
const closeFlushWait = time.Second

// coalescingConn is a net.Conn whose writes are coalesced and whose reads
// are buffered. Write returns once the bytes are copied; a failure of the
// socket is returned by the next Write, and closes the connection so that
// the reader sees it too. Deadlines set by the client are replaced by
// timeout, applied to each write to the socket.
type coalescingConn struct {
	net.Conn
	rd      *bufio.Reader
	timeout time.Duration

	mu      sync.Mutex
	cond    *sync.Cond // pending grew, room was made, or the state changed
	pending []byte
	spare   []byte
	err     error // the socket's write error, or net.ErrClosed after Close
	closing bool
	done    chan struct{} // the writer goroutine ended

	closeOnce sync.Once
	closeErr  error
}

// newCoalescingConn wraps c; writes to it time out after timeout (none
// when zero).
func newCoalescingConn(c net.Conn, timeout time.Duration) *coalescingConn {
	cc := &coalescingConn{Conn: c, rd: bufio.NewReaderSize(c, 32<<10), timeout: timeout, done: make(chan struct{})}
	cc.cond = sync.NewCond(&cc.mu)
	go cc.writer()
	return cc
}

// Read reads from the buffer.
func (c *coalescingConn) Read(p []byte) (int, error) { return c.rd.Read(p) }

// Write copies p for the writer goroutine, waiting while coalesceMax bytes
// are pending.
func (c *coalescingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.err == nil && !c.closing && len(c.pending) > 0 && len(c.pending)+len(p) > coalesceMax {
		c.cond.Wait()
	}
	if c.err != nil {
		return 0, c.err
	}
	if c.closing {
		return 0, net.ErrClosed
	}
	c.pending = append(c.pending, p...)
	c.cond.Broadcast()
	return len(p), nil
}

// writer writes what is pending, all of it at once, until Close or a
// failure.
func (c *coalescingConn) writer() {
	defer close(c.done)
	c.mu.Lock()
	for {
		for len(c.pending) == 0 && !c.closing {
			c.cond.Wait()
		}
		if len(c.pending) == 0 { // closing, and everything written
			c.mu.Unlock()
			return
		}
		batch := c.pending
		c.pending = c.spare[:0]
		c.mu.Unlock()
		var err error
		if c.timeout > 0 {
			err = c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
		}
		if err == nil {
			_, err = c.Conn.Write(batch)
		}
		c.mu.Lock()
		c.spare = batch[:0]
		if err != nil {
			c.err = fmt.Errorf("publish: write to broker: %w", err)
			c.pending = nil
			c.cond.Broadcast()
			c.mu.Unlock()
			c.Conn.Close() // the reader sees it too
			return
		}
		c.cond.Broadcast()
	}
}

// Close writes what is pending (at most closeFlushWait), then closes the
// connection.
func (c *coalescingConn) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closing = true
		c.cond.Broadcast()
		c.mu.Unlock()
		select {
		case <-c.done:
		case <-time.After(closeFlushWait):
		}
		c.closeErr = c.Conn.Close()
		<-c.done
		c.mu.Lock()
		if c.err == nil {
			c.err = net.ErrClosed
		}
		c.mu.Unlock()
	})
	return c.closeErr
}

// SetDeadline sets the read deadline; writes keep their own timeout.
func (c *coalescingConn) SetDeadline(t time.Time) error { return c.Conn.SetReadDeadline(t) }

// SetWriteDeadline is a no-op: each write to the socket times out after
// the timeout given to newCoalescingConn.
func (c *coalescingConn) SetWriteDeadline(time.Time) error { return nil }

// openConn is the MQTT client's connection opener for TCP and TLS
// brokers: the connection it dials, wrapped in a coalescingConn. It is
// used only where it dials as the client would (see coalescable).
func openConn(writeTimeout time.Duration) mqtt.OpenConnectionFunc {
	return func(u *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
		d := &net.Dialer{Timeout: o.ConnectTimeout}
		var c net.Conn
		var err error
		switch u.Scheme {
		case "tcp", "mqtt":
			c, err = d.Dial("tcp", u.Host)
		case "ssl", "tls", "mqtts":
			c, err = tls.DialWithDialer(d, "tcp", u.Host, o.TLSConfig)
		default:
			err = errors.New("publish: no coalescing connection for scheme " + u.Scheme)
		}
		if err != nil {
			return nil, err
		}
		return newCoalescingConn(c, writeTimeout), nil
	}
}

// coalescable tells whether openConn dials broker as the MQTT client
// itself would: a TCP or TLS broker, no proxy from the environment
// (WebSocket brokers and proxies are left to the client).
func coalescable(broker string) bool {
	u, err := url.Parse(broker)
	if err != nil {
		return false
	}
	for _, v := range []string{"ALL_PROXY", "all_proxy"} {
		if os.Getenv(v) != "" {
			return false
		}
	}
	switch u.Scheme {
	case "tcp", "mqtt", "ssl", "tls", "mqtts":
		return true
	}
	return false
}
