package chafon

import (
	"fmt"
	"math"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/internal/driver"
)

// Session is the host side of the protocol: it sends Inventory every
// PollInterval and turns inventory responses into reads. It does no I/O.
type Session struct {
	dec      *Decoder
	open     []byte
	poll     []byte
	interval time.Duration
	counts   driver.Counts
	onFrame  func(Frame)
	// busyUntil is set while an inventory's "more data" frames are still
	// coming: a new poll then would talk over the reader (RS-485 is half
	// duplex) and restart its inventory.
	busyUntil time.Time
	now       func() time.Time
}

// moreDataWait bounds how long Poll holds back after a "more data" frame
// when the inventory's last frame never comes.
const moreDataWait = time.Second

var _ rfid.Session = (*Session)(nil)

// NewSession returns a session for opts. Power must be 0 (keep) or 1..30
// dBm; Region must be empty or one of cn, eu, kr, us.
func NewSession(opts rfid.Options) (*Session, error) {
	s := &Session{dec: NewResponseDecoder(), interval: DefaultPollInterval, now: time.Now}
	var err error
	if s.interval, err = driver.PollInterval("chafon", opts, DefaultPollInterval); err != nil {
		return nil, err
	}
	if opts.Power != 0 {
		if opts.Power < 0 || opts.Power > MaxPower || math.IsNaN(opts.Power) {
			return nil, fmt.Errorf("chafon: power %v dBm outside 0..%d", opts.Power, MaxPower)
		}
		s.open = AppendSetPower(s.open, BroadcastAddr, byte(math.Round(opts.Power)))
	}
	if opts.Region != "" {
		band, err := RegionBand(opts.Region)
		if err != nil {
			return nil, err
		}
		maxFre, minFre, err := EncodeRegion(band, bandChannels[band], 0)
		if err != nil {
			return nil, err
		}
		s.open = AppendSetRegion(s.open, BroadcastAddr, maxFre, minFre)
	}
	s.poll = AppendInventory(nil, BroadcastAddr)
	s.onFrame = s.frame
	return s, nil
}

// Open returns Set Power and Set Region when the options ask for them, or
// nil.
func (s *Session) Open() []byte { return s.open }

// Poll returns the Inventory command, or nil while the previous
// inventory's "more data" frames are still arriving.
func (s *Session) Poll() []byte {
	if s.now().Before(s.busyUntil) {
		return nil
	}
	return s.poll
}

// PollInterval is how often Poll is sent.
func (s *Session) PollInterval() time.Duration { return s.interval }

// Feed decodes reader responses and emits one read per tag of every
// inventory frame, "more data" frames included. It never asks for a reply,
// so it returns nil.
func (s *Session) Feed(p []byte, emit func(rfid.Read)) []byte {
	s.counts.Begin(emit)
	s.dec.Feed(p, s.onFrame)
	s.counts.End()
	return nil
}

func (s *Session) frame(f Frame) {
	if len(f.Payload) == 0 {
		s.counts.Malformed++
		return
	}
	status, data := f.Payload[0], f.Payload[1:]
	if f.Cmd != CmdInventory {
		if status != StatusOK {
			s.counts.Errors++
		}
		return
	}
	switch status {
	case StatusMoreData:
		s.busyUntil = s.now().Add(moreDataWait)
	case StatusInventoryDone, StatusInventoryTimeout, StatusMemoryFull:
		s.busyUntil = time.Time{}
	default:
		s.busyUntil = time.Time{}
		s.counts.Errors++ // no tag (0xFB) and the other error statuses
		return
	}
	if !validInventory(data) {
		s.counts.Malformed++
		return
	}
	n := int(data[0])
	i := 1
	for range n {
		l := int(data[i])
		s.counts.Emit(rfid.Read{Tag: data[i+1 : i+1+l]})
		i += 1 + l
	}
}

// validInventory checks that Num tags of EPC-length + EPC fill data exactly.
func validInventory(data []byte) bool {
	if len(data) == 0 {
		return false
	}
	i := 1
	for range int(data[0]) {
		if i >= len(data) {
			return false
		}
		l := int(data[i])
		if l == 0 || l > MaxEPC || i+1+l > len(data) {
			return false
		}
		i += 1 + l
	}
	return i == len(data)
}

// Stats returns the counters. A frame whose CRC holds but whose inventory
// data is inconsistent counts as a bad frame, not a frame.
func (s *Session) Stats() rfid.Stats {
	return s.counts.Stats(s.dec.Frames, s.dec.BadFrames, s.dec.SkippedBytes)
}
