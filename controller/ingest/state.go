package ingest

import (
	"maps"
	"time"

	"github.com/ngic/ngic/telemetry"
)

// Reasons a payload is refused (the values of Refusal.Reason and of the
// reason label): a bounded set.
const (
	// ReasonTopic: the topic is outside the telemetry schema.
	ReasonTopic = "topic"
	// ReasonUnknownGateway: the topic's gateway is not in the inventory
	// (SetGateways).
	ReasonUnknownGateway = "unknown-gateway"
	// ReasonTooLarge: the payload is larger than Options.MaxPayload.
	ReasonTooLarge = "too-large"
	// ReasonJSON: the payload is not JSON of the expected shape.
	ReasonJSON = "json"
	// ReasonVersion: the payload's schema version "v" is not
	// telemetry.SchemaVersion.
	ReasonVersion = "version"
	// ReasonInvalid: the payload fails the telemetry package's checks.
	ReasonInvalid = "invalid"
	// ReasonMismatch: the gateway (or source) named in the payload is not
	// the one of the topic.
	ReasonMismatch = "mismatch"
)

// Reasons lists every refusal reason.
var Reasons = []string{ReasonTopic, ReasonUnknownGateway, ReasonTooLarge, ReasonJSON,
	ReasonVersion, ReasonInvalid, ReasonMismatch}

// UnknownGateway is the gateway under which refusals whose gateway is not
// in the inventory (or that have none) are counted, so that a hostile
// client cannot grow the set of gateway labels. '#' cannot be in a
// gateway name, so no real gateway has this name.
const UnknownGateway = "#unknown"

// Gateway states in GatewayState.State.
const (
	// StateUnknown: nothing was heard from the gateway yet.
	StateUnknown = "unknown"
	// StateOnline and StateOffline are telemetry's states.
	StateOnline  = telemetry.StateOnline
	StateOffline = telemetry.StateOffline
)

// Causes of the offline state, in GatewayState.Cause.
const (
	// CauseStatus: the gateway's last will or clean-stop status.
	CauseStatus = "status"
	// CauseQuiet: nothing came from the gateway for Options.OfflineAfter.
	CauseQuiet = "quiet"
)

// Door states in DoorState.State.
const (
	DoorBlocked = "blocked" // beam.blocked: the beam is interrupted
	DoorHeld    = "held"    // beam.held: blocked past the gateway's time, a door left open
	DoorClosed  = "closed"  // beam.cleared: the beam is whole
)

// Counts are a gateway's durable counters (they survive a restart of the
// controller).
type Counts struct {
	// Events counts the events recorded, each once however often it was
	// delivered.
	Events uint64 `json:"events,omitempty"`
	// Duplicates counts the events delivered again (same seq or same id).
	Duplicates uint64 `json:"duplicates,omitempty"`
	// Statuses counts the status messages applied; StaleStatuses those not
	// newer than the state (a retained status delivered again).
	Statuses      uint64 `json:"statuses,omitempty"`
	StaleStatuses uint64 `json:"stale_statuses,omitempty"`
	// Health counts the health messages received.
	Health uint64 `json:"health,omitempty"`
	// Refused counts the refused payloads per Reason.
	Refused map[string]uint64 `json:"refused,omitempty"`
	// Lost counts the events the gateway reported lost (events.lost), per
	// telemetry Lost* reason; LossReports counts those reports.
	Lost        map[string]uint64 `json:"lost,omitempty"`
	LossReports uint64            `json:"loss_reports,omitempty"`
	// PresenceResets counts the births with presence_reset applied.
	PresenceResets uint64 `json:"presence_resets,omitempty"`
	// Gaps counts the sequence gaps detected (a gap filled in the batch
	// that opened it is none); GapsFilled those later filled by the
	// missing events and GapsExplained those closed with the help of an
	// events.lost.
	Gaps          uint64 `json:"gaps,omitempty"`
	GapsFilled    uint64 `json:"gaps_filled,omitempty"`
	GapsExplained uint64 `json:"gaps_explained,omitempty"`
	// GapsAbandoned counts the reported gaps closed unfilled because they
	// are no longer tracked: past the bounds of the sequence state (more
	// than 64 open gaps, or more than 1,024 holes), or left behind by a
	// sequence restart.
	GapsAbandoned uint64 `json:"gaps_abandoned,omitempty"`
	// SeqRestarts counts the times the gateway was seen numbering its
	// events from 1 again (a reinstall with a fresh spool).
	SeqRestarts uint64 `json:"seq_restarts,omitempty"`
	// LineErrors counts events and health messages recorded whose
	// InfluxDB line could not be encoded (a time outside 1677..2262).
	LineErrors uint64 `json:"line_errors,omitempty"`
	// OverBound counts tags, doors and passage pairs not kept in the
	// site state because the gateway is past the bounds.
	OverBound uint64 `json:"over_bound,omitempty"`
}

