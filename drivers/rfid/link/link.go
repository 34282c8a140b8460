// Package link supervises the serial link to one RFID reader: it opens the
// port, runs the protocol session over it (writing its open and poll
// commands, feeding it what the reader sends), and when the reader is
// unplugged, the port closed or an I/O error occurs, closes it and reopens it
// with exponential backoff. Its state is readable at any time for status
// pages and metrics.
package link

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/tarm/serial"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/internal/retry"
)

// Port is an open serial port. Read must return within a bounded time (a
// read timeout), returning (0, nil) or (0, io.EOF) when nothing arrived.
type Port = io.ReadWriteCloser

// Opener opens the serial device at path with the given speed and read
// timeout.
type Opener func(path string, baud int, readTimeout time.Duration) (Port, error)

// OpenSerial opens a serial device (or pseudo-terminal) 8N1 in raw mode with
// tarm/serial.
func OpenSerial(path string, baud int, readTimeout time.Duration) (Port, error) {
	p, err := serial.OpenPort(&serial.Config{Name: path, Baud: baud, ReadTimeout: readTimeout})
	if err != nil {
		return nil, fmt.Errorf("link: open %s at %d baud: %w", path, baud, err)
	}
	return p, nil
}

// Opts configures a Link.
type Opts struct {
	// Device is the serial device path, e.g. /dev/ttyUSB0.
	Device string
	// Baud is the serial speed; 0 takes the protocol's default.
	Baud int
	// Session holds the protocol options (power, region, poll interval).
	Session rfid.Options
	// MinBackoff and MaxBackoff bound the wait between reopen attempts.
	MinBackoff, MaxBackoff time.Duration
	// ReadTimeout bounds one read, and so how soon a cancel or a due poll is
	// noticed.
	ReadTimeout time.Duration
	// Silence is how long a reader that answers polls may say nothing
	// before the link is reopened; 0 means ten poll intervals, at least
	// 10 s, for protocols whose readers answer every poll
	// (rfid.Protocol.AnswersPolls) and no check for the others; negative
	// disables the check. Readers that send unprompted (EM4100) are never
	// reopened for silence: they are quiet without cards.
	Silence time.Duration
	// Open opens the port; nil means OpenSerial.
	Open Opener
}

// DefaultOpts are the options used for zero fields.
var DefaultOpts = Opts{MinBackoff: 200 * time.Millisecond, MaxBackoff: 30 * time.Second, ReadTimeout: 100 * time.Millisecond}

// State is a snapshot of a link.
type State struct {
	// Connected tells whether the port is open now.
	Connected bool
	// Since is when Connected last changed.
	Since time.Time
	// LastError is the last open or I/O error, "" if none yet; it stays
	// after the link recovers, as a record of what happened last.
	LastError string
	// Opens counts successful opens; Reconnects counts those after the first.
	Opens, Reconnects uint64
	// Stats are the protocol counters summed over every connection.
	Stats rfid.Stats
}

// Link supervises one reader.
type Link struct {
	proto rfid.Protocol
	opts  Opts

	mu    sync.Mutex
	state State
	base  rfid.Stats // stats of the sessions of earlier connections
	cur   rfid.Stats // stats of the current session, copied after each Feed
}

// New checks the options and returns a link for protocol proto.
func New(proto rfid.Protocol, opts Opts) (*Link, error) {
	if opts.Device == "" {
		return nil, errors.New("link: no device path")
	}
	if opts.Baud == 0 {
		opts.Baud = proto.DefaultBaud
	}
	if opts.Baud < 0 {
		return nil, fmt.Errorf("link: baud %d is negative", opts.Baud)
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultOpts.MinBackoff
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(DefaultOpts.MaxBackoff, opts.MinBackoff)
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = DefaultOpts.ReadTimeout
	}
	if opts.Open == nil {
		opts.Open = OpenSerial
	}
	// Fail early on options the protocol cannot honour.
	if _, err := proto.NewSession(opts.Session); err != nil {
		return nil, fmt.Errorf("link: %s: %w", opts.Device, err)
	}
	return &Link{proto: proto, opts: opts, state: State{Since: time.Now()}}, nil
}

// State returns a snapshot of the link's state and counters.
func (l *Link) State() State {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.state
	s.Stats = l.base
	add(&s.Stats, l.cur)
	return s
}

func add(dst *rfid.Stats, s rfid.Stats) {
	dst.Frames += s.Frames
	dst.Reads += s.Reads
	dst.BadFrames += s.BadFrames
	dst.SkippedBytes += s.SkippedBytes
	dst.Errors += s.Errors
}

// Run opens the port and reads from it until ctx is done, reopening it with
// backoff after every failure. emit is called for every tag read, from Run's
// goroutine; the Read's Tag is valid only during the call. Run returns
// ctx.Err() when ctx ends.
func (l *Link) Run(ctx context.Context, emit func(rfid.Read)) error {
	return retry.Loop(ctx, l.opts.MinBackoff, l.opts.MaxBackoff,
		func(ctx context.Context, healthy func()) error { return l.connection(ctx, emit, healthy) },
		func(err error) {
			if err != nil {
				l.mu.Lock()
				l.state.LastError = err.Error()
				l.mu.Unlock()
			}
		})
}

