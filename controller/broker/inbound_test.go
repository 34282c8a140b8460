package broker

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"unsafe"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// inboundStream is what a broker sends a subscriber: packets paho must
// read and PUBLISH packets the connection delivers itself.
var inboundStream = [][]byte{
	{
		0x20, 2, // CONNACK, remaining length 2
		0, 0, // session present 0, return code 0
	},
	{
		0x32, 14, // PUBLISH QoS 1, remaining length 14
		0, 5, 'a', '/', 'b', '/', 'c', // topic length + topic
		0x12, 0x34, // packet identifier
		'{', '"', 'v', '"', '}', // payload
	},
	{
		0x90, 3, // SUBACK, remaining length 3
		0, 1, // packet identifier
		1, // granted QoS 1
	},
	{
		0x3b, 5, // PUBLISH DUP, QoS 1, RETAIN, remaining length 5
		0, 1, 't', // topic length + topic
		0, 7, // packet identifier, empty payload
	},
	{
		0x30, 4, // PUBLISH QoS 0, remaining length 4
		0, 1, 'q', // topic length + topic (no packet identifier at QoS 0)
		'x', // payload
	},
	{
		0x34, 6, // PUBLISH QoS 2: left to paho, remaining length 6
		0, 1, 'z', // topic length + topic
		0, 9, // packet identifier
		'!', // payload
	},
	{
		0xd0, 0, // PINGRESP, remaining length 0
	},
	{
		0x30, 0x83, 0x01, // PUBLISH QoS 0, remaining length 131 in two bytes
		0, 1, 'L', // topic length + topic
		// 128 bytes of payload follow
	},
}

func init() { inboundStream[7] = append(inboundStream[7], bytes.Repeat([]byte{'p'}, 128)...) }

// splitStream reads stream as a bufferedConn with deliver set does, in
// reads of chunk bytes: the messages delivered and the bytes paho reads.
func splitStream(stream []byte, chunk int) (msgs []*inboundMessage, passed []byte, err error) {
	c := &bufferedConn{r: bufio.NewReaderSize(bytes.NewReader(stream), 16),
		deliver: func(m *inboundMessage) { msgs = append(msgs, m) }}
	buf := make([]byte, chunk)
	for {
		n, err := c.Read(buf)
		passed = append(passed, buf[:n]...)
		if err != nil {
			return msgs, passed, err
		}
	}
}

// TestInboundSplit: the PUBLISH packets at QoS 0 and 1 are delivered
// whole and in order with their flags; every other packet reaches paho's
// reader byte for byte, whatever the size of its reads.
func TestInboundSplit(t *testing.T) {
	stream := bytes.Join(inboundStream, nil)
	for _, chunk := range []int{1, 2, 7, 4096} {
		msgs, passed, err := splitStream(stream, chunk)
		if err != io.EOF {
			t.Fatalf("reads of %d: ended with %v, want EOF", chunk, err)
		}
		want := bytes.Join([][]byte{inboundStream[0], inboundStream[2], inboundStream[5], inboundStream[6]}, nil)
		if !bytes.Equal(passed, want) {
			t.Fatalf("reads of %d: paho read % x, want % x", chunk, passed, want)
		}
		type msg struct {
			topic, payload string
			id             uint16
			qos            byte
			dup, retained  bool
		}
		wantMsgs := []msg{
			{"a/b/c", `{"v"}`, 0x1234, 1, false, false},
			{"t", "", 7, 1, true, true},
			{"q", "x", 0, 0, false, false},
			{"L", string(bytes.Repeat([]byte{'p'}, 128)), 0, 0, false, false},
		}
		if len(msgs) != len(wantMsgs) {
			t.Fatalf("reads of %d: %d messages delivered, want %d", chunk, len(msgs), len(wantMsgs))
		}
		for i, m := range msgs {
			got := msg{m.Topic(), string(m.Payload()), m.MessageID(), m.Qos(), m.Duplicate(), m.Retained()}
			if got != wantMsgs[i] {
				t.Errorf("reads of %d: message %d is %+v, want %+v", chunk, i, got, wantMsgs[i])
			}
		}
	}
}

// TestInboundMalformed: a packet cut short or a PUBLISH whose lengths do
// not add up ends the reads with an error, having delivered nothing of it.
func TestInboundMalformed(t *testing.T) {
	for name, stream := range map[string][]byte{
		"cut in the body":          {0x32, 14, 0, 5, 'a'},
		"cut in the length":        {0x32, 0x80},
		"five length bytes":        {0x32, 0x80, 0x80, 0x80, 0x80, 0x01},
		"topic past the end":       {0x32, 3, 0, 9, 'a'},
		"no topic length":          {0x30, 1, 0},
		"no packet identifier":     {0x32, 3, 0, 1, 'a'},
		"other packet cut in body": {0x90, 3, 0, 1},
	} {
		msgs, _, err := splitStream(stream, 64)
		if err == nil || err == io.EOF || len(msgs) != 0 {
			t.Errorf("%s: %d messages, %v; want none and an error other than EOF", name, len(msgs), err)
		}
	}
}

// TestInboundClosed: once the connection is closed, a packet still in
// the read buffer is not delivered (the broker sends it again).
func TestInboundClosed(t *testing.T) {
	delivered := 0
	c := &bufferedConn{r: bufio.NewReader(bytes.NewReader(bytes.Join(inboundStream, nil))),
		deliver: func(*inboundMessage) { delivered++ }}
	c.closed.Store(true)
	if _, err := c.Read(make([]byte, 64)); !errors.Is(err, net.ErrClosed) || delivered != 0 {
		t.Fatalf("read after close: %v with %d delivered; want net.ErrClosed and none", err, delivered)
	}
}

