package mercury

import (
	"fmt"
	"math"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/internal/driver"
)

// Session is the host side of the protocol in continuous-reading mode. It
// does no I/O.
type Session struct {
	dec      *Decoder
	open     []byte
	poll     []byte
	reply    []byte
	interval time.Duration
	metadata uint16
	counts   driver.Counts
	onFrame  func(Frame)
}

var _ rfid.Session = (*Session)(nil)

// NewSession returns a session for opts. Power must be 0 (keep) or up to
// 31.5 dBm; Region must be empty or a key of Regions.
func NewSession(opts rfid.Options) (*Session, error) {
	s := &Session{dec: NewResponseDecoder(), interval: DefaultPollInterval, metadata: DefaultMetadata}
	s.open = AppendSetTagProtocol(s.open, ProtocolGen2)
	s.open = AppendSetAntennaPort(s.open, 1, 1)
	var err error
	if s.interval, err = driver.PollInterval("mercury", opts, DefaultPollInterval); err != nil {
		return nil, err
	}
	if opts.Region != "" {
		code, ok := Regions[opts.Region]
		if !ok {
			return nil, fmt.Errorf("mercury: region %q not supported (au, cn, eu, in, jp, kr, na, nz, open, us)", opts.Region)
		}
		s.open = AppendSetRegion(s.open, code)
	}
	if opts.Power != 0 {
		if !(opts.Power > 0 && opts.Power <= MaxPower) {
			return nil, fmt.Errorf("mercury: power %v dBm outside 0..%v", opts.Power, MaxPower)
		}
		s.open = AppendSetReadPower(s.open, uint16(math.Round(opts.Power*100)))
	}
	s.poll = AppendStartReading(nil, s.metadata)
	s.open = append(s.open, s.poll...)
	s.onFrame = s.frame
	return s, nil
}

// Open returns Set Tag Protocol (Gen2) and Set Antenna Port (1/1), Set
// Region and Set Read TX Power when the options ask for them, then the start
// of continuous reading.
func (s *Session) Open() []byte { return s.open }

// Poll returns the start of continuous reading again, so that a module that
// was power-cycled resumes streaming.
func (s *Session) Poll() []byte { return s.poll }

// PollInterval is how often Poll is sent.
func (s *Session) PollInterval() time.Duration { return s.interval }

// Feed decodes module responses and emits a read for every tag record, in
// streamed Read Tag ID Multiple responses and in Get Tag Buffer responses.
// When a Read Tag ID Multiple response reports tags in the module's buffer,
// it returns Get Tag Buffer to send.
func (s *Session) Feed(p []byte, emit func(rfid.Read)) []byte {
	s.counts.Begin(emit)
	s.reply = s.reply[:0]
	s.dec.Feed(p, s.onFrame)
	s.counts.End()
	if len(s.reply) == 0 {
		return nil
	}
	return s.reply
}

func (s *Session) frame(f Frame) {
	if f.Status != StatusOK {
		if f.Status != StatusNoTagsFound {
			s.counts.Errors++
		}
		return
	}
	d := f.Data
	switch f.Opcode {
	case OpReadTagMultiple:
		switch {
		case len(d) >= 6 && d[0]&OptionMetadata != 0: // streamed
			flags := uint16(d[3])<<8 | uint16(d[4])
			if d[5] != ResponseTypeTag {
				return // status report or end of stream
			}
			rec, n, ok := ParseTagRecord(flags, d[6:])
			if !ok || n != len(d)-6 {
				s.counts.Malformed++
				return
			}
			s.read(rec)
		case len(d) == 4 || len(d) == 7: // tag count, 1 or 4 bytes
			if d[len(d)-1] != 0 || (len(d) == 7 && (d[3]|d[4]|d[5]) != 0) {
				s.reply = AppendGetTagBuffer(s.reply, s.metadata)
			}
		default:
			s.counts.Malformed++
		}
	case OpGetTagBuffer:
		if len(d) < 4 {
			s.counts.Malformed++
			return
		}
		flags, count := uint16(d[0])<<8|uint16(d[1]), int(d[3])
		// Check every record before emitting any.
		rest := d[4:]
		for range count {
			_, n, ok := ParseTagRecord(flags, rest)
			if !ok {
				s.counts.Malformed++
				return
			}
			rest = rest[n:]
		}
		if len(rest) != 0 {
			s.counts.Malformed++
			return
		}
		rest = d[4:]
		for range count {
			rec, n, _ := ParseTagRecord(flags, rest)
			s.read(rec)
			rest = rest[n:]
		}
	}
}

func (s *Session) read(rec TagRecord) {
	r := rfid.Read{Tag: rec.EPC, PC: rec.PC}
	if rec.Flags&MetaRSSI != 0 {
		r.RSSI, r.HasRSSI = int(rec.RSSI), true
	}
	if rec.Flags&MetaAntenna != 0 {
		r.Antenna = rec.TxPort()
	}
	s.counts.Emit(r)
}

// Stats returns the counters. A frame whose CRC holds but whose tag record
// does not parse counts as a bad frame, not a frame.
func (s *Session) Stats() rfid.Stats {
	return s.counts.Stats(s.dec.Frames, s.dec.BadFrames, s.dec.SkippedBytes)
}
