package simulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"golang.org/x/sys/unix"

	"github.com/ngic/ngic/controller/simulator/internal/mmsg"
	"github.com/ngic/ngic/controller/snmprec"
)

// recordedRequests are the requests both serving paths must answer alike:
// GET, GETNEXT, GETBULK and SET of v1 and v2c to every agent, a 40 KB
// GET, requests to unknown communities, cut and hostile datagrams. The
// last is a sentinel with an answer.
func recordedRequests(t *testing.T, s *Simulator) [][]byte {
	t.Helper()
	msg := func(v gosnmp.SnmpVersion, pdu gosnmp.PDUType, community string, id uint32, nonRep uint8, maxRep uint32, oids ...string) []byte {
		return marshalRequest(t, v, pdu, community, id, nonRep, maxRep, oids...)
	}
	var reqs [][]byte
	id := uint32(1)
	for _, c := range s.Devices() {
		for _, v := range []gosnmp.SnmpVersion{gosnmp.Version1, gosnmp.Version2c} {
			id++
			reqs = append(reqs,
				msg(v, gosnmp.GetRequest, c, id, 0, 0, ".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.1.3.0", ".1.3.6.1.2.1.2.2.1.10.1", ".1.3.6.1.9.9"),
				msg(v, gosnmp.GetNextRequest, c, id*3, 0, 0, ".1.3.6.1.2.1.2.2.1.10", ".1.3.6.1.2.1.31.1.1.1.6", ".1.3.6.1.99"),
				msg(v, gosnmp.GetBulkRequest, c, id*5, 1, 25, ".1.3.6.1.2.1.1", ".1.3.6.1.2.1.2.2"),
				msg(v, gosnmp.GetBulkRequest, c, id*7, 0, 200, ".1.3.6.1.2.1.31.1.1"),
				msg(v, gosnmp.SetRequest, c, id*11, 0, 0, ".1.3.6.1.2.1.1.5.0"))
		}
	}
	oids := make([]string, 3000)
	for i := range oids {
		oids[i] = ".1.3.6.1.2.1.1.1.0"
	}
	dev := s.Devices()[0]
	big := msg(gosnmp.Version2c, gosnmp.GetRequest, dev, 99, 0, 0, oids...)
	if len(big) < 40000 {
		t.Fatalf("large request of %d bytes", len(big))
	}
	reqs = append(reqs, big, msg(gosnmp.Version2c, gosnmp.GetRequest, "nobody", 5, 0, 0, ".1.3.6.1.2.1.1.1.0"),
		setBadInteger, getSysUpTime, nil, []byte{0x30}, bytes.Repeat([]byte{0x30, 0x84}, 100))
	bulk := msg(gosnmp.Version2c, gosnmp.GetBulkRequest, dev, 1234, 0, 25, ".1.3.6.1.2.1.2.2")
	for n := range len(bulk) {
		reqs = append(reqs, bulk[:n])
	}
	return append(reqs, msg(gosnmp.Version2c, gosnmp.GetRequest, dev, 0x7fffabcd, 0, 0, ".1.3.6.1.2.1.1.3.0"))
}

// serveOn runs s on a fresh socket of network ("udp4", "udp6") until the
// test ends, on conn wrapped by wrap if not nil, and returns its address.
func serveOn(t *testing.T, s *Simulator, network string, wrap func(net.PacketConn) net.PacketConn) netip.AddrPort {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "udp6" {
		addr = "[::1]:0"
	}
	conn, err := net.ListenPacket(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	var pc net.PacketConn = conn
	if wrap != nil {
		pc = wrap(conn)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, pc) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve returned %v after cancel", err)
		}
		conn.Close()
	})
	return conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// exchange sends reqs to addr in bursts of burst datagrams and returns
// the answers in the order they came, want of them in all.
func exchange(t *testing.T, addr netip.AddrPort, reqs [][]byte, want []int, burst int) [][]byte {
	t.Helper()
	c, err := net.ListenUDP("udp", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got [][]byte
	buf := make([]byte, 65536)
	for i := 0; i < len(reqs); i += burst {
		end := min(i+burst, len(reqs))
		for _, r := range reqs[i:end] {
			if _, err := c.WriteToUDPAddrPort(r, addr); err != nil {
				t.Fatal(err)
			}
		}
		for range want[end] - want[i] {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("after request %d: %d answers of %d: %v", end, len(got), want[len(reqs)], err)
			}
			got = append(got, bytes.Clone(buf[:n]))
		}
	}
	return got
}

