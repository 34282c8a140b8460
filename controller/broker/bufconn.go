package broker

import (
	"bufio"
	"net"
	"net/url"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Buffers of a plain TCP connection: a few dozen events per read system
// call, and the PUBACKs of a recorded batch in a few writes.
const (
	readBufferSize  = 64 << 10
	writeBufferSize = 16 << 10
	// writeDelay is the longest a packet waits in the write buffer for
	// others to join it.
	writeDelay = 200 * time.Microsecond
	// flushTimeout bounds one flush: a broker that stops reading fails
	// the connection rather than hanging it.
	flushTimeout = 10 * time.Second
)

// bufferedConn is a net.Conn whose reads and writes go through buffers.
// paho reads a packet's fixed header and body straight from the
// connection, two or three read system calls per message, and writes each
// PUBACK on its own: on plain TCP that is most of the cost of a message.
// (On TLS the record layer buffers reads already.) A write waits at most
// writeDelay for others to join it; a failed flush closes the connection,
// so that paho's reader sees the failure and reconnects (the broker
// delivers again whatever was not acknowledged).
type bufferedConn struct {
	net.Conn
	r *bufio.Reader

	wmu     sync.Mutex
	w       *bufio.Writer
	pending bool  // a flush is scheduled
	werr    error // the first failed flush
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// Write buffers p and schedules a flush.
func (c *bufferedConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil {
		return 0, c.werr
	}
	n, err := c.w.Write(p) // writes through when the buffer fills
	if err != nil {
		c.werr = err
		return n, err
	}
	if !c.pending {
		c.pending = true
		time.AfterFunc(writeDelay, c.flush)
	}
	return n, nil
}

// flush writes what is buffered.
func (c *bufferedConn) flush() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.pending = false
	if c.werr != nil || c.w.Buffered() == 0 {
		return
	}
	c.Conn.SetWriteDeadline(time.Now().Add(flushTimeout))
	if err := c.w.Flush(); err != nil {
		c.werr = err
		c.Conn.Close()
	}
}

// Close writes what is buffered (a DISCONNECT), then closes.
func (c *bufferedConn) Close() error {
	c.wmu.Lock()
	if c.werr == nil {
		c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
		c.w.Flush()
		c.werr = net.ErrClosed
	}
	c.wmu.Unlock()
	return c.Conn.Close()
}

// openBuffered dials a plain TCP broker (tcp:// or mqtt://) and buffers
// its reads and writes; paho takes it through SetCustomOpenConnectionFn.
func openBuffered(uri *url.URL, o mqtt.ClientOptions) (*bufferedConn, error) {
	d := net.Dialer{Timeout: o.ConnectTimeout}
	conn, err := d.Dial("tcp", uri.Host)
	if err != nil {
		return nil, err
	}
	return &bufferedConn{Conn: conn, r: bufio.NewReaderSize(conn, readBufferSize),
		w: bufio.NewWriterSize(conn, writeBufferSize)}, nil
}

// plainTCP tells whether a broker URL is plain TCP (the only kind whose
// I/O openBuffered buffers).
func plainTCP(broker string) bool {
	u, err := url.Parse(broker)
	return err == nil && (u.Scheme == "tcp" || u.Scheme == "mqtt")
}
