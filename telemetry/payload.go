package telemetry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Event types.
const (
	// TagArrived: a tag was read for the first time (or again after it departed).
	TagArrived = "tag.arrived"
	// TagDeparted: a tag was not read for the configured departure time.
	TagDeparted = "tag.departed"
	// BeamBlocked: a photo-eye's beam was interrupted.
	BeamBlocked = "beam.blocked"
	// BeamCleared: the beam is whole again; Beam.DurationS says how long it was blocked.
	BeamCleared = "beam.cleared"
	// BeamHeld: the beam has stayed blocked past the configured time (a door left open).
	BeamHeld = "beam.held"
	// Passage: a pair of beams saw something pass in a direction.
	Passage = "passage"
	// EventsLost: the gateway lost events it had accepted; Lost says how
	// many, why, and which sequence numbers and times they had. Every gap
	// in seq is inside the range of one of these.
	EventsLost = "events.lost"
)

var eventTypes = map[string]bool{TagArrived: true, TagDeparted: true, BeamBlocked: true,
	BeamCleared: true, BeamHeld: true, Passage: true, EventsLost: true}

// LossSource is the source (topic level) of the gateway's own events,
// such as EventsLost.
const LossSource = "spool"

// Reasons in an EventsLost payload.
const (
	// LostDiskFull: the disk was full and the gateway could hold no more
	// events in memory (or stopped while holding them).
	LostDiskFull = "disk-full"
	// LostDropOldest: the spool's drop-oldest overflow policy deleted
	// events not yet acknowledged by the broker.
	LostDropOldest = "overflow-drop-oldest"
	// LostRejectNew: the spool's reject-new overflow policy refused events.
	LostRejectNew = "overflow-reject-new"
	// LostTooLarge: an event was larger than the spool's bound.
	LostTooLarge = "too-large"
	// LostCrash: events held in memory (disk full) died with the process.
	LostCrash = "crash"
	// LostUnreadable: a stored event could not be read back (a damaged
	// record) and was discarded.
	LostUnreadable = "unreadable"
)

var lostReasons = map[string]bool{LostDiskFull: true, LostDropOldest: true, LostRejectNew: true,
	LostTooLarge: true, LostCrash: true, LostUnreadable: true}

// Event is one event of an edge gateway. Exactly one of Tag, Beam and
// PassageInfo is set, according to Type.
type Event struct {
	// V is the schema version, SchemaVersion.
	V int `json:"v"`
	// Seq is the gateway's sequence number. It is assigned when the event is
	// spooled and added to the payload when published (see WithSeq).
	Seq uint64 `json:"seq,omitempty"`
	// ID is unique per event (a UUID); a duplicate delivery carries the same ID.
	ID string `json:"id"`
	// Gateway is the name of the gateway that saw the event.
	Gateway string `json:"gateway"`
	// Source is the reader or sensor name.
	Source string `json:"source"`
	// Type is one of the event type constants.
	Type string `json:"type"`
	// Time is when the event happened, per the gateway's clock.
	Time time.Time `json:"time"`
	// Tag describes a tag event.
	Tag *Tag `json:"tag,omitempty"`
	// Beam describes a photo-eye event.
	Beam *Beam `json:"beam,omitempty"`
	// PassageInfo describes a passage through a pair of beams.
	PassageInfo *PassageInfo `json:"passage,omitempty"`
	// Lost describes an EventsLost event.
	Lost *Lost `json:"lost,omitempty"`
}

// Lost is the body of an EventsLost event.
type Lost struct {
	// Count is the number of events lost, at least 1.
	Count uint64 `json:"count"`
	// Reason is one of the Lost* reasons.
	Reason string `json:"reason"`
	// FirstSeq and LastSeq bound the sequence numbers the lost events had:
	// each of the Count events had a number in the range, and no event
	// with one of those numbers that was not received will ever come.
	// Other numbers in the range may have been delivered.
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
	// First and Last are the times of the first and last lost event, when
	// known.
	First *time.Time `json:"first,omitempty"`
	Last  *time.Time `json:"last,omitempty"`
}

