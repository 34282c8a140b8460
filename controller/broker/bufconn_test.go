package broker

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client *bufferedConn, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	client = &bufferedConn{Conn: c, r: bufio.NewReaderSize(c, readBufferSize), w: bufio.NewWriterSize(c, writeBufferSize)}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// TestBufferedConnWrites: writes made together reach the peer whole and in
// order within the write delay, without a flush by the caller; reads come
// through the buffer; Close sends what is buffered.
func TestBufferedConnWrites(t *testing.T) {
	c, s := tcpPair(t)
	acks := []byte{}
	for i := 0; i < 100; i++ {
		ack := []byte{0x40, 0x02, 0, byte(i)} // PUBACK of packet i
		acks = append(acks, ack...)
		if n, err := c.Write(ack); err != nil || n != len(ack) {
			t.Fatalf("write %d: %d, %v", i, n, err)
		}
	}
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, len(acks))
	if _, err := io.ReadFull(s, got); err != nil {
		t.Fatalf("the peer got %d bytes: %v", len(got), err)
	}
	if string(got) != string(acks) {
		t.Fatal("the peer got the writes out of order or changed")
	}

	if _, err := s.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("read %q, %v", buf, err)
	}

	c.Write([]byte{0xe0, 0x00}) // DISCONNECT, then Close at once
	c.Close()
	end, _ := io.ReadAll(s)
	if string(end) != "\xe0\x00" {
		t.Fatalf("after Close the peer got %q, want the buffered DISCONNECT", end)
	}
	if _, err := c.Write([]byte{1}); err == nil {
		t.Fatal("a write after Close succeeded")
	}
}

// TestBufferedConnFailedFlush: when the peer is gone, a flush fails, the
// connection is closed (so paho's reader sees it) and later writes fail.
func TestBufferedConnFailedFlush(t *testing.T) {
	c, s := tcpPair(t)
	s.(*net.TCPConn).SetLinger(0)
	s.Close() // a reset: writes to it fail
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.Write(make([]byte, 1024))
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("writes to a reset connection kept succeeding")
		}
		time.Sleep(time.Millisecond)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("a read on the failed connection succeeded")
	}
}

// TestPacedReader: a read that drained the connection (found less than
// it asked for) makes the next one wait pause() first; a read that
// filled its buffer does not.
func TestPacedReader(t *testing.T) {
	var waits []time.Duration
	steps := []struct{ chunk, buf int }{
		{100, 64 << 10},      // drained
		{64 << 10, 64 << 10}, // filled: a backlog
		{10, 10},             // filled
		{5, 64 << 10},        // drained
		{5, 64 << 10},
	}
	var chunks [][]byte
	for _, s := range steps {
		chunks = append(chunks, make([]byte, s.chunk))
	}
	const pause = 3 * time.Millisecond
	p := &pacedReader{r: &chunkReader{chunks: chunks}, sleep: func(d time.Duration) { waits = append(waits, d) },
		pause: func() time.Duration { return pause }}
	var got []int
	for _, s := range steps {
		if _, err := p.Read(make([]byte, s.buf)); err != nil {
			t.Fatal(err)
		}
		got = append(got, len(waits))
	}
	// Waits before each read: none, one (after 100 of 64 KiB), none
	// (after a full buffer), none, one (after 5 of 64 KiB).
	if want := []int{0, 1, 1, 1, 2}; fmt.Sprint(got) != fmt.Sprint(want) || waits[0] != pause {
		t.Fatalf("waits before the reads %v (%v), want %v of %v", got, waits, want, pause)
	}
}

// TestReadPause: after a drained read the reader waits until readLead
// before the next batch is due, never longer than MaxDelay, and readLead
// when no batch is due later.
func TestReadPause(t *testing.T) {
	for _, c := range []struct {
		name     string
		maxDelay time.Duration
		due      time.Duration // from now; 0: never set
		min, max time.Duration
	}{
		{"no batch yet", 20 * time.Millisecond, 0, readLead, readLead},
		{"batch due in 20 ms", 20 * time.Millisecond, 20 * time.Millisecond, 15 * time.Millisecond, 19 * time.Millisecond},
		{"batch due now", 20 * time.Millisecond, readLead / 2, readLead, readLead},
		{"batch overdue", 20 * time.Millisecond, -time.Second, readLead, readLead},
		{"due past MaxDelay", 20 * time.Millisecond, time.Hour, 20 * time.Millisecond, 20 * time.Millisecond},
		{"no wait", -1, -1, readLead, readLead},
	} {
		s := &Subscriber{o: Options{MaxDelay: c.maxDelay}, epoch: time.Now().Add(-time.Hour)}
		if c.due != 0 {
			s.due.Store(int64(time.Since(s.epoch) + c.due))
		}
		if d := s.readPause(); d < c.min || d > c.max {
			t.Errorf("%s: pause %v, want %v..%v", c.name, d, c.min, c.max)
		}
	}
}

// chunkReader returns one chunk per Read.
type chunkReader struct{ chunks [][]byte }

func (c *chunkReader) Read(b []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(b, c.chunks[0])
	c.chunks = c.chunks[1:]
	return n, nil
}
