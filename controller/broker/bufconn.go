package broker

import (
	"bufio"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
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
	// readLead is how long before a batch is due the connection's reader
	// reads what came during the batch's wait, and its pause after a read
	// that drained the connection when no batch is due later (see
	// Subscriber.readPause).
	readLead = time.Millisecond
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

	// deliver, when set, takes the PUBLISH packets at QoS 0 and 1 that
	// the broker sends: Read decodes them itself and hands paho only the
	// other packets (see Read). out holds what paho has still to read of
	// those, in pass; closed stops the deliveries once Close ran. The
	// messages are allocated from arena.
	deliver func(*inboundMessage)
	pass    []byte
	out     []byte
	closed  atomic.Bool
	arena   inboundArena

	wmu     sync.Mutex
	w       *bufio.Writer
	pending bool  // a flush is scheduled
	werr    error // the first failed flush
}

// Read reads from the buffer. With deliver set, it reads whole packets:
// a PUBLISH at QoS 0 or 1 goes to deliver, in the order received, and
// never to paho, whose reader would otherwise hand each message through
// three goroutines before the Subscriber sees it; the other packets
// (CONNACK, SUBACK, PUBACK of the alerts, PINGRESP, a PUBLISH at QoS 2)
// are what Read returns, for paho to read as they came. The delivered
// messages carry no state in paho (see outboundStore): the Subscriber
// acknowledges them on this connection.
func (c *bufferedConn) Read(p []byte) (int, error) {
	if c.deliver == nil {
		return c.r.Read(p)
	}
	for len(c.out) == 0 {
		if c.closed.Load() {
			return 0, net.ErrClosed
		}
		m, pass, err := readPacket(c.r, c.pass[:0], &c.arena)
		if err != nil {
			return 0, err
		}
		if m == nil {
			c.pass, c.out = pass, pass
			continue
		}
		if c.closed.Load() {
			return 0, net.ErrClosed // not delivered: the broker sends it again
		}
		m.conn = c
		c.deliver(m)
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}

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

// WriteNow writes what is buffered and p at once, without waiting for
// others to join (the PUBACKs of a recorded batch: one write, and no
// timer to wake for it).
func (c *bufferedConn) WriteNow(p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil {
		return c.werr
	}
	if _, err := c.w.Write(p); err != nil {
		c.werr = err
		return err
	}
	return c.flushLocked()
}

// flush writes what is buffered.
func (c *bufferedConn) flush() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.pending = false
	_ = c.flushLocked()
}

// flushLocked writes what is buffered; a failure closes the connection.
// The caller holds wmu.
func (c *bufferedConn) flushLocked() error {
	if c.werr != nil || c.w.Buffered() == 0 {
		return c.werr
	}
	c.Conn.SetWriteDeadline(time.Now().Add(flushTimeout))
	if err := c.w.Flush(); err != nil {
		c.werr = err
		c.Conn.Close()
		return err
	}
	return nil
}

// Close writes what is buffered (a DISCONNECT), then closes.
func (c *bufferedConn) Close() error {
	c.closed.Store(true)
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
// After a read that drained the connection, the next waits pause().
func openBuffered(uri *url.URL, o mqtt.ClientOptions, pause func() time.Duration) (*bufferedConn, error) {
	d := net.Dialer{Timeout: o.ConnectTimeout}
	conn, err := d.Dial("tcp", uri.Host)
	if err != nil {
		return nil, err
	}
	return &bufferedConn{Conn: conn, r: bufio.NewReaderSize(&pacedReader{r: conn, sleep: time.Sleep, pause: pause}, readBufferSize),
		w: bufio.NewWriterSize(conn, writeBufferSize)}, nil
}

// pacedReader reads from a connection, and after a read that drained it
// (found less than it asked for) it waits pause() before the next one. A
// broker writes each message as it comes: read as they arrive, a stream
// of messages costs a wake of the reader and a read system call each (and
// after a wake from idle the Go runtime's monitor thread polls every
// 20 µs for a while): at a steady 30,000 events/s in messages of 64, a
// good part of the CPU the ingest spends beyond decoding and committing.
// Paced to the batches, the messages of a batch's wait come in one wake
// just before it starts. A backlog (a read that fills the buffer) is read
// without a pause.
type pacedReader struct {
	r       io.Reader
	sleep   func(time.Duration)
	pause   func() time.Duration
	drained bool // the last read found less than it asked for
}

func (p *pacedReader) Read(b []byte) (int, error) {
	if p.drained {
		p.sleep(p.pause())
	}
	n, err := p.r.Read(b)
	p.drained = n < len(b)
	return n, err
}

// plainTCP tells whether a broker URL is plain TCP (the only kind whose
// I/O openBuffered buffers).
func plainTCP(broker string) bool {
	u, err := url.Parse(broker)
	return err == nil && (u.Scheme == "tcp" || u.Scheme == "mqtt")
}
