package magicrf

import (
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/internal/driver"
)

// Session is the rfid.Session of an M100-family module. Open sets the
// region and power when asked to, then starts a multi-poll; Poll re-issues
// the multi-poll so that a module that lost power resumes.
type Session struct {
	open     []byte
	poll     []byte
	interval time.Duration

	dec     Decoder
	counts  driver.Counts // malformed: well-formed frames whose tag notice did not hold
	onFrame func(Frame)   // bound once so that Feed does not allocate
}

var _ rfid.Session = (*Session)(nil)

// NewSession returns a session. Options.Region must be one of RegionCode's
// names, Options.Power at most MaxPower dBm, Options.PollInterval not
// negative.
func NewSession(o rfid.Options) (*Session, error) {
	s := &Session{interval: DefaultPollInterval}
	var err error
	if s.interval, err = driver.PollInterval("magicrf", o, DefaultPollInterval); err != nil {
		return nil, err
	}
	if o.Region != "" {
		code, err := RegionCode(o.Region)
		if err != nil {
			return nil, err
		}
		s.open = AppendSetRegion(s.open, code)
	}
	if o.Power != 0 {
		p, err := PowerCentiDBm(o.Power)
		if err != nil {
			return nil, err
		}
		s.open = AppendSetPower(s.open, p)
	}
	s.poll = AppendMultiPoll(nil, MultiPollCount)
	s.open = append(s.open, s.poll...)
	s.onFrame = s.frame
	return s, nil
}

// Open returns the region and power commands asked for in the options,
// followed by a multi-poll.
func (s *Session) Open() []byte { return s.open }

// Poll returns the multi-poll command.
func (s *Session) Poll() []byte { return s.poll }

// PollInterval returns how often the multi-poll is re-issued.
func (s *Session) PollInterval() time.Duration { return s.interval }

// Feed decodes p and calls emit for every tag notice. Error responses
// (including "no tag") are counted in Stats.Errors. It returns nil: the
// session never answers the module.
func (s *Session) Feed(p []byte, emit func(rfid.Read)) []byte {
	s.counts.Begin(emit)
	s.dec.Feed(p, s.onFrame)
	s.counts.End()
	return nil
}

// frame handles one well-formed frame from the module.
func (s *Session) frame(f Frame) {
	switch {
	case f.Type == TypeNotice && f.Cmd == CmdSinglePoll:
		r, ok := ParseTagNotice(f.Params)
		if !ok {
			s.counts.Malformed++
			return
		}
		s.counts.Emit(r)
	case f.Type == TypeResponse && f.Cmd == CmdError:
		s.counts.Errors++
	}
}

// ParseTagNotice decodes the parameters of a tag notice: RSSI, PC, EPC and
// CRC, and on modules that append it an antenna byte after the CRC. The
// parameter length tells which: 3 + 2*EPC words + 2 without antenna, one
// more with it. It reports false when the length matches neither or the
// CRC does not hold. The Tag of the result aliases params.
func ParseTagNotice(params []byte) (rfid.Read, bool) {
	if len(params) < 5 {
		return rfid.Read{}, false
	}
	pc := uint16(params[1])<<8 | uint16(params[2])
	n := 3 + int(pc>>11)*2
	ant := 0
	switch len(params) {
	case n + 2:
	case n + 3:
		ant = int(params[n+2])
	default:
		return rfid.Read{}, false
	}
	if TagCRC(params[1:n]) != uint16(params[n])<<8|uint16(params[n+1]) {
		return rfid.Read{}, false
	}
	return rfid.Read{Tag: params[3:n], PC: pc, RSSI: int(int8(params[0])), HasRSSI: true, Antenna: ant}, true
}

// Stats returns the counters so far. A well-formed notice whose EPC length
// or tag CRC does not hold counts as a bad frame, not as a frame.
func (s *Session) Stats() rfid.Stats {
	c := s.dec.Counters()
	return s.counts.Stats(c.Frames, c.BadFrames, c.SkippedBytes)
}
