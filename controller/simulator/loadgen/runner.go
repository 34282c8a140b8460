package loadgen

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/ngic/ngic/controller/simulator/internal/mmsg"
)

// slot is one request in flight.
type slot struct {
	id       int64         // its request-id
	deadline time.Duration // when it times out, since the start
	busy     bool
}

// runner drives one socket's share of the requests in flight.
type runner struct {
	sh    *shared
	conn  *net.UDPConn
	in    *mmsg.Batch // answers
	out   *mmsg.Batch // requests, built in its buffers
	slots []slot
	tmpl  []template
	next  int   // the community of the next request
	gen   int64 // request-id = gen<<slotBits | slot
	queue int   // requests set in out, not yet sent
	res   Result
}

// newRunner prepares a socket with n slots; first staggers the
// communities between sockets.
func newRunner(sh *shared, conn *net.UDPConn, n int, tmpl []template, first int) (*runner, error) {
	in, err := mmsg.New(conn, min(sh.opts.Batch, n), 65536)
	if err != nil {
		return nil, err
	}
	size := 0
	for _, t := range tmpl {
		size = max(size, len(t.msg))
	}
	out, err := mmsg.New(conn, n, size)
	if err != nil {
		return nil, err
	}
	for i := range n {
		out.SetAddr(i, sh.opts.Target)
	}
	return &runner{sh: sh, conn: conn, in: in, out: out, slots: make([]slot, n), tmpl: tmpl,
		next: first % len(tmpl)}, nil
}

// run sends the first requests, then answers each answer or timeout with
// the next request, until none is in flight.
func (r *runner) run(ctx context.Context) error {
	now := time.Since(r.sh.start)
	for i := range r.slots {
		r.issue(i, now)
	}
	err := r.flush()
	for err == nil && ctx.Err() == nil {
		earliest, busy := r.earliest()
		if !busy {
			break
		}
		if err = r.conn.SetReadDeadline(r.sh.start.Add(earliest)); err != nil {
			break
		}
		n, rerr := r.in.Recv()
		now = time.Since(r.sh.start)
		var ne net.Error
		switch {
		case rerr == nil:
			r.answers(n, now)
		case errors.As(rerr, &ne) && ne.Timeout():
		case errors.Is(rerr, net.ErrClosed):
			err = rerr
		}
		if now >= earliest {
			r.expire(now)
		}
		if err == nil {
			err = r.flush()
		}
	}
	return err
}

// issue sends the next request from slot i, if the run may send one.
func (r *runner) issue(i int, now time.Duration) {
	s := &r.slots[i]
	s.busy = false
	if !r.sh.mayIssue(now) {
		return
	}
	r.gen++
	t := &r.tmpl[r.next]
	r.next = (r.next + 1) % len(r.tmpl)
	s.id = (r.gen<<slotBits | int64(i)) & 0x7fffffff
	s.deadline = now + r.sh.opts.Timeout
	s.busy = true
	buf := r.out.Buffer(r.queue)[:len(t.msg)]
	copy(buf, t.msg)
	buf[t.idAt], buf[t.idAt+1], buf[t.idAt+2], buf[t.idAt+3] = byte(s.id>>24), byte(s.id>>16), byte(s.id>>8), byte(s.id)
	r.out.SetMessage(r.queue, buf)
	r.queue++
	r.res.Sent++
}

// flush sends the queued requests.
func (r *runner) flush() error {
	if r.queue == 0 {
		return nil
	}
	_, err := r.out.Send(r.queue)
	r.queue = 0
	if errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil // a refused request times out
}

// answers counts n received datagrams and replaces the requests answered.
func (r *runner) answers(n int, now time.Duration) {
	for j := range n {
		id, vb, ok := parseAnswer(r.in.Message(j))
		i := int(id & (maxSlots - 1))
		switch {
		case !ok || id < 0 || i >= len(r.slots):
			r.res.Malformed++
		case !r.slots[i].busy || r.slots[i].id != id:
			r.res.Late++ // an earlier request of the slot, timed out
		default:
			r.res.Answers++
			r.res.Varbinds += int64(vb)
			r.res.Elapsed = now
			r.issue(i, now)
		}
	}
}

// expire counts and replaces the requests whose time is up.
func (r *runner) expire(now time.Duration) {
	for i := range r.slots {
		if s := &r.slots[i]; s.busy && s.deadline <= now {
			r.res.Timeouts++
			r.issue(i, now)
		}
	}
}

// earliest returns the first deadline of the requests in flight; busy is
// false when none is.
func (r *runner) earliest() (d time.Duration, busy bool) {
	for _, s := range r.slots {
		if s.busy && (!busy || s.deadline < d) {
			d, busy = s.deadline, true
		}
	}
	return d, busy
}
