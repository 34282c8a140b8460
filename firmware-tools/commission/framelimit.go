package commission

import (
	"errors"
	"fmt"
	"net"
)

// MaxPacket is the largest MQTT packet the broker checks accept from a
// broker. The MQTT clients allocate a whole packet's length, as the
// broker announces it (up to 256 MiB), before they read it: a hostile
// broker could exhaust a small gateway's memory with one header.
const MaxPacket = 1 << 20

// frameLimit reads an MQTT byte stream through, failing at the first
// fixed header whose remaining length is above max. It only looks at the
// bytes; it keeps none.
type frameLimit struct {
	max int
	// state is 0 before a packet's first byte, 1 in its remaining length
	// (vbiShift tells which byte), 2 in its body (left bytes to go).
	state    int
	vbi      int
	vbiShift uint
	left     int
}

// scan passes b through the limit.
func (f *frameLimit) scan(b []byte) error {
	for i := 0; i < len(b); {
		switch f.state {
		case 0:
			f.state, f.vbi, f.vbiShift = 1, 0, 0
			i++
		case 1:
			c := b[i]
			i++
			f.vbi |= int(c&0x7F) << f.vbiShift
			f.vbiShift += 7
			switch {
			case f.vbi > f.max:
				return fmt.Errorf("%w: more than %d bytes, the most a check takes", errTooLong, f.max)
			case c&0x80 == 0:
				f.state, f.left = 2, f.vbi
				if f.left == 0 {
					f.state = 0
				}
			case f.vbiShift >= 28:
				return fmt.Errorf("%w: its length in more than 4 bytes", errTooLong)
			}
		case 2:
			n := min(f.left, len(b)-i)
			i += n
			if f.left -= n; f.left == 0 {
				f.state = 0
			}
		}
	}
	return nil
}

// errTooLong marks a packet frameLimit refused.
var errTooLong = errors.New("commission: the broker sent an MQTT packet too long")

// limitConn is a connection to a broker whose packets frameLimit checks.
type limitConn struct {
	net.Conn
	f frameLimit
}

// limit wraps c so that a packet longer than MaxPacket fails the read.
func limit(c net.Conn) net.Conn { return &limitConn{Conn: c, f: frameLimit{max: MaxPacket}} }

// Read reads from the connection and checks what it read.
func (c *limitConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if ferr := c.f.scan(b[:n]); ferr != nil {
		c.Conn.Close()
		return 0, ferr
	}
	return n, err
}
