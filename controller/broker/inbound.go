package broker

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
)

// publishType is the MQTT 3.1.1 packet type of a PUBLISH (the high nibble
// of the fixed header's first byte).
const publishType = 3

// errMalformedPacket is wrapped by the errors of a packet the broker sent
// that is not MQTT 3.1.1; the connection is then given up.
var errMalformedPacket = errors.New("broker: malformed packet from the broker")

// inboundMessage is a PUBLISH the connection read itself (see
// bufferedConn.Read), allocated from the connection's inboundArena: its
// payload is in the packet's body.
type inboundMessage struct {
	header  byte // the fixed header's first byte: DUP, QoS and RETAIN
	id      uint16
	topic   string
	payload []byte
	conn    *bufferedConn
}

// Duplicate tells whether the broker flagged the message as delivered again.
func (m *inboundMessage) Duplicate() bool { return m.header&0x08 != 0 }

// Qos is the delivery's QoS, 0 or 1.
func (m *inboundMessage) Qos() byte { return m.header >> 1 & 3 }

// Retained tells whether the broker delivered a retained message.
func (m *inboundMessage) Retained() bool { return m.header&0x01 != 0 }

// Topic is the message's topic.
func (m *inboundMessage) Topic() string { return m.topic }

// MessageID is the packet identifier (0 at QoS 0).
func (m *inboundMessage) MessageID() uint16 { return m.id }

// Payload is the message's payload.
func (m *inboundMessage) Payload() []byte { return m.payload }

// Ack writes the PUBACK of a QoS 1 message to the connection that
// delivered it (the Subscriber writes a batch's PUBACKs itself: see ack).
func (m *inboundMessage) Ack() {
	if m.Qos() == 1 {
		_, _ = m.conn.Write([]byte{pubackType, 2, byte(m.id >> 8), byte(m.id)})
	}
}

// readPacket reads the next MQTT packet from r. A PUBLISH at QoS 0 or 1 is
// decoded and returned as a message, allocated from a; any other packet
// is returned as its bytes (fixed header included), appended to buf, for
// paho to read.
func readPacket(r *bufio.Reader, buf []byte, a *inboundArena) (*inboundMessage, []byte, error) {
	h, err := r.ReadByte()
	if err != nil {
		return nil, buf, err
	}
	n, raw, k, err := readRemainingLength(r)
	if err != nil {
		return nil, buf, err
	}
	if t := h >> 4; t == 0 || t == 15 {
		return nil, buf, fmt.Errorf("%w: packet type %d", errMalformedPacket, t)
	}
	if h>>4 != publishType || h>>1&3 > 1 {
		buf = append(buf, h)
		buf = append(buf, raw[:k]...)
		start := len(buf)
		buf = slices.Grow(buf, n)[:start+n]
		_, err = io.ReadFull(r, buf[start:])
		return nil, buf, unexpectedEOF(err)
	}
	body := a.body(n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, buf, unexpectedEOF(err)
	}
	m, err := decodePublish(h, body, a)
	return m, buf, err
}

// readRemainingLength reads a fixed header's remaining length: its value
// and its k bytes.
func readRemainingLength(r *bufio.Reader) (n int, raw [4]byte, k int, err error) {
	shift := 0
	for k < len(raw) {
		c, err := r.ReadByte()
		if err != nil {
			return 0, raw, 0, unexpectedEOF(err)
		}
		raw[k] = c
		k++
		n |= int(c&0x7f) << shift
		if c&0x80 == 0 {
			return n, raw, k, nil
		}
		shift += 7
	}
	return 0, raw, 0, fmt.Errorf("%w: remaining length longer than four bytes", errMalformedPacket)
}

// unexpectedEOF turns the end of the input inside a packet into
// io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// decodePublish decodes the variable header and payload of a PUBLISH at
// QoS 0 or 1 whose first byte is h; the message is allocated from a.
func decodePublish(h byte, body []byte, a *inboundArena) (*inboundMessage, error) {
	if len(body) < 2 {
		return nil, fmt.Errorf("%w: PUBLISH without a topic length", errMalformedPacket)
	}
	tl := int(body[0])<<8 | int(body[1])
	rest := body[2:]
	if tl > len(rest) {
		return nil, fmt.Errorf("%w: PUBLISH topic of %d bytes in %d", errMalformedPacket, tl, len(rest))
	}
	m := a.message()
	m.header, m.topic = h, a.topic(rest[:tl])
	rest = rest[tl:]
	if m.Qos() == 1 {
		if len(rest) < 2 {
			return nil, fmt.Errorf("%w: PUBLISH without a packet identifier", errMalformedPacket)
		}
		m.id = uint16(rest[0])<<8 | uint16(rest[1])
		rest = rest[2:]
	}
	m.payload = rest
	return m, nil
}
