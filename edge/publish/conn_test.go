package publish

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// countingConn counts the writes that reach it and holds the first one
// until release is closed.
type countingConn struct {
	net.Conn
	writes  atomic.Int64
	release chan struct{}
}

func (c *countingConn) Write(p []byte) (int, error) {
	if c.writes.Add(1) == 1 {
		<-c.release
	}
	return c.Conn.Write(p)
}

// TestCoalescingConnBatches: packets written while the socket is busy go
// out together, every byte in order, and the reads come back through the
// buffer.
func TestCoalescingConnBatches(t *testing.T) {
	a, b := net.Pipe()
	cc := &countingConn{Conn: a, release: make(chan struct{})}
	c := newCoalescingConn(cc, 10*time.Second)
	defer c.Close()
	var want bytes.Buffer
	got := make(chan []byte, 1)
	const n = 1000
	go func() {
		buf := make([]byte, 0, n*8)
		tmp := make([]byte, 4096)
		for len(buf) < n*8 {
			k, err := b.Read(tmp)
			if err != nil {
				break
			}
			buf = append(buf, tmp[:k]...)
		}
		got <- buf
	}()
	for i := range n {
		p := []byte{'p', 'k', 't', byte(i >> 8), byte(i), 0, 0, '\n'}
		want.Write(p)
		if k, err := c.Write(p); err != nil || k != len(p) {
			t.Fatalf("write %d: %d, %v", i, k, err)
		}
	}
	close(cc.release) // the first write was held: the rest piled up
	select {
	case buf := <-got:
		if !bytes.Equal(buf, want.Bytes()) {
			t.Fatalf("the peer read %d bytes, not the %d written in order", len(buf), want.Len())
		}
	case <-time.After(time.Minute):
		t.Fatal("the peer did not get every byte within a minute")
	}
	if w := cc.writes.Load(); w > 3 {
		t.Fatalf("%d packets took %d writes to the socket, want at most 3", n, w)
	}
	go b.Write([]byte("puback"))
	r := make([]byte, 6)
	if _, err := io.ReadFull(c, r); err != nil || string(r) != "puback" {
		t.Fatalf("read %q, %v", r, err)
	}
}

// TestCoalescingConnFailure: a socket that fails ends the writer, closes
// the connection, and makes the next Write fail.
func TestCoalescingConnFailure(t *testing.T) {
	a, b := net.Pipe()
	c := newCoalescingConn(a, 10*time.Second)
	defer c.Close()
	b.Close() // the broker went away
	if _, err := c.Write([]byte("publish")); err != nil {
		t.Fatalf("a write before the failure is known: %v", err)
	}
	select {
	case <-c.done:
	case <-time.After(time.Minute):
		t.Fatal("the writer did not end within a minute of the failure")
	}
	if _, err := c.Write([]byte("publish")); err == nil || errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after the failure: %v, want the socket's error", err)
	}
	if _, err := a.Write([]byte{1}); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("the socket is not closed: %v", err)
	}
}

// TestCoalescingConnCloseFlushes: Close writes what is pending (the
// client's DISCONNECT) before closing, and later writes fail.
func TestCoalescingConnCloseFlushes(t *testing.T) {
	a, b := net.Pipe()
	c := newCoalescingConn(a, 10*time.Second)
	got := make(chan []byte, 1)
	go func() {
		buf, _ := io.ReadAll(b)
		got <- buf
	}()
	if _, err := c.Write([]byte{0xE0, 0x00}); err != nil { // DISCONNECT
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case buf := <-got:
		if !bytes.Equal(buf, []byte{0xE0, 0x00}) {
			t.Fatalf("the peer read %x before the close, want e000", buf)
		}
	case <-time.After(time.Minute):
		t.Fatal("the peer saw no close within a minute")
	}
	if _, err := c.Write([]byte{1}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after close: %v, want net.ErrClosed", err)
	}
}