// TestBatchedAnswersAsPlain sends the same recorded requests, in bursts
// that batches read many at a time, to a simulator serving one datagram
// per system call and to one serving batches: both answer each request
// byte for byte as HandlePacket does, in order, and nothing more.
func TestBatchedAnswersAsPlain(t *testing.T) {
	plain, clk := loadAll(t)
	batched, _ := loadAll(t)
	plain.opts.Batch, plain.opts.Workers = 1, 1
	batched.opts.Now, batched.opts.Workers, batched.start = clk.now, 1, plain.start
	reqs := recordedRequests(t, plain)
	var want [][]byte
	count := make([]int, len(reqs)+1) // answers to reqs[:i]
	for i, r := range reqs {
		count[i+1] = count[i]
		if a := plain.HandlePacket(nil, r); a != nil {
			want = append(want, a)
			count[i+1]++
		}
	}
	if len(want) < len(reqs)/2 || !bytes.Contains(want[len(want)-1], []byte{0x7f, 0xff, 0xab, 0xcd}) {
		t.Fatalf("%d answers to %d requests, the last not the sentinel's", len(want), len(reqs))
	}
	t.Logf("%d requests, %d answers", len(reqs), len(want))
	for _, c := range []struct {
		name  string
		s     *Simulator
		burst int
		wrap  func(net.PacketConn) net.PacketConn
	}{{"plain", plain, 40, nil}, {"batched", batched, 40, nil}, {"batched, one at a time", batched, 1, nil},
		{"batched on the socket itself", batched, 40, shareAddress}} {
		t.Run(c.name, func(t *testing.T) {
			got := exchange(t, serveOn(t, c.s, "udp4", c.wrap), reqs, count, c.burst)
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("answer %d of %d differs:\n got % x\nwant % x", i, len(want), got[i], want[i])
				}
			}
		})
	}
}

// packetConn hides a socket's type, so that Serve cannot batch.
type packetConn struct{ net.PacketConn }

// shareAddress sets SO_REUSEPORT on a *net.UDPConn, as a socket sharing
// its address with others has it: Serve cannot take such a socket over
// and reads it itself, through the Go runtime's poller.
func shareAddress(c net.PacketConn) net.PacketConn {
	rc, err := c.(*net.UDPConn).SyscallConn()
	var serr error
	if err == nil {
		err = rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1) })
	}
	if err = errors.Join(err, serr); err != nil {
		panic(err) // a test's own socket
	}
	return c
}

// TestServePaths: a batching simulator answers over IPv4 and IPv6, over a
// net.PacketConn that is not a *net.UDPConn (one datagram at a time), and
// over a socket it cannot take over (reading it itself).
func TestServePaths(t *testing.T) {
	for _, c := range []struct {
		name    string
		network string
		wrap    func(net.PacketConn) net.PacketConn
	}{
		{"IPv4", "udp4", nil},
		{"IPv6", "udp6", nil},
		{"any PacketConn", "udp4", func(c net.PacketConn) net.PacketConn { return packetConn{c} }},
		{"socket shared", "udp4", shareAddress},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, _ := loadAll(t)
			ap := serveOn(t, s, c.network, c.wrap)
			g := &gosnmp.GoSNMP{Target: ap.Addr().String(), Port: ap.Port(), Community: "huawei_ma5603t",
				Version: gosnmp.Version2c, Timeout: 5 * time.Second, Retries: 1, Context: context.Background()}
			if err := g.Connect(); err != nil {
				t.Fatal(err)
			}
			defer g.Conn.Close()
			res, err := g.GetBulk([]string{".1.3.6.1.2.1.2.2"}, 0, 25)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Variables) != 25 {
				t.Errorf("%d varbinds, want 25", len(res.Variables))
			}
		})
	}
}

// TestBatchAllocs: once its batches exist, a worker reads a burst of
// GETBULKs in one system call, answers them and writes the answers without
// allocating, whether it reads a socket through the runtime's poller or a
// socket of a group that took the address over.
func TestBatchAllocs(t *testing.T) {
	for _, group := range []bool{false, true} {
		t.Run(fmt.Sprintf("group=%v", group), func(t *testing.T) { testBatchAllocs(t, group) })
	}
}

