package alerts

import "time"

// Kinds of condition, one per alert rule kind (config's RuleKinds).
const (
	// KindDeviceDown: a device does not answer SNMP (level).
	KindDeviceDown = "device-down"
	// KindSNMPCredentials: a device refuses the SNMPv3 credentials (level).
	KindSNMPCredentials = "snmp-credentials"
	// KindUplinkDown: an uplink interface is not up (level; Key: ifName).
	KindUplinkDown = "uplink-down"
	// KindPONDrop: a PON port lost a share of its online ONTs at once
	// (one-shot; Key: the port's ifName).
	KindPONDrop = "pon-drop"
	// KindDSLDrop: DSL lines left showtime in bulk (one-shot).
	KindDSLDrop = "dsl-drop"
	// KindTVOffAir: a TV transmitter or headend is off air (level).
	KindTVOffAir = "tv-off-air"
	// KindTVAlarm: a TV device raises its own alarms (level; Key: alarm).
	KindTVAlarm = "tv-alarm"
	// KindGatewayOffline: an edge gateway is offline or quiet (level).
	KindGatewayOffline = "gateway-offline"
	// KindEventsLost: a gateway reported events lost (one-shot).
	KindEventsLost = "events-lost"
	// KindSequenceGap: events of a gateway are missing (one-shot; cleared
	// early when the gap fills).
	KindSequenceGap = "sequence-gap"
	// KindDoorHeld: a photo-eye is held blocked, a cabinet door left open
	// (level; Key: the sensor).
	KindDoorHeld = "door-held"
	// KindTagDeparted: a tag left a reader's field (one-shot; Key:
	// reader/tag; rules select watched tags or EPC classes by Attrs).
	KindTagDeparted = "tag-departed"
)

// Subject types.
const (
	SubjectDevice  = "device"
	SubjectGateway = "gateway"
	SubjectSite    = "site"
)

// Subject is what an alert is about.
type Subject struct {
	// Type is SubjectDevice, SubjectGateway or SubjectSite.
	Type string `json:"type"`
	// ID is the device ID, gateway name or site ID.
	ID string `json:"id"`
	// Site is the inventory site of the device or gateway (the ID itself
	// for a site).
	Site string `json:"site,omitempty"`
}

// Signal is one observation of a condition, from the poller or the
// ingest. For a level condition Active says whether it holds now; a
// one-shot condition (KindPONDrop, KindDSLDrop, KindEventsLost,
// KindSequenceGap, KindTagDeparted) is sent with Active true when it
// happens (and KindSequenceGap with Active false when the gap fills).
type Signal struct {
	// Kind is one of the Kind constants.
	Kind string
	// Subject is the device, gateway or site.
	Subject Subject
	// Key tells apart several conditions of one kind on one subject (an
	// interface, a PON port, a sensor, reader/tag); empty when there is one.
	Key string
	// Active says whether the condition holds.
	Active bool
	// Time is when it was observed.
	Time time.Time
	// Summary is one line for a person ("ONTs online on gpon 0/1/3 fell
	// from 52 to 3").
	Summary string
	// Attrs are details rules may select on and receivers show (tag_id,
	// epc_uri, gtin, lost, first_seq, last_seq...).
	Attrs map[string]string
}

// Sink receives Signals; *Engine is one. Implementations must not block
// for long: the ingest calls it on its hot path.
type Sink interface {
	Signal(s Signal)
}
