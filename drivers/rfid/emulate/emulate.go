// Package emulate runs a reader emulator (rfid.Emulator) on a byte stream or
// on a pseudo-terminal, so that ngic-edge, its tests and a field engineer's
// bench can talk to "a reader" without one. The tags in the field can be
// changed while it runs.
package emulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/ngic/ngic/drivers/rfid"
)

// Runner drives one emulator.
type Runner struct {
	proto rfid.Protocol

	mu   sync.Mutex
	em   rfid.Emulator
	tags [][]byte
	baud int
	log  journal // what brought em to its state, for SetTags

	sent, dropped, missed atomic.Uint64 // Stats
}

// Stats counts the rounds a runner sends unprompted (the ticks of a
// streaming or inventorying reader), to tell who lags when reads are fewer
// than the field holds.
type Stats struct {
	// Sent is the number of rounds queued for the host.
	Sent uint64
	// Dropped is the number of rounds lost because the host did not read
	// the previous ones in time, as a real reader's UART loses them: the
	// host lags.
	Dropped uint64
	// Missed is the number of rounds never made because the runner itself
	// ran late (its process starved of CPU): the emulator lags.
	Missed uint64
}

// Stats returns the counts so far, over every Serve and ServePTY.
func (r *Runner) Stats() Stats {
	return Stats{Sent: r.sent.Load(), Dropped: r.dropped.Load(), Missed: r.missed.Load()}
}

// New returns a runner emulating a reader of proto with tags in its field.
func New(proto rfid.Protocol, tags [][]byte) (*Runner, error) {
	em, err := proto.NewEmulator(tags)
	if err != nil {
		return nil, fmt.Errorf("emulate: %w", err)
	}
	return &Runner{proto: proto, em: em, tags: tags, baud: proto.DefaultBaud}, nil
}

// SetBaud sets the serial speed the emulated reader runs at; New starts at
// the protocol's default. On a pseudo-terminal (ServePTY) a host whose line
// settings give another speed reads garbage, as from a real reader at the
// wrong speed, and its commands are not understood.
func (r *Runner) SetBaud(baud int) error {
	if _, ok := speeds[baud]; !ok {
		return fmt.Errorf("emulate: baud %d is not a terminal speed", baud)
	}
	r.mu.Lock()
	r.baud = baud
	r.mu.Unlock()
	return nil
}

// Baud returns the serial speed the emulated reader runs at.
func (r *Runner) Baud() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.baud
}

// SetTags replaces the tags in the reader's field without interrupting
// the reader, as when tags move in front of a real one: an inventory in
// progress (a multi-poll, continuous reading) goes on with as many rounds
// left, and its next round reports the new tags; the settings the host made
// stay. The emulator of the new tags is brought to the state of the old
// one by replaying to it what the host wrote and the rounds reported
// since; that record keeps the host's opening commands and its latest ones
// (the first 1 KB the host wrote; then the last 4 KB and 256 rounds), so a
// setting changed in between, long ago, is forgotten.
func (r *Runner) SetTags(tags [][]byte) error {
	em, err := r.proto.NewEmulator(tags)
	if err != nil {
		return fmt.Errorf("emulate: %w", err)
	}
	r.mu.Lock()
	r.log.replay(em)
	r.em, r.tags = em, tags
	r.mu.Unlock()
	return nil
}

// handle answers the host's bytes; rate is the host's line speed, 0 when
// unknown (not a terminal).
func (r *Runner) handle(in []byte, rate int) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rate != 0 && rate != r.baud {
		return garble(in)
	}
	r.log.wrote(in)
	return clone(r.em.Handle(in))
}

