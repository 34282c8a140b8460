package main

import (
	"bytes"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/ngic/ngic/internal/testenv"
)

// getBulk is an SNMPv2c GETBULK of ifTable, request-id 7, as the load
// generator sends it.
var getBulk = []byte{
	0x30, 0x28, // message SEQUENCE, 40 bytes
	0x02, 0x01, 0x01, // version: 1 (v2c)
	0x04, 0x06, 'p', 'u', 'b', 'l', 'i', 'c', // community "public"
	0xa5, 0x1b, // GetBulkRequest-PDU, 27 bytes
	0x02, 0x04, 0x00, 0x00, 0x00, 0x07, // request-id 7
	0x02, 0x01, 0x00, // non-repeaters 0
	0x02, 0x01, 0x19, // max-repetitions 25
	0x30, 0x0d, // varbind list
	0x30, 0x0b, // varbind
	0x06, 0x07, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x02, 0x02, // 1.3.6.1.2.1.2.2 (ifTable)
	0x05, 0x00, // NULL
}

// Where getBulk's PDU tag and the last byte of its request-id are.
const (
	getBulkPDUAt = 13
	getBulkIDAt  = 20
)

// longGetBulk is getBulk to a community of 200 bytes: lengths in the
// long form.
var longGetBulk = slices.Concat(
	[]byte{
		0x30, 0x81, 0xeb, // message SEQUENCE, 235 bytes
		0x02, 0x01, 0x01, // version: 1 (v2c)
		0x04, 0x81, 0xc8, // community, 200 bytes:
	},
	bytes.Repeat([]byte{'c'}, 200),
	getBulk[getBulkPDUAt:], // the PDU, at 209
)

// withPDU is getBulk with PDU tag tag and request-id id.
func withPDU(tag, id byte) []byte {
	m := bytes.Clone(getBulk)
	m[getBulkPDUAt], m[getBulkIDAt] = tag, id
	return m
}

// responseTo is msg with its PDU tag, at at, made a Response's.
func responseTo(msg []byte, at int) []byte {
	r := bytes.Clone(msg)
	r[at] = 0xa2
	return r
}

// startEcho compiles and starts the C echo until the test ends.
func startEcho(t testing.TB) netip.AddrPort {
	t.Helper()
	bin := buildEcho(t)
	s, err := SimOpts{Start: testenv.Start}.startServer(t.Context(), bin, []string{"0"}, netip.AddrPort{}, "public")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s.Addr
}

// exchange sends msgs in order from a socket of its own and returns the
// first want replies, failing t after 30 s without them.
func exchange(t testing.TB, echo netip.AddrPort, want int, msgs ...[]byte) [][]byte {
	t.Helper()
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(echo))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, m := range msgs {
		if _, err := conn.Write(m); err != nil {
			t.Fatalf("send %x: %v", m, err)
		}
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var out [][]byte
	buf := make([]byte, 65536)
	for len(out) < want {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("reply %d of %d: %v", len(out)+1, want, err)
		}
		out = append(out, bytes.Clone(buf[:n]))
	}
	return out
}

// TestEchoAnswersGetBulkOnly: the echo sends a GETBULK back as a Response,
// also with lengths in the long form, and drops anything else. A dropped
// message is followed by a GETBULK whose answer must come first: the
// echo answers in order, so that proves nothing came for the first.
func TestEchoAnswersGetBulkOnly(t *testing.T) {
	echo := startEcho(t)
	marker := withPDU(0xa5, 99)
	markerAnswer := responseTo(marker, getBulkPDUAt)
	for name, c := range map[string]struct {
		msg, answer []byte
	}{
		"getbulk":                          {getBulk, responseTo(getBulk, getBulkPDUAt)},
		"long community":                   {longGetBulk, responseTo(longGetBulk, 209)},
		"get":                              {withPDU(0xa0, 9), nil},
		"response":                         {responseTo(getBulk, getBulkPDUAt), nil},
		"cut in the community":             {getBulk[:10], nil},
		"message longer than the datagram": {append([]byte{0x30, 0x7f}, getBulk[2:]...), nil},
		"length of 4 bytes":                {append([]byte{0x30, 0x84, 0, 0, 0, 0x28}, getBulk[2:]...), nil},
		"not BER":                          {[]byte("hello"), nil},
		"empty":                            {[]byte{}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			if c.answer == nil {
				if got := exchange(t, echo, 1, c.msg, marker)[0]; !bytes.Equal(got, markerAnswer) {
					t.Fatalf("answered % x, want nothing", got)
				}
				return
			}
			if got := exchange(t, echo, 1, c.msg)[0]; !bytes.Equal(got, c.answer) {
				t.Fatalf("answered\n% x\nwant\n% x", got, c.answer)
			}
		})
	}
}

// FuzzUDPEcho sends the C echo any datagram and then a GETBULK: the echo
// answers the datagram with nothing or with the datagram itself, one 0xa5
// byte made 0xa2, and still answers the GETBULK after it.
func FuzzUDPEcho(f *testing.F) {
	f.Add(getBulk)
	f.Add(getBulk[:20])
	f.Add(longGetBulk)
	f.Add([]byte{0x30, 0x81})
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	echo := startEcho(f)
	marker := withPDU(0xa5, 99)
	markerAnswer := responseTo(marker, getBulkPDUAt)
	f.Fuzz(func(t *testing.T, msg []byte) {
		if len(msg) > 60000 {
			t.Skip("larger than a loopback datagram may be")
		}
		got := exchange(t, echo, 1, msg, marker)[0]
		if bytes.Equal(got, markerAnswer) {
			return // msg dropped (or msg was the marker)
		}
		if !oneTagChanged(msg, got) {
			t.Fatalf("answered % x\nto % x", got, msg)
		}
		if got = exchange(t, echo, 1, marker)[0]; !bytes.Equal(got, markerAnswer) {
			t.Fatalf("then answered % x to the marker", got)
		}
	})
}

// oneTagChanged reports whether answer is msg with one 0xa5 byte made
// 0xa2.
func oneTagChanged(msg, answer []byte) bool {
	if len(msg) != len(answer) {
		return false
	}
	diff := 0
	for i := range msg {
		if msg[i] != answer[i] {
			if msg[i] != 0xa5 || answer[i] != 0xa2 {
				return false
			}
			diff++
		}
	}
	return diff == 1
}