// FuzzInboundSplit: on any stream, the messages delivered and the
// packets paho reads from what is passed on are, in order, the packets
// paho would read from the whole stream.
func FuzzInboundSplit(f *testing.F) {
	f.Add(bytes.Join(inboundStream, nil), 3)
	for _, p := range inboundStream {
		f.Add(p, 1)
	}
	f.Fuzz(func(t *testing.T, stream []byte, chunk int) {
		chunk = 1 + int(uint(chunk)%64)
		var ref []packets.ControlPacket
		var refErr error // paho refused a packet, which ends its reads
		for r := bytes.NewReader(stream); refErr == nil && r.Len() > 0; {
			var cp packets.ControlPacket
			if cp, refErr = packets.ReadPacket(r); refErr == nil {
				ref = append(ref, cp)
			}
		}
		msgs, passed, err := splitStream(stream, chunk)
		var got []packets.ControlPacket
		for r := bytes.NewReader(passed); ; {
			cp, err := packets.ReadPacket(r)
			if err != nil {
				break
			}
			got = append(got, cp)
		}
		// Merge: the references that are PUBLISH at QoS 0 or 1 must be
		// the messages, the others what paho read, in order.
		mi, gi := 0, 0
		for i, cp := range ref {
			p, ok := cp.(*packets.PublishPacket)
			if !ok || p.Qos > 1 {
				if gi >= len(got) {
					if err == nil || err == io.EOF {
						t.Fatalf("packet %d (%s) never reached paho", i, cp)
					}
					return // the splitter stopped at a packet paho took (it is stricter)
				}
				if cp.String() != got[gi].String() {
					t.Fatalf("packet %d: paho read %s, want %s", i, got[gi], cp)
				}
				gi++
				continue
			}
			if mi >= len(msgs) {
				if err == nil || err == io.EOF {
					t.Fatalf("PUBLISH %d never delivered", i)
				}
				return
			}
			m := msgs[mi]
			if m.Topic() != p.TopicName || !bytes.Equal(m.Payload(), p.Payload) || m.MessageID() != p.MessageID ||
				m.Qos() != p.Qos || m.Duplicate() != p.Dup || m.Retained() != p.Retain {
				t.Fatalf("PUBLISH %d delivered as %q %q id %d, want %s", i, m.Topic(), m.Payload(), m.MessageID(), p)
			}
			mi++
		}
		// Past a packet paho refuses, paho's reader stops: what follows is
		// never read.
		if refErr == nil && (mi != len(msgs) || gi != len(got)) {
			t.Fatalf("%d messages and %d packets for paho, beyond the %d packets of the stream", len(msgs), len(got), len(ref))
		}
	})
}

// TestInboundAllocs: the PUBLISH packets are allocated in chunks (at
// most one allocation for ten of them, here with one topic), and the other
// packets cost none once the buffer grew.
func TestInboundAllocs(t *testing.T) {
	stream := bytes.Repeat(bytes.Join(inboundStream[:3], nil), 100)
	r := bytes.NewReader(stream)
	c := &bufferedConn{r: bufio.NewReaderSize(r, 64<<10), deliver: func(*inboundMessage) {}}
	buf := make([]byte, 64)
	read := func() {
		r.Reset(stream)
		c.r.Reset(r)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}
	read()
	if n := testing.AllocsPerRun(20, read); n > 100/10 {
		t.Fatalf("%v allocations for 100 PUBLISH and 200 other packets, want at most 10", n)
	}
}

// TestInboundArena: the messages of one chunk are each their own: a
// payload appended to does not reach the next one, a topic kept is the
// same string for every message, and a large body has an allocation of
// its own.
func TestInboundArena(t *testing.T) {
	var a inboundArena
	p1, p2 := a.body(3), a.body(3)
	copy(p1, "abc")
	copy(p2, "def")
	_ = append(p1, 'X')
	if string(p2) != "def" || cap(p1) != 3 {
		t.Fatalf("appending to a body wrote %q into the next (cap %d)", p2, cap(p1))
	}
	if m1, m2 := a.message(), a.message(); m1 == m2 {
		t.Fatal("two messages share their memory")
	}
	s1, s2 := a.topic([]byte("ngic/v1/gw/g/status")), a.topic([]byte("ngic/v1/gw/g/status"))
	if s1 != s2 || unsafe.StringData(s1) != unsafe.StringData(s2) {
		t.Fatalf("a topic kept is allocated again: %q %q", s1, s2)
	}
	long := bytes.Repeat([]byte{'t'}, maxTopicLen+1)
	if a.topic(long) != string(long) || len(a.topics) != 1 {
		t.Fatalf("a topic of %d bytes kept: %d kept", len(long), len(a.topics))
	}
	for i := range maxTopics + 1 {
		a.topic([]byte{byte(i), byte(i >> 8)})
	}
	if len(a.topics) > maxTopics {
		t.Fatalf("%d topics kept, want at most %d", len(a.topics), maxTopics)
	}
	rest := len(a.bodies)
	if big := a.body(bodyChunk/4 + 1); len(big) != bodyChunk/4+1 || len(a.bodies) != rest {
		t.Fatalf("a body of %d bytes taken from the chunk (%d left of %d)", len(big), len(a.bodies), rest)
	}
}