func (r *Runner) tick(rate func() int) ([]byte, time.Duration) {
	r.mu.Lock()
	d := r.em.TickInterval()
	if d <= 0 {
		r.mu.Unlock()
		return nil, 0
	}
	b := clone(r.em.Tick())
	if b != nil {
		r.log.ticked()
	}
	baud := r.baud
	r.mu.Unlock()
	if b != nil && rate != nil {
		if got := rate(); got != 0 && got != baud {
			b = garble(b)
		}
	}
	return b, d
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// Serve answers what the host writes on rw and sends the emulator's
// unprompted output every tick, until ctx ends or rw fails. Unprompted
// output that the host does not read is dropped rather than blocking, as a
// real reader's UART would lose it; answers are never dropped.
func (r *Runner) Serve(ctx context.Context, rw io.ReadWriter) error {
	return r.serve(ctx, rw, nil)
}

// serve is Serve; rate, when not nil, returns the host's line speed (0 when
// it cannot tell), read at every exchange.
func (r *Runner) serve(ctx context.Context, rw io.ReadWriter, rate func() int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make(chan []byte, 64)
	errc := make(chan error, 2)
	go func() {
		for {
			select {
			case b := <-out:
				if _, err := rw.Write(b); err != nil {
					errc <- fmt.Errorf("emulate: write: %w", err)
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := rw.Read(buf)
			if n > 0 {
				speed := 0
				if rate != nil {
					speed = rate()
				}
				if resp := r.handle(buf[:n], speed); resp != nil {
					select {
					case out <- resp:
					case <-ctx.Done():
						return
					}
				}
			}
			if err != nil {
				errc <- fmt.Errorf("emulate: read: %w", err)
				return
			}
		}
	}()
	next := time.Now()
	for {
		b, d := r.tick(rate)
		if d <= 0 {
			d = 50 * time.Millisecond // check again later: SetTags may change protocols' ticking
		} else if b != nil {
			select {
			case out <- b:
				r.sent.Add(1)
			default:
				r.dropped.Add(1)
			}
		}
		next = next.Add(d)
		wait := time.Until(next)
		if wait < 0 {
			if b != nil {
				r.missed.Add(uint64(-wait / d))
			}
			next, wait = time.Now(), 0
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case err := <-errc:
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// PTY is a pseudo-terminal whose far end behaves like a reader.
type PTY struct {
	// Path is the device the host opens (the pty's slave side).
	Path string
	// Link is the symlink made to Path, if any.
	Link   string
	master *os.File
	slave  *os.File
	done   chan error
}

// ServePTY opens a pseudo-terminal in raw mode, serves the runner on it and
// returns its path. A pseudo-terminal has no speed of its own: the emulator
// reads the line settings the host gave the terminal at every exchange and,
// when their speed is not the runner's (SetBaud), answers with garbage and
// garbles what it sends unprompted, so that only a host at the right speed
// understands it; with link non-empty it also points the symlink link at
// it (replacing a previous one), so a host configured with link finds each
// new emulator. The emulator runs until ctx ends or Close.
func (r *Runner) ServePTY(ctx context.Context, link string) (*PTY, error) {
	master, slave, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("emulate: open pty: %w", err)
	}
	if err := makeRaw(slave); err != nil {
		master.Close()
		slave.Close()
		return nil, fmt.Errorf("emulate: raw mode on %s: %w", slave.Name(), err)
	}
	p := &PTY{Path: slave.Name(), master: master, slave: slave, done: make(chan error, 1)}
	if link != "" {
		tmp := link + ".tmp"
		os.Remove(tmp)
		if err := os.Symlink(p.Path, tmp); err != nil {
			p.Close()
			return nil, fmt.Errorf("emulate: link %s: %w", link, err)
		}
		if err := os.Rename(tmp, link); err != nil {
			p.Close()
			return nil, fmt.Errorf("emulate: link %s: %w", link, err)
		}
		p.Link = link
	}
	go func() {
		err := r.serve(ctx, master, func() int { return lineSpeed(slave) })
		if errors.Is(err, os.ErrClosed) {
			err = nil
		}
		p.done <- err
	}()
	context.AfterFunc(ctx, func() { p.Close() })
	return p, nil
}

// Close ends the emulator: the host sees the reader unplugged.
func (p *PTY) Close() error {
	if p.Link != "" {
		if target, err := os.Readlink(p.Link); err == nil && target == p.Path {
			os.Remove(p.Link)
		}
	}
	p.slave.Close()
	return p.master.Close()
}

// Done reports the end of serving.
func (p *PTY) Done() <-chan error { return p.done }

// makeRaw puts a terminal in raw mode (no echo, no line editing, 8 bits).
func makeRaw(f *os.File) error {
	fd := int(f.Fd())
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}