func (c *Counts) clone() Counts {
	d := *c
	d.Refused = maps.Clone(c.Refused)
	d.Lost = maps.Clone(c.Lost)
	return d
}

// scalars lists c's counters other than the maps, for add.
func (c *Counts) scalars() []*uint64 {
	return []*uint64{&c.Events, &c.Duplicates, &c.Statuses, &c.StaleStatuses, &c.Health, &c.LossReports,
		&c.PresenceResets, &c.Gaps, &c.GapsFilled, &c.GapsExplained, &c.GapsAbandoned, &c.SeqRestarts,
		&c.LineErrors, &c.OverBound}
}

// add adds o to c.
func (c *Counts) add(o *Counts) {
	dst, src := c.scalars(), o.scalars()
	for i := range dst {
		*dst[i] += *src[i]
	}
	c.Refused = addMap(c.Refused, o.Refused)
	c.Lost = addMap(c.Lost, o.Lost)
}

func addMap(dst, src map[string]uint64) map[string]uint64 {
	for k, v := range src {
		if dst == nil {
			dst = map[string]uint64{}
		}
		dst[k] += v
	}
	return dst
}

// inc adds n to m[k], making m when needed.
func inc(m *map[string]uint64, k string, n uint64) {
	if *m == nil {
		*m = map[string]uint64{}
	}
	(*m)[k] += n
}

// Stats are the ingest's counters.
type Stats struct {
	// Total sums the counts of every gateway and of UnknownGateway.
	Total Counts
	// Gateways are the counts per gateway, UnknownGateway included when
	// it refused anything.
	Gateways map[string]Counts
	// Batches counts the batches recorded since Open; BatchErrors those
	// that failed (Lines or the state commit), whose messages were not
	// acknowledged.
	Batches, BatchErrors uint64
	// RefusalsDropped counts the refusals not kept for Refusals because
	// the caller did not drain them fast enough.
	RefusalsDropped uint64
	// StateErrors counts failures to store a quiet-timeout change (Run
	// retries at its next check).
	StateErrors uint64
	// LastError is the last error of a batch or of Run ("" if none).
	LastError string
}

// Refusal is one refused payload, kept for the caller to log.
type Refusal struct {
	// Reason is one of the Reason constants.
	Reason string
	// Gateway is the topic's gateway as counted (UnknownGateway when not
	// in the inventory).
	Gateway string
	// Topic is the message's topic, cut to 200 bytes.
	Topic string
	// Err is what the parser said ("" when nothing more is known).
	Err string
	// Time is when it was refused.
	Time time.Time
}