// Tag is the tag part of a tag event.
type Tag struct {
	// ID is the tag identifier in upper-case hex (for EM4100 the 10 digits;
	// for UHF the EPC).
	ID string `json:"id"`
	// Protocol is the reader protocol name.
	Protocol string `json:"protocol"`
	// Antenna is the 1-based antenna port, when the reader reports it.
	Antenna int `json:"antenna,omitempty"`
	// RSSI is the strongest signal seen in dBm, when the reader reports it.
	RSSI *int `json:"rssi,omitempty"`
	// EPC is the GS1 decoding of a UHF tag's EPC, when it is a known scheme.
	EPC *EPC `json:"epc,omitempty"`
	// Reads is how many raw reads the tag gave while present (departure only).
	Reads uint64 `json:"reads,omitempty"`
	// FirstSeen is when the tag arrived.
	FirstSeen time.Time `json:"first_seen"`
	// LastSeen is when it was last read.
	LastSeen time.Time `json:"last_seen"`
}

// EPC is a decoded GS1 Electronic Product Code.
type EPC struct {
	// Scheme is the EPC scheme: sgtin-96, sscc-96, grai-96, giai-96.
	Scheme string `json:"scheme"`
	// URI is the pure-identity URI, e.g. urn:epc:id:sgtin:0614141.812345.6789.
	URI string `json:"uri"`
	// GTIN is the GTIN-14 of an SGTIN.
	GTIN string `json:"gtin,omitempty"`
	// SSCC is the SSCC-18 of an SSCC.
	SSCC string `json:"sscc,omitempty"`
}

// Beam is the photo-eye part of a beam event.
type Beam struct {
	// DurationS is how long the beam was (Cleared) or has been (Held) blocked, in seconds.
	DurationS float64 `json:"duration_s,omitempty"`
}

// PassageInfo is the pair-of-beams part of a passage event.
type PassageInfo struct {
	// Direction is "in" or "out".
	Direction string `json:"direction"`
	// DurationS is how long the passage took, in seconds.
	DurationS float64 `json:"duration_s"`
	// In and Out are the pair's counts since the gateway started.
	In  uint64 `json:"in"`
	Out uint64 `json:"out"`
}

// Validate checks an event's fields; seqRequired says whether Seq must be set
// (true for a received payload, false for one about to be spooled).
func (e *Event) Validate(seqRequired bool) error {
	switch {
	case e.V != SchemaVersion:
		return fmt.Errorf("telemetry: event field v: schema version %d, want %d", e.V, SchemaVersion)
	case seqRequired && e.Seq == 0:
		return errors.New("telemetry: event field seq: missing or zero")
	case e.ID == "":
		return errors.New("telemetry: event field id: empty")
	case e.Time.IsZero():
		return errors.New("telemetry: event field time: missing")
	case !eventTypes[e.Type]:
		return fmt.Errorf("telemetry: event field type: unknown type %q", e.Type)
	}
	if err := ValidateName(e.Gateway); err != nil {
		return fmt.Errorf("telemetry: event field gateway: %w", err)
	}
	if err := ValidateName(e.Source); err != nil {
		return fmt.Errorf("telemetry: event field source: %w", err)
	}
	switch e.Type {
	case TagArrived, TagDeparted:
		if e.Tag == nil || e.Tag.ID == "" {
			return fmt.Errorf("telemetry: event field tag: %s without a tag id", e.Type)
		}
	case BeamBlocked, BeamCleared, BeamHeld:
		if e.Beam == nil {
			return fmt.Errorf("telemetry: event field beam: %s without beam details", e.Type)
		}
	case Passage:
		if e.PassageInfo == nil || (e.PassageInfo.Direction != "in" && e.PassageInfo.Direction != "out") {
			return errors.New("telemetry: event field passage: missing or direction not in/out")
		}
	case EventsLost:
		return e.Lost.validate()
	}
	return nil
}

func (l *Lost) validate() error {
	switch {
	case l == nil:
		return errors.New("telemetry: event field lost: events.lost without details")
	case l.Count == 0:
		return errors.New("telemetry: event field lost.count: zero")
	case !lostReasons[l.Reason]:
		return fmt.Errorf("telemetry: event field lost.reason: unknown reason %q", l.Reason)
	case l.FirstSeq == 0 || l.LastSeq < l.FirstSeq:
		return fmt.Errorf("telemetry: event field lost.first_seq/last_seq: %d..%d is not a range", l.FirstSeq, l.LastSeq)
	case l.Count-1 > l.LastSeq-l.FirstSeq:
		return fmt.Errorf("telemetry: event field lost.count: %d events cannot fit in seqs %d..%d", l.Count, l.FirstSeq, l.LastSeq)
	case l.First != nil && l.Last != nil && l.Last.Before(*l.First):
		return errors.New("telemetry: event field lost.last: before lost.first")
	}
	return nil
}

