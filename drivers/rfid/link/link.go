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
	// What waited in the driver's buffer while nobody read is old: reading
	// it would report tags that have long left as arriving now.
	if f, ok := port.(interface{ Flush() error }); ok {
		_ = f.Flush()
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
	// Closing the port unblocks a read when ctx ends.
	stop := context.AfterFunc(ctx, func() { port.Close() })
	defer stop()

	if b := sess.Open(); len(b) > 0 {
		if err := l.write(port, b); err != nil {
			return err
		}
	}
	interval := sess.PollInterval()
	silence := l.opts.Silence
	if silence == 0 {
		silence = max(10*interval, 10*time.Second)
		if !l.proto.AnswersPolls {
			silence = -1 // an idle reader of this family may be quiet
		}
	}
	var lastPoll time.Time
	lastHeard := time.Now()
	var heard uint64 // frames of any kind so far
	buf := make([]byte, 4096)
	for {
		// A reader that answers polls and has said nothing for a long while
		// is hung or has been swapped: reopen it.
		if interval > 0 && silence > 0 && time.Since(lastHeard) > silence {
			return fmt.Errorf("link: %s: no answer to polls for %v", l.opts.Device, silence.Round(time.Second))
		}
		if interval > 0 && time.Since(lastPoll) >= interval {
			if b := sess.Poll(); len(b) > 0 {
				if err := l.write(port, b); err != nil {
					return err
				}
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
			l.mu.Lock()
			l.cur = st
			l.mu.Unlock()
			if h := st.Frames + st.BadFrames + st.Errors; h != heard {
				if heard == 0 {
					healthy() // the reader speaks: the backoff starts again from the minimum
				}
				heard, lastHeard = h, time.Now()
			}
			if len(reply) > 0 {
				if err := l.write(port, reply); err != nil {
					return err
				}
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			// A read timeout. A device that vanished (USB unplugged) shows as
			// a missing path rather than an error on some drivers.
			if n == 0 {
				if _, serr := os.Stat(l.opts.Device); serr != nil {
					return fmt.Errorf("link: %s: device gone: %w", l.opts.Device, serr)
				}
			}
		default:
			return fmt.Errorf("link: read %s: %w", l.opts.Device, err)
		}
	}
}

func (l *Link) write(port Port, b []byte) error {
	if _, err := port.Write(b); err != nil {
		return fmt.Errorf("link: write %s: %w", l.opts.Device, err)
	}
	return nil
}
