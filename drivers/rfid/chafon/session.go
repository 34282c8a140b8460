package chafon

import (
	"fmt"
	"math"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/internal/driver"
)

// Session is the host side of the protocol: it sends Inventory every
// PollInterval and turns inventory responses into reads, in either dialect
// (UHFReader18 or UHFReader288, told apart frame by frame), as well as the
// tag reports a reader in active mode pushes unprompted. It does no I/O.
type Session struct {
	dec      *Decoder
	open     []byte
	poll     []byte
	interval time.Duration
	counts   driver.Counts
	onFrame  func(Frame)
	onRead   func(rfid.Read) // s.counts.Emit, bound once so that Feed does not allocate
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
	s.onRead = s.counts.Emit
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
// inventory frame, "more data" frames included, and one per active-mode
// tag report. It never asks for a reply,
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
	switch f.Cmd {
	case CmdInventory:
		s.inventory(status, data)
	case CmdActive:
		s.active(status, data)
	default:
		if status != StatusOK {
			s.counts.Errors++
		}
	}
}

// inventory handles an inventory response of either dialect.
func (s *Session) inventory(status byte, data []byte) {
	switch status {
	case StatusMoreData:
		s.busyUntil = s.now().Add(moreDataWait)
	case StatusInventoryDone, StatusInventoryTimeout, StatusMemoryFull:
		s.busyUntil = time.Time{}
	default:
		s.busyUntil = time.Time{}
		s.counts.Errors++ // no tag (0xFB), antenna error (0xF8) and the other error statuses
		return
	}
	d, ok := InventoryDialect(data)
	if !ok {
		s.counts.Malformed++
		return
	}
	eachInventoryRead(d, data, s.onRead)
}

// active handles a report a reader in active mode pushes unprompted.
func (s *Session) active(status byte, data []byte) {
	switch status {
	case StatusOK:
		d, ok := ActiveDialect(data)
		if !ok {
			s.counts.Malformed++
			return
		}
		s.counts.Emit(activeRead(d, data))
	case StatusHeartbeat:
		if len(data) != HeartbeatLen {
			s.counts.Malformed++
		}
	default:
		s.counts.Errors++
	}
}

// Stats returns the counters. A frame whose CRC holds but whose inventory
// data is inconsistent counts as a bad frame, not a frame.
func (s *Session) Stats() rfid.Stats {
	return s.counts.Stats(s.dec.Frames, s.dec.BadFrames, s.dec.SkippedBytes)
}