// GatewayState is what the ingest knows of one gateway.
type GatewayState struct {
	// Name and Site (its inventory site, "" when not in the inventory).
	Name, Site string
	// State is StateOnline, StateOffline or StateUnknown; Cause says why
	// it is offline (CauseStatus or CauseQuiet).
	State, Cause string
	// Since is when the state last changed: the status message's time
	// when it had one, else the controller's clock.
	Since time.Time
	// StatusTime is the time of the newest status applied (the gateway's
	// clock); an older status delivered again is ignored.
	StatusTime time.Time
	// LastSeen is when the controller last received a message of the
	// gateway (its own clock).
	LastSeen time.Time
	// Version, Readers and Sensors are from the last birth.
	Version string
	Readers []telemetry.ReaderInfo
	Sensors []telemetry.SensorInfo
	// Health is the newest health message (nil before the first).
	Health *telemetry.Health
	// Counts are the gateway's counters.
	Counts Counts
	// SeqLow is the low-water mark: every seq up to it was received or
	// explained by an events.lost. SeqHigh is the highest received or
	// explained.
	SeqLow, SeqHigh uint64
	// Missing is the number of seqs between SeqLow and SeqHigh neither
	// received nor explained.
	Missing uint64
	// Abandoned counts the missing seqs given up past the state's bounds.
	Abandoned uint64
	// Gaps are the open (reported) sequence gaps, as first detected.
	Gaps []Gap
	// TagsPresent is the number of tags present on its readers.
	TagsPresent int
}

// Gap is an open sequence gap: the seqs FirstSeq..LastSeq were missing
// when it was detected; Missing of them still are.
type Gap struct {
	FirstSeq, LastSeq, Missing uint64
}

// PresentTag is a tag present in a reader's field.
type PresentTag struct {
	// ID is the tag identifier (upper-case hex).
	ID string `json:"id"`
	// Protocol is the reader protocol.
	Protocol string `json:"protocol,omitempty"`
	// Antenna is the antenna port, 0 when not reported.
	Antenna int `json:"antenna,omitempty"`
	// RSSI in dBm, when reported.
	RSSI *int `json:"rssi,omitempty"`
	// EPC is the GS1 identity of a UHF tag with a known scheme (scheme,
	// pure-identity URI, GTIN or SSCC).
	EPC *telemetry.EPC `json:"epc,omitempty"`
	// FirstSeen is when the tag arrived (the gateway's clock).
	FirstSeen time.Time `json:"first_seen"`
	// Time and Seq are the arrival event's time and seq.
	Time time.Time `json:"time"`
	Seq  uint64    `json:"seq"`
}

// ReaderState is the tags present on one reader.
type ReaderState struct {
	Gateway, Reader string
	Tags            []PresentTag
}

// DoorState is the state of one photo-eye.
type DoorState struct {
	// Gateway and Sensor (the event's source).
	Gateway string `json:"gateway"`
	Sensor  string `json:"sensor"`
	// State is DoorBlocked, DoorHeld or DoorClosed.
	State string `json:"state"`
	// Since is the time of the event that set it (the gateway's clock).
	Since time.Time `json:"since"`
	// Seq is that event's seq.
	Seq uint64 `json:"seq"`
}

// PassageState is the passages through one pair of beams.
type PassageState struct {
	// Gateway and Pair (the event's source).
	Gateway string `json:"gateway"`
	Pair    string `json:"pair"`
	// In and Out are the pair's counts as the gateway last reported them
	// (since the gateway started).
	In  uint64 `json:"in"`
	Out uint64 `json:"out"`
	// CountedIn and CountedOut count the passage events recorded, each
	// once, across gateway restarts.
	CountedIn  uint64 `json:"counted_in"`
	CountedOut uint64 `json:"counted_out"`
	// Last and Seq are the time and seq of the newest passage.
	Last time.Time `json:"last"`
	Seq  uint64    `json:"seq"`
}

// SiteState is the state of one inventory site derived from the events
// of its gateways.
type SiteState struct {
	// Site is the inventory site ("" for gateways no longer in it).
	Site string
	// Gateways are its gateways' names.
	Gateways []string
	// Readers are the readers with tags present.
	Readers []ReaderState
	// Doors and Passages, by gateway and source.
	Doors    []DoorState
	Passages []PassageState
}