// connection runs one open port until it fails or ctx ends.
func (l *Link) connection(ctx context.Context, emit func(rfid.Read), healthy func()) error {
	port, err := l.opts.Open(l.opts.Device, l.opts.Baud, l.opts.ReadTimeout)
	if err != nil {
		return err
	}
	sess, err := l.proto.NewSession(l.opts.Session)
	if err != nil {
		port.Close()
		return fmt.Errorf("link: %s: %w", l.opts.Device, err)
	}
	now := time.Now()
	l.mu.Lock()
	l.cur = rfid.Stats{}
	l.state.Connected, l.state.Since = true, now
	l.state.Opens++
	if l.state.Opens > 1 {
		l.state.Reconnects++
	}
	l.mu.Unlock()
	defer func() {
		port.Close()
		l.mu.Lock()
		add(&l.base, sess.Stats())
		l.cur = rfid.Stats{}
		l.state.Connected, l.state.Since = false, time.Now()
		l.mu.Unlock()
	}()
	silence := l.opts.Silence
	if silence == 0 && !l.proto.AnswersPolls {
		silence = -1 // an idle reader of this family may be quiet
	}
	var heard bool
	return Serve(ctx, port, sess, ServeOpts{Device: l.opts.Device, Silence: silence, OnFeed: func(st rfid.Stats) {
		l.mu.Lock()
		l.cur = st
		l.mu.Unlock()
		if !heard && st.Frames+st.BadFrames+st.Errors > 0 {
			heard = true
			healthy() // the reader speaks: the backoff starts again from the minimum
		}
	}}, emit)
}

// ServeOpts configures Serve.
type ServeOpts struct {
	// Device names the port in errors; when set, a read timeout also
	// checks that the path still exists (a USB reader unplugged shows as a
	// vanished path rather than an error on some drivers).
	Device string
	// Silence is how long a reader that is polled may say nothing before
	// Serve gives up on it; 0 means ten poll intervals, at least 10 s;
	// negative disables the check.
	Silence time.Duration
	// OnFeed, when set, gets the session's counters after each Feed.
	OnFeed func(rfid.Stats)
}

// Serve speaks sess over an open port until ctx ends (returning nil) or the
// port fails: it writes the session's open command, its poll every poll
// interval and any reply Feed asks for, and feeds what the reader sends.
// What waited in the port's input buffer before Serve is discarded.
// emit gets every tag read. When ctx ends the port is closed, which unblocks
// a read in progress. The port's reads must time out now and then.
func Serve(ctx context.Context, port Port, sess rfid.Session, o ServeOpts, emit func(rfid.Read)) error {
	// What waited in the driver's buffer while nobody read is old: reading
	// it would report tags that have long left as arriving now.
	if f, ok := port.(interface{ Flush() error }); ok {
		_ = f.Flush()
	}
	stop := context.AfterFunc(ctx, func() { port.Close() })
	defer stop()
	write := func(b []byte) error {
		if len(b) == 0 {
			return nil
		}
		if _, err := port.Write(b); err != nil {
			return fmt.Errorf("link: write %s: %w", o.Device, err)
		}
		return nil
	}
	if err := write(sess.Open()); err != nil {
		return err
	}
	interval := sess.PollInterval()
	silence := o.Silence
	if silence == 0 {
		silence = max(10*interval, 10*time.Second)
	}
	var lastPoll time.Time
	lastHeard := time.Now()
	var heard uint64 // frames of any kind so far
	buf := make([]byte, 4096)
	for {
		// A reader that answers polls and has said nothing for a long while
		// is hung or has been swapped: give up on it.
		if interval > 0 && silence > 0 && time.Since(lastHeard) > silence {
			return fmt.Errorf("link: %s: no answer to polls for %v", o.Device, silence.Round(time.Second))
		}
		if interval > 0 && time.Since(lastPoll) >= interval {
			if err := write(sess.Poll()); err != nil {
				return err
			}
			lastPoll = time.Now()
		}
		n, err := port.Read(buf)
		if ctx.Err() != nil {
			return nil
		}
		if n > 0 {
			reply := sess.Feed(buf[:n], emit)
			st := sess.Stats()
			if o.OnFeed != nil {
				o.OnFeed(st)
			}
			if h := st.Frames + st.BadFrames + st.Errors; h != heard {
				heard, lastHeard = h, time.Now()
			}
			if err := write(reply); err != nil {
				return err
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			// A read timeout.
			if n == 0 && o.Device != "" {
				if _, serr := os.Stat(o.Device); serr != nil {
					return fmt.Errorf("link: %s: device gone: %w", o.Device, serr)
				}
			}
		default:
			return fmt.Errorf("link: read %s: %w", o.Device, err)
		}
	}
}
