package em4100

import (
	"errors"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
)

// Session is the rfid.Session of an EM4100 reader. The reader streams on
// its own, so Open and Poll send nothing.
type Session struct {
	dec  Decoder
	emit func(rfid.Read)
	read func(tag []byte) // bound once so that Feed does not allocate
}

var _ rfid.Session = (*Session)(nil)

// NewSession returns a session. EM4100 readers have no transmit power or
// region to set, so a non-zero Options.Power or a Region is an error;
// Options.PollInterval is ignored because the reader is never polled.
func NewSession(o rfid.Options) (*Session, error) {
	if o.Power != 0 {
		return nil, errors.New("em4100: options: power cannot be set on a 125 kHz EM4100 reader")
	}
	if o.Region != "" {
		return nil, errors.New("em4100: options: region cannot be set on a 125 kHz EM4100 reader")
	}
	s := &Session{}
	s.read = func(tag []byte) {
		if s.emit != nil {
			s.emit(rfid.Read{Tag: tag})
		}
	}
	return s, nil
}

// Open returns nil: the reader needs no set-up.
func (s *Session) Open() []byte { return nil }

// Poll returns nil: the reader sends frames unprompted.
func (s *Session) Poll() []byte { return nil }

// PollInterval returns zero: the reader is never polled.
func (s *Session) PollInterval() time.Duration { return 0 }

// Feed decodes p and calls emit for the card of every good frame. It always
// returns nil: the reader takes no commands.
func (s *Session) Feed(p []byte, emit func(rfid.Read)) []byte {
	s.emit = emit
	s.dec.Feed(p, s.read)
	s.emit = nil
	return nil
}

// Stats returns the counters so far. Every good frame is one read; CR and
// LF between frames are not counted as skipped.
func (s *Session) Stats() rfid.Stats {
	c := s.dec.Counters()
	return rfid.Stats{
		Frames:       c.Frames,
		Reads:        c.Frames,
		BadFrames:    c.BadFrames,
		SkippedBytes: c.SkippedBytes,
	}
}
