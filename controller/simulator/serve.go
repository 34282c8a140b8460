package simulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ngic/ngic/controller/simulator/internal/mmsg"
)

// readBuffer is the receive buffer Serve asks for: room for about a
// thousand requests arriving while a batch is being answered.
const readBuffer = 1 << 20

// Serve answers requests arriving on conn until ctx ends (it then returns
// nil) or conn fails (it returns the error). It runs Options.Workers
// goroutines, each reading up to Options.Batch datagrams per system call
// where the system allows.
//
// On Linux, for a *net.UDPConn, the workers read sockets of their own,
// one each, that take over conn's address (mmsg.Take: SO_REUSEPORT, a
// steering program, datagrams spread by CPU) and wait for requests in
// the kernel rather than in the Go runtime's network poller: a light
// load does not pay the poller's wake-ups. conn gets the address back
// when Serve returns; meanwhile conn gets no datagram, and Serve returns
// soon after conn is closed.
//
// Elsewhere, or when conn cannot be taken over (connected, bound to a
// device, already sharing its address), the workers read conn itself;
// batch workers beyond the first wait idle until a full batch shows a
// backlog. Serve does not close conn; it sets conn's read deadline to stop
// the workers. On Linux it raises the socket's receive buffer to 1 MiB if
// it is smaller (within net.core.rmem_max).
func (s *Simulator) Serve(ctx context.Context, conn net.PacketConn) error {
	_ = mmsg.GrowReadBuffer(conn, readBuffer) // fewer drops; not needed to serve
	if s.opts.Batch > 1 {
		if g, err := mmsg.Take(conn, s.workers(true), readBuffer, blockWait); err == nil {
			return s.serveGroup(ctx, conn, g)
		}
	}
	stop := make(chan struct{})
	var once sync.Once
	halt := func() {
		once.Do(func() {
			close(stop)
			_ = conn.SetReadDeadline(time.Unix(1, 0))
		})
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			halt()
		case <-done:
		}
	}()
	c := &crew{wake: make(chan struct{}), quit: stop}
	workers := s.workers(false)
	c.active.Store(int32(workers))
	errc := make(chan error, workers)
	for range workers {
		go func() { errc <- s.worker(ctx, conn, c) }()
	}
	var first error
	for range workers {
		if err := <-errc; err != nil && first == nil {
			first = err
			halt()
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return first
}

// workers is Options.Workers, or its default for workers that wait in
// the kernel (inKernel) or in the runtime's poller.
func (s *Simulator) workers(inKernel bool) int {
	switch n := runtime.GOMAXPROCS(0); {
	case s.opts.Workers > 0:
		return s.opts.Workers
	case inKernel:
		return max(1, n-1)
	default:
		return n
	}
}

// crew lets batch workers that share a socket take turns: the socket
// reads one batch at a time anyway, and a second worker waiting to read
// costs a wake-up and an empty read per batch. A worker whose batch was
// not full goes idle while another works; a full batch wakes one.
type crew struct {
	active atomic.Int32  // workers not idle
	wake   chan struct{} // an idle worker takes a send as its call to work
	quit   <-chan struct{}
}

// after is called by a worker after a batch of n requests of full: it
// returns at once, or after idling until woken; stop is true when Serve is
// stopping instead.
func (c *crew) after(n, full int) (stop bool) {
	if n >= full {
		select {
		case c.wake <- struct{}{}: // a backlog: one more worker reads
		default:
		}
		return false
	}
	for {
		a := c.active.Load()
		if a <= 1 {
			return false // the last worker always reads
		}
		if c.active.CompareAndSwap(a, a-1) {
			break
		}
	}
	select {
	case <-c.wake:
		c.active.Add(1)
		return false
	case <-c.quit:
		return true
	}
}

// worker serves conn in batches, or one datagram at a time where batches
// are unavailable or Options.Batch is 1.
func (s *Simulator) worker(ctx context.Context, conn net.PacketConn, c *crew) error {
	if s.opts.Batch > 1 {
		w, err := s.newBatchWorker(func(n, size int) (*mmsg.Batch, error) { return mmsg.New(conn, n, size) })
		if err == nil {
			return w.run(ctx, c)
		}
		if !errors.Is(err, mmsg.ErrUnsupported) {
			return err
		}
	}
	return s.plainWorker(ctx, conn)
}

// readFailed sorts a read error: a worker stops (returning ret) when ctx
// has ended (ret nil), the socket is closed or its deadline passed, and
// carries on after anything else (an ICMP error reported on the socket).
func readFailed(ctx context.Context, err error) (stop bool, ret error) {
	if ctx.Err() != nil {
		return true, nil
	}
	var ne net.Error
	if errors.Is(err, net.ErrClosed) || (errors.As(err, &ne) && ne.Timeout()) {
		return true, fmt.Errorf("simulator: read: %w", err)
	}
	return false, nil
}

// plainWorker reads, answers and writes one datagram per system call
// with its own buffers.
func (s *Simulator) plainWorker(ctx context.Context, conn net.PacketConn) error {
	in := make([]byte, 65536)
	out := make([]byte, 0, 65536+1024)
	udp, _ := conn.(*net.UDPConn)
	for {
		var n int
		var err error
		var ap netip.AddrPort
		var addr net.Addr
		if udp != nil {
			n, ap, err = udp.ReadFromUDPAddrPort(in)
		} else {
			n, addr, err = conn.ReadFrom(in)
		}
		if err != nil {
			if stop, ret := readFailed(ctx, err); stop {
				return ret
			}
			continue
		}
		resp := s.HandlePacket(out, in[:n])
		if resp == nil {
			continue
		}
		if udp != nil {
			_, _ = udp.WriteToUDPAddrPort(resp, ap)
		} else {
			_, _ = conn.WriteTo(resp, addr)
		}
	}
}

// batchWorker answers a batch of datagrams per pair of system calls.
type batchWorker struct {
	s   *Simulator
	in  *mmsg.Batch // requests, with whole-datagram buffers
	out *mmsg.Batch // answers, built in its buffers
}

// newBatchWorker allocates a worker's batches with batch (mmsg.New on a
// socket, or a Group's Batch): mmsg.ErrUnsupported where the system or
// the socket has no batched calls.
func (s *Simulator) newBatchWorker(batch func(n, size int) (*mmsg.Batch, error)) (*batchWorker, error) {
	// A slot holds the largest UDP payload, so no request is cut: 4 MiB
	// of address space for 64 slots, of which a datagram of a few dozen
	// bytes makes the kernel write one page.
	in, err := batch(s.opts.Batch, 65536)
	if err != nil {
		return nil, err
	}
	// Room for HandlePacket's headers and overshoot past the limit, so
	// that answers to ordinary requests do not allocate.
	out, err := batch(s.opts.Batch, s.opts.MaxMessageSize+2048)
	if err != nil {
		return nil, err
	}
	return &batchWorker{s: s, in: in, out: out}, nil
}

// run serves until the socket fails or ctx ends, as plainWorker, taking
// turns with the other workers of c.
func (w *batchWorker) run(ctx context.Context, c *crew) error {
	for {
		n, err := w.step(w.in.Recv)
		if err != nil {
			if stop, ret := readFailed(ctx, err); stop {
				return ret
			}
		}
		if c.after(n, w.in.Len()) {
			return nil
		}
	}
}

// step reads one batch of requests, n of them, with recv (the batch's
// Recv or RecvWait) and sends their answers in one batch. A datagram the
// kernel refuses to send is dropped, as plainWorker drops it; the error
// is the read's.
func (w *batchWorker) step(recv func() (int, error)) (n int, err error) {
	if n, err = recv(); err != nil {
		return 0, err
	}
	k := 0
	el := w.s.elapsed()
	for i := range n {
		resp := w.s.handle(w.out.Buffer(k)[:0], w.in.Message(i), el)
		if resp == nil {
			continue
		}
		w.out.SetMessage(k, resp)
		w.out.ReplyTo(k, w.in, i)
		k++
	}
	if k > 0 {
		_, _ = w.out.Send(k)
	}
	return n, nil
}
