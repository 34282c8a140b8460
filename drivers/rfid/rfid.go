// Package rfid defines what every serial RFID reader driver provides: a
// sans-I/O session that turns the bytes a reader sends into tag reads and says
// which commands to send, an emulator that behaves like the reader, and a
// registry of protocols by name.
//
// Protocol packages live under drivers/rfid/<name> and register themselves in
// init; importing drivers/rfid/all registers every protocol. Drivers know
// nothing of MQTT, the spool or the controller; the serial link itself is
// handled by drivers/rfid/link.
package rfid

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Read is one tag observation decoded from a reader frame.
//
// Tag aliases the decoder's internal buffer: it is valid only until the next
// call to Session.Feed. Callers that keep it must copy it.
type Read struct {
	// Tag is the identifier as bytes: the 5-byte card ID (version + 32-bit ID)
	// for EM4100, the EPC for UHF readers.
	Tag []byte
	// PC is the UHF Protocol Control word; zero when the reader does not send it.
	PC uint16
	// RSSI is the received signal strength in dBm; meaningful only when HasRSSI.
	RSSI int
	// HasRSSI tells whether the reader reported RSSI.
	HasRSSI bool
	// Antenna is the 1-based antenna port; 0 when the reader does not say.
	Antenna int
}

// Stats counts what a session decoded. All counters only grow.
type Stats struct {
	// Frames is the number of well-formed frames decoded (of any kind).
	Frames uint64
	// Reads is the number of tag reads emitted.
	Reads uint64
	// BadFrames is the number of frames dropped for a bad checksum, CRC,
	// length or terminator.
	BadFrames uint64
	// SkippedBytes is the number of bytes discarded while resynchronising.
	SkippedBytes uint64
	// Errors is the number of error responses the reader sent (including
	// "no tag" answers where the protocol signals them as errors).
	Errors uint64
}

// Session speaks one reader protocol over a byte stream without doing any
// I/O itself. A Session is not safe for concurrent use.
type Session interface {
	// Open returns the bytes to write once the link is (re)opened: settings
	// and, for readers that stream, the command that starts streaming. Nil
	// means nothing to send.
	Open() []byte
	// Poll returns the bytes to write every PollInterval to keep reads
	// coming, or nil for readers that send unprompted.
	Poll() []byte
	// PollInterval is how often Poll is sent; zero when Poll returns nil.
	PollInterval() time.Duration
	// Feed consumes bytes received from the reader, in any split, and calls
	// emit for every tag read in a frame whose checksum holds. Frames that
	// fail their checks are counted in Stats and never emitted. It returns
	// bytes to write back to the reader at once (for protocols that fetch a
	// tag buffer after an inventory), or nil. The returned slice is valid
	// until the next call.
	Feed(p []byte, emit func(Read)) []byte
	// Stats returns the counters so far.
	Stats() Stats
}

// Emulator behaves like a reader of one protocol, for tests, demos and the
// field engineer's bench. It is not safe for concurrent use.
type Emulator interface {
	// Handle consumes bytes written by the host, in any split, and returns
	// the bytes the reader answers with (nil for none).
	Handle(in []byte) []byte
	// Tick is called every TickInterval; it returns bytes the reader sends
	// unprompted (streamed card frames, continuous-mode tag reports) or nil.
	Tick() []byte
	// TickInterval is how often Tick is called; zero means never.
	TickInterval() time.Duration
}

// Options configures a session.
type Options struct {
	// Power is the transmit power in dBm for readers that take it; zero
	// keeps the reader's setting.
	Power float64
	// Region is the regulatory region for UHF readers ("eu", "us", "cn",
	// "kr", "jp", ...); empty keeps the reader's setting.
	Region string
	// PollInterval overrides the protocol's default poll interval when not
	// zero.
	PollInterval time.Duration
}

// Protocol describes a registered reader protocol.
type Protocol struct {
	// Name is the protocol's name in configuration and on the command line.
	Name string
	// Description is a one-line human description (reader families).
	Description string
	// DefaultBaud is the serial speed the reader family uses by default.
	DefaultBaud int
	// AnswersPolls tells that the reader answers every poll, even with no
	// tag in its field (a "no tag" status): silence then means a hung
	// reader, and the link reopens it. Leave it false where an idle reader
	// may stay quiet.
	AnswersPolls bool
	// NewSession returns a new session; it fails on options the protocol
	// cannot honour.
	NewSession func(Options) (Session, error)
	// NewEmulator returns an emulator presenting the given tags.
	NewEmulator func(tags [][]byte) (Emulator, error)
}

var (
	mu        sync.RWMutex
	protocols = map[string]Protocol{}
)

// Register adds a protocol to the registry. It panics on a duplicate or
// incomplete registration, which is a programming error.
func Register(p Protocol) {
	mu.Lock()
	defer mu.Unlock()
	if p.Name == "" || p.NewSession == nil || p.NewEmulator == nil || p.DefaultBaud <= 0 {
		panic("rfid: incomplete protocol registration " + p.Name)
	}
	if _, ok := protocols[p.Name]; ok {
		panic("rfid: protocol registered twice: " + p.Name)
	}
	protocols[p.Name] = p
}

// ErrUnknownProtocol is returned by Lookup for a name not registered.
var ErrUnknownProtocol = errors.New("rfid: unknown protocol")

// Lookup returns the protocol registered under name.
func Lookup(name string) (Protocol, error) {
	mu.RLock()
	defer mu.RUnlock()
	p, ok := protocols[name]
	if !ok {
		return Protocol{}, fmt.Errorf("%w %q (known: %v)", ErrUnknownProtocol, name, namesLocked())
	}
	return p, nil
}

// Names returns the registered protocol names, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	return namesLocked()
}

func namesLocked() []string {
	n := make([]string, 0, len(protocols))
	for k := range protocols {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}
