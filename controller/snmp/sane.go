package snmp

import (
	"bytes"
	"errors"
	"net"
	"os"
	"sync"
	"time"
)

// saneConn is the socket a session's gosnmp reads through. gosnmp fails a
// request (and spends a retry) on the first datagram whose header it cannot
// parse, and takes a reflected request or a trap for the answer, so a
// hostile or broken agent sending garbage ahead of every answer failed
// every request. A datagram that cannot answer this session (not one whole
// BER message, another SNMP version family, for v1/v2c another community or
// a PDU that is not a Response) is held back for strayGrace while the next
// datagrams are read: the first one that can answer is returned instead
// and the strays are discarded. When none comes within the grace, the
// first stray is returned, so that an agent answering only garbage still
// fails fast as a bad answer (which the walk isolates to its root) rather
// than as a timeout. Whatever is returned is decoded by gosnmp as before.
type saneConn struct {
	net.Conn
	v3        bool
	community []byte // v1/v2c

	mu       sync.Mutex
	deadline time.Time // the read deadline gosnmp or the session set last
	stray    []byte
}

// strayGrace is how long a stray datagram waits for the answer behind it.
// Datagrams sent together arrive together; an agent answering only
// garbage pays this once per request.
const strayGrace = 20 * time.Millisecond

// SetDeadline records the read deadline, which a grace must not extend.
func (c *saneConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadline = t
	return c.Conn.SetDeadline(t)
}

// SetReadDeadline records the read deadline, which a grace must not extend.
func (c *saneConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadline = t
	return c.Conn.SetReadDeadline(t)
}

// Read returns the next datagram that may answer this session, or a stray
// when no such datagram follows it within strayGrace (see saneConn).
func (c *saneConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil || c.sane(b[:n]) {
		return n, err
	}
	c.stray = append(c.stray[:0], b[:n]...)
	c.mu.Lock()
	end := time.Now().Add(strayGrace)
	if !c.deadline.IsZero() && c.deadline.Before(end) {
		end = c.deadline
	}
	err = c.Conn.SetReadDeadline(end)
	c.mu.Unlock()
	if err != nil {
		return copy(b, c.stray), nil
	}
	for {
		n, err = c.Conn.Read(b)
		if err == nil && !c.sane(b[:n]) {
			continue
		}
		c.mu.Lock()
		restore := c.Conn.SetReadDeadline(c.deadline)
		c.mu.Unlock()
		switch {
		case err == nil:
			return n, restore
		case errors.Is(err, os.ErrDeadlineExceeded):
			// No answer behind the stray: gosnmp reads the stray and
			// fails the request as a bad answer.
			return copy(b, c.stray), restore
		}
		return n, err
	}
}

// sane reports whether msg can answer this session (see saneConn).
func (c *saneConn) sane(msg []byte) bool {
	tag, body, rest, ok := berTLV(msg)
	if !ok || tag != 0x30 || len(rest) != 0 {
		return false
	}
	tag, ver, body, ok := berTLV(body)
	if !ok || tag != 0x02 || len(ver) != 1 {
		return false
	}
	if c.v3 {
		return ver[0] == 3
	}
	if ver[0] != 0 && ver[0] != 1 { // a v1 answer to v2c is taken, as gosnmp does
		return false
	}
	tag, comm, body, ok := berTLV(body)
	if !ok || tag != 0x04 || !bytes.Equal(comm, c.community) {
		return false
	}
	tag, _, rest, ok = berTLV(body)
	return ok && tag == 0xa2 && len(rest) == 0 // GetResponse-PDU
}

// berTLV splits the first BER TLV (one-octet tag, definite length of at
// most four octets) off b.
func berTLV(b []byte) (tag byte, content, rest []byte, ok bool) {
	if len(b) < 2 {
		return 0, nil, nil, false
	}
	tag, n, h := b[0], int(b[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return 0, nil, nil, false
		}
		n = 0
		for _, x := range b[2 : 2+k] {
			n = n<<8 | int(x)
		}
		h += k
	}
	if n < 0 || n > len(b)-h {
		return 0, nil, nil, false
	}
	return tag, b[h : h+n], b[h+n:], true
}