// EncodeEvent returns the JSON of e without its sequence number, as it is
// spooled; WithSeq adds the number when it is published.
func EncodeEvent(e *Event) ([]byte, error) {
	c := *e
	c.Seq = 0
	if err := c.Validate(false); err != nil {
		return nil, err
	}
	return json.Marshal(&c)
}

// WithSeq returns a spooled payload with "seq" added as its first member,
// appended to dst. The payload must be a JSON object without "seq".
func WithSeq(dst, payload []byte, seq uint64) ([]byte, error) {
	if len(payload) < 2 || payload[0] != '{' {
		return nil, errors.New("telemetry: spooled payload is not a JSON object")
	}
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	if !bytes.Equal(bytes.TrimSpace(payload[1:]), []byte("}")) {
		dst = append(dst, ',')
	}
	return append(dst, payload[1:]...), nil
}

// DecodeEvent parses and validates a published event payload (with seq).
// Unknown members are ignored so that newer gateways can add fields.
//
// The result is that of encoding/json followed by Validate(true), for every
// input; the decoding is a scanner without reflection (see decode.go). The
// event shares one allocation with its Tag, EPC and RSSI, and its string
// fields share another: keeping any of them keeps the whole (a few hundred
// bytes); b is not retained.
func DecodeEvent(b []byte) (*Event, error) {
	e, err := decodeEventFast(b)
	if err == errFallback {
		return decodeEventReflect(b)
	}
	return e, err
}

// Gateway states in a Status payload.
const (
	StateOnline  = "online"
	StateOffline = "offline"
)

// Status is the retained birth message and last will of a gateway.
type Status struct {
	// V is the schema version.
	V int `json:"v"`
	// Gateway is the gateway name.
	Gateway string `json:"gateway"`
	// State is StateOnline (birth) or StateOffline (last will, or a clean stop).
	State string `json:"state"`
	// Time is when the message was made; absent in the last will.
	Time *time.Time `json:"time,omitempty"`
	// Version is the gateway software version.
	Version string `json:"version,omitempty"`
	// Readers are the configured RFID readers.
	Readers []ReaderInfo `json:"readers,omitempty"`
	// Sensors are the configured photo-eyes.
	Sensors []SensorInfo `json:"sensors,omitempty"`
	// PresenceReset is true in a birth after a start that followed an
	// unclean end (a crash, kill -9 or power cut): the tags the gateway
	// reported present may since have left without a tag.departed. A
	// consumer forgets the presence state of this gateway's readers that
	// rests on events timed before this status's Time (the status is
	// retained and may be received again later); the
	// gateway then reports tag.arrived again for every tag still in the
	// field and tag.departed for those it had reported and no longer
	// sees (after the reader's departure time), so a consumer that kept
	// its state ends right too.
	PresenceReset bool `json:"presence_reset,omitempty"`
	// Update is the state of the gateway's latest update, when it had one
	// (see UpdateCommand); the gateway republishes its status at each step.
	Update *UpdateReport `json:"update,omitempty"`
}

// ReaderInfo describes a configured reader in a birth message.
type ReaderInfo struct {
	// Name is the reader's source name.
	Name string `json:"name"`
	// Protocol is its protocol.
	Protocol string `json:"protocol"`
	// Device is its serial device path.
	Device string `json:"device"`
}

// SensorInfo describes a configured photo-eye in a birth message.
type SensorInfo struct {
	// Name is the sensor's source name.
	Name string `json:"name"`
	// Pin is its GPIO pin name.
	Pin string `json:"pin"`
}

// EncodeStatus returns the JSON of a status message.
func EncodeStatus(s *Status) ([]byte, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	return json.Marshal(s)
}

// DecodeStatus parses and validates a status payload.
func DecodeStatus(b []byte) (*Status, error) {
	var s Status
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("telemetry: status payload: %w", err)
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

func (s *Status) validate() error {
	if s.V != SchemaVersion {
		return fmt.Errorf("telemetry: status field v: schema version %d, want %d", s.V, SchemaVersion)
	}
	if err := ValidateName(s.Gateway); err != nil {
		return fmt.Errorf("telemetry: status field gateway: %w", err)
	}
	if s.State != StateOnline && s.State != StateOffline {
		return fmt.Errorf("telemetry: status field state: %q is neither online nor offline", s.State)
	}
	if s.Update != nil {
		return s.Update.validate()
	}
	return nil
}