func testBatchAllocs(t *testing.T, group bool) {
	s, _ := loadAll(t)
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	batch := func(n, size int) (*mmsg.Batch, error) { return mmsg.New(conn, n, size) }
	if group {
		g, err := mmsg.Take(conn, 1, readBuffer, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		batch = func(n, size int) (*mmsg.Batch, error) { return g.Batch(0, n, size) }
	}
	w, err := s.newBatchWorker(batch)
	if err != nil {
		t.Fatal(err)
	}
	recv := w.in.Recv
	if group {
		recv = w.in.RecvWait
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := bulkIfTable(t, "huawei_ma5603t")
	to := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	buf := make([]byte, 65536)
	const burst = 32
	round := func() {
		for range burst {
			if _, err := c.WriteToUDPAddrPort(req, to); err != nil {
				t.Fatal(err)
			}
		}
		// Loopback queues a datagram as it is sent: one read takes all.
		if n, err := w.step(recv); err != nil || n != burst {
			t.Fatalf("one batch read %d requests of %d (%v)", n, burst, err)
		}
		for range burst {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Read(buf); err != nil {
				t.Fatal(err)
			}
		}
	}
	round()
	if a := testing.AllocsPerRun(20, round); a != 0 {
		t.Errorf("%.1f allocations per batch of %d GETBULKs, want 0", a, burst)
	}
}

// TestServeStops: Serve stops whether ctx ends or the socket is closed,
// with more workers than work, reading a group of sockets that took the
// socket's address over (which it gives back: the socket then gets
// datagrams again) or, for a socket it cannot take over, the socket
// itself, whose idle workers are woken by bursts.
func TestServeStops(t *testing.T) {
	for _, group := range []bool{true, false} {
		for _, byClose := range []bool{false, true} {
			t.Run(fmt.Sprintf("group=%v/close=%v", group, byClose), func(t *testing.T) { testServeStops(t, group, byClose) })
		}
	}
}

func testServeStops(t *testing.T, group, byClose bool) {
	s, _ := loadAll(t)
	s.opts.Workers, s.opts.Batch = 4, 8 // bursts of 64 fill batches
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if !group {
		shareAddress(conn)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, conn) }()
	req := bulkIfTable(t, "huawei_ma5603t")
	reqs := make([][]byte, 600)
	count := make([]int, len(reqs)+1)
	for i := range reqs {
		reqs[i], count[i+1] = req, i+1
	}
	to := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	exchange(t, to, reqs, count, 64)
	if byClose {
		conn.Close()
	} else {
		cancel()
	}
	select {
	case err := <-done:
		if (err != nil) != byClose || (byClose && !errors.Is(err, net.ErrClosed)) {
			t.Errorf("Serve returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return")
	}
	if byClose {
		return
	}
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(to))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if n, err := conn.Read(buf); err != nil || !bytes.Equal(buf[:n], req) {
		t.Errorf("after Serve the socket read % x (%v), want the request", buf[:n], err)
	}
}

// TestServeAnswersWhatWasQueued: requests that reached the socket before
// Serve took its address over are answered too.
func TestServeAnswersWhatWasQueued(t *testing.T) {
	s, _ := loadAll(t)
	s.opts.Batch = 4
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, err := net.DialUDP("udp4", nil, conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const queued = 10 // more than a batch
	for i := range queued {
		req := marshalRequest(t, gosnmp.Version2c, gosnmp.GetRequest, "huawei_ma5603t", uint32(100+i), 0, 0, ".1.3.6.1.2.1.1.3.0")
		if _, err := c.Write(req); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, conn) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	ids := make(map[uint32]bool)
	buf := make([]byte, 65536)
	for len(ids) < queued {
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("%d answers of %d: %v", len(ids), queued, err)
		}
		ids[decodeResp(t, buf[:n]).RequestID] = true
	}
	for i := range queued {
		if !ids[uint32(100+i)] {
			t.Errorf("no answer to request %d", 100+i)
		}
	}
}

// TestBatchOption: Batch defaults to DefaultOptions.Batch and must be
// 1..1024.
func TestBatchOption(t *testing.T) {
	v, _ := snmprec.Parse("dev", []byte(small))
	devs := map[string]*snmprec.View{"dev": v}
	s, err := New(devs, Options{})
	if err != nil || s.opts.Batch != DefaultOptions.Batch {
		t.Fatalf("default Batch: %v, %v", s, err)
	}
	for _, b := range []int{-1, 1025} {
		if _, err := New(devs, Options{Batch: b}); err == nil || !strings.Contains(err.Error(), "Batch") {
			t.Errorf("Batch %d: %v", b, err)
		}
	}
}
