package telemetry

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file is the decoder of event payloads, the hot path of the
// controller's ingest. It gives exactly the results of encoding/json into an
// Event followed by Validate(true) (decodeEventReflect, which it falls back
// to when the input is unusual), without reflection and in two allocations
// for a tag event: one block holding the Event, its Tag, EPC and RSSI, and
// one string holding every string field.
//
// What it reproduces of encoding/json:
//   - the whole input must be one valid JSON value, with only white space
//     after it; nesting, literals, numbers and string escapes are checked
//     in unknown members too;
//   - member names match the fields case-insensitively (ASCII letters only
//     fold here; a name with an escape or a non-ASCII byte goes to the
//     fallback, which folds Unicode as encoding/json does);
//   - a repeated member is decoded again over the first: the last wins, and
//     a repeated object member merges into the struct already allocated;
//   - null leaves a non-pointer field as it was and sets a pointer to nil;
//   - integers are strconv.ParseInt/ParseUint of the number's text (a
//     fraction, an exponent, a sign on an unsigned or an overflow is an
//     error), floats strconv.ParseFloat;
//   - a time is (*time.Time).UnmarshalJSON of the raw value, quotes and
//     escapes included, exactly what encoding/json hands it (the UTC form
//     gateways write is parsed here to the same result: parseTimeUTC);
//   - unknown members of any type are skipped.
//
// The member names are first compared with those encoding/json writes, in
// its order (object, predicted): a gateway's payload has every name where
// it is expected, and only other payloads have theirs read and looked up.
//
// Falls back to encoding/json: a decoded string (or member name) holding
// an escape or bytes that are not valid UTF-8, a non-ASCII member name,
// and unknown members nested deeper than maxSkipDepth.

// maxSkipDepth bounds the nesting the fast path skips; encoding/json
// refuses more than 10000 levels, and the fallback applies that rule.
const maxSkipDepth = 1000

// ErrMalformed is wrapped by the errors of DecodeEvent for a payload that
// is not JSON of an event's shape (bad syntax, a member of the wrong type,
// a number out of range, a time that does not parse), as opposed to the
// errors of Validate for an event whose fields are wrong.
var ErrMalformed = errors.New("telemetry: malformed payload")

// malformed is a shape error: its message, ErrMalformed and its cause.
type malformed struct {
	msg   string
	cause error
}

func (e *malformed) Error() string { return e.msg }
func (e *malformed) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrMalformed}
	}
	return []error{ErrMalformed, e.cause}
}

// payloadErrorf makes a shape error; a %w in format names its cause.
func payloadErrorf(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &malformed{msg: err.Error(), cause: errors.Unwrap(err)}
}

// errFallback says the fast path met something it leaves to encoding/json.
var errFallback = errors.New("telemetry: fall back to encoding/json")

// decodeEventReflect is the reference decoder: encoding/json into an Event,
// then Validate(true).
func decodeEventReflect(b []byte) (*Event, error) {
	var e Event
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, payloadErrorf("telemetry: event payload: %w", err)
	}
	if err := e.Validate(true); err != nil {
		return nil, err
	}
	return &e, nil
}

// decodeEventFast is DecodeEvent without reflection; errFallback means the
// caller must use decodeEventReflect.
func decodeEventFast(b []byte) (*Event, error) {
	d := eventDecoder{b: b}
	if err := d.top(); err != nil {
		return nil, err
	}
	e := d.build()
	if err := e.Validate(true); err != nil {
		return nil, err
	}
	return e, nil
}

// span is where a decoded string lies in the input.
type span struct{ off, end int }

// The string fields, as indexes of eventDecoder.str.
const (
	strID = iota
	strGateway
	strSource
	strType
	strTagID
	strTagProtocol
	strEPCScheme
	strEPCURI
	strEPCGTIN
	strEPCSSCC
	strLostReason
	strDirection
	numStr
)

// eventDecoder holds an event while it is decoded: the sub-structs are
// values with a flag saying whether their pointer would be set, and the
// string fields are spans of the input, copied once at the end.
type eventDecoder struct {
	b   []byte
	i   int
	str [numStr]span

	ev               Event
	tag              Tag
	epc              EPC
	rssi             int
	beam             Beam
	pass             PassageInfo
	lost             Lost
	first, last      time.Time
	hasTag, hasEPC   bool
	hasRSSI, hasBeam bool
	hasPass, hasLost bool
	hasFirst         bool
	hasLast          bool
	// firstTime is the first time parsed by parseTimeUTC (the event's
	// own, in a gateway's payload), at span firstTimeAt: a gateway's tag
	// event often repeats it in first_seen or last_seen.
	firstTime   time.Time
	firstTimeAt span
}

// tagBlock is the one allocation of a decoded tag event.
type tagBlock struct {
	ev   Event
	tag  Tag
	epc  EPC
	rssi int
}

// build allocates the decoded event.
func (d *eventDecoder) build() *Event {
	var e *Event
	if d.hasTag {
		blk := &tagBlock{ev: d.ev, tag: d.tag}
		e = &blk.ev
		e.Tag = &blk.tag
		if d.hasRSSI {
			blk.rssi = d.rssi
			blk.tag.RSSI = &blk.rssi
		}
		if d.hasEPC {
			blk.epc = d.epc
			blk.tag.EPC = &blk.epc
		}
	} else {
		e = new(Event)
		*e = d.ev
	}
	if d.hasBeam {
		b := d.beam
		e.Beam = &b
	}
	if d.hasPass {
		p := d.pass
		e.PassageInfo = &p
	}
	if d.hasLost {
		l := d.lost
		if d.hasFirst {
			t := d.first
			l.First = &t
		}
		if d.hasLast {
			t := d.last
			l.Last = &t
		}
		e.Lost = &l
	}
	d.strings(e)
	return e
}

// strings copies every string field into one string and sets the fields.
func (d *eventDecoder) strings(e *Event) {
	var dst [numStr]*string
	dst[strID], dst[strGateway], dst[strSource], dst[strType] = &e.ID, &e.Gateway, &e.Source, &e.Type
	if t := e.Tag; t != nil {
		dst[strTagID], dst[strTagProtocol] = &t.ID, &t.Protocol
		if p := t.EPC; p != nil {
			dst[strEPCScheme], dst[strEPCURI], dst[strEPCGTIN], dst[strEPCSSCC] = &p.Scheme, &p.URI, &p.GTIN, &p.SSCC
		}
	}
	if e.Lost != nil {
		dst[strLostReason] = &e.Lost.Reason
	}
	if e.PassageInfo != nil {
		dst[strDirection] = &e.PassageInfo.Direction
	}
	if t, ok := knownType(d.b[d.str[strType].off:d.str[strType].end]); ok {
		e.Type = t
		dst[strType] = nil
	}
	n := 0
	for i, p := range dst {
		if p != nil {
			n += d.str[i].end - d.str[i].off
		}
	}
	if n == 0 {
		return
	}
	var sb strings.Builder
	sb.Grow(n)
	for i, p := range dst {
		if p != nil {
			sb.Write(d.b[d.str[i].off:d.str[i].end])
		}
	}
	all, at := sb.String(), 0
	for i, p := range dst {
		if p != nil {
			l := d.str[i].end - d.str[i].off
			*p = all[at : at+l]
			at += l
		}
	}
}

// knownType returns the constant spelling an event type, so that the
// commonest string costs nothing.
func knownType(b []byte) (string, bool) {
	switch string(b) {
	case TagArrived:
		return TagArrived, true
	case TagDeparted:
		return TagDeparted, true
	case BeamBlocked:
		return BeamBlocked, true
	case BeamCleared:
		return BeamCleared, true
	case BeamHeld:
		return BeamHeld, true
	case Passage:
		return Passage, true
	case EventsLost:
		return EventsLost, true
	}
	return "", false
}

// top decodes the whole input: one object (or null) and white space.
func (d *eventDecoder) top() error {
	d.ws()
	switch {
	case d.null():
		// encoding/json leaves the event zero, which Validate refuses.
	case d.i < len(d.b) && d.b[d.i] == '{':
		if err := d.object(eventOrder, d.eventMember); err != nil {
			return err
		}
	default:
		if err := d.value(typeObject); err != nil {
			return err
		}
	}
	d.ws()
	if d.i != len(d.b) {
		return d.syntax("after the top-level value")
	}
	return nil
}

// eventMember decodes one member of the event object.
func (d *eventDecoder) eventMember(key field) error {
	switch key {
	case kV:
		return d.int(&d.ev.V)
	case kSeq:
		return d.uint(&d.ev.Seq)
	case kID:
		return d.string(strID)
	case kGateway:
		return d.string(strGateway)
	case kSource:
		return d.string(strSource)
	case kType:
		return d.string(strType)
	case kTime:
		return d.time(&d.ev.Time)
	case kTag:
		return d.sub(&d.hasTag, d.resetTag, tagOrder, d.tagMember)
	case kBeam:
		return d.sub(&d.hasBeam, func() { d.beam = Beam{} }, beamOrder, d.beamMember)
	case kPassage:
		return d.sub(&d.hasPass, d.resetPassage, passageOrder, d.passageMember)
	case kLost:
		return d.sub(&d.hasLost, d.resetLost, lostOrder, d.lostMember)
	}
	return d.skip(0)
}

func (d *eventDecoder) resetTag() {
	d.tag, d.hasEPC, d.hasRSSI = Tag{}, false, false
	d.str[strTagID], d.str[strTagProtocol] = span{}, span{}
}

func (d *eventDecoder) resetEPC() {
	d.epc = EPC{}
	d.str[strEPCScheme], d.str[strEPCURI], d.str[strEPCGTIN], d.str[strEPCSSCC] = span{}, span{}, span{}, span{}
}

func (d *eventDecoder) resetPassage() {
	d.pass = PassageInfo{}
	d.str[strDirection] = span{}
}

func (d *eventDecoder) resetLost() {
	d.lost, d.hasFirst, d.hasLast = Lost{}, false, false
	d.str[strLostReason] = span{}
}

func (d *eventDecoder) tagMember(key field) error {
	switch key {
	case kID:
		return d.string(strTagID)
	case kProtocol:
		return d.string(strTagProtocol)
	case kAntenna:
		return d.int(&d.tag.Antenna)
	case kRSSI:
		if d.null() {
			d.hasRSSI = false
			return nil
		}
		if !d.hasRSSI {
			d.rssi, d.hasRSSI = 0, true
		}
		return d.int(&d.rssi)
	case kEPC:
		return d.sub(&d.hasEPC, d.resetEPC, epcOrder, d.epcMember)
	case kReads:
		return d.uint(&d.tag.Reads)
	case kFirstSeen:
		return d.time(&d.tag.FirstSeen)
	case kLastSeen:
		return d.time(&d.tag.LastSeen)
	}
	return d.skip(0)
}

func (d *eventDecoder) epcMember(key field) error {
	switch key {
	case kScheme:
		return d.string(strEPCScheme)
	case kURI:
		return d.string(strEPCURI)
	case kGTIN:
		return d.string(strEPCGTIN)
	case kSSCC:
		return d.string(strEPCSSCC)
	}
	return d.skip(0)
}

func (d *eventDecoder) beamMember(key field) error {
	if key == kDurationS {
		return d.float(&d.beam.DurationS)
	}
	return d.skip(0)
}

func (d *eventDecoder) passageMember(key field) error {
	switch key {
	case kDirection:
		return d.string(strDirection)
	case kDurationS:
		return d.float(&d.pass.DurationS)
	case kIn:
		return d.uint(&d.pass.In)
	case kOut:
		return d.uint(&d.pass.Out)
	}
	return d.skip(0)
}

func (d *eventDecoder) lostMember(key field) error {
	switch key {
	case kCount:
		return d.uint(&d.lost.Count)
	case kReason:
		return d.string(strLostReason)
	case kFirstSeq:
		return d.uint(&d.lost.FirstSeq)
	case kLastSeq:
		return d.uint(&d.lost.LastSeq)
	case kFirst:
		return d.timePtr(&d.hasFirst, &d.first)
	case kLast:
		return d.timePtr(&d.hasLast, &d.last)
	}
	return d.skip(0)
}

// sub decodes a member holding a pointer to a struct: null sets the
// pointer to nil, an object is decoded into the struct (a new zero one if
// the pointer was nil), anything else is an error.
func (d *eventDecoder) sub(has *bool, reset func(), order []field, member func(field) error) error {
	if d.null() {
		*has = false
		return nil
	}
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return d.value(typeObject)
	}
	if !*has {
		reset()
		*has = true
	}
	return d.object(order, member)
}

// object decodes an object whose '{' is at d.i, handing each member's
// folded name to member, which must consume the value. order is the order
// in which encoding/json writes the members of the struct (the gateways'
// payloads): each member name is first compared with the next ones of it
// (see predicted), and read in full only when it is none of them.
func (d *eventDecoder) object(order []field, member func(field) error) error {
	if d.open('}') {
		return nil
	}
	next := 0
	for {
		key, at := d.predicted(order, next)
		if at >= 0 {
			next = at + 1
		} else {
			var err error
			if key, err = d.memberName(); err != nil {
				return err
			}
		}
		if err := member(key); err != nil {
			return err
		}
		if more, err := d.more('}'); !more {
			return err
		}
	}
}

// predicted looks at d.i for one of the member names order[next:], quoted
// and followed at once by the colon: on a match it passes over them and
// the white space after, as memberName would, and returns the field and
// its index in order; otherwise it returns -1 and leaves d.i.
func (d *eventDecoder) predicted(order []field, next int) (field, int) {
	rest := d.b[d.i:]
	if len(rest) >= 16 {
		a, b := load64(rest, 0), load64(rest, 8)
		for j := next; j < len(order); j++ {
			if q := &quotedWords[order[j]]; a&q.m0 == q.w0 && b&q.m1 == q.w1 {
				d.i += q.n
				d.ws()
				return order[j], j
			}
		}
		return kUnknown, -1
	}
	for j := next; j < len(order); j++ {
		q := quotedNames[order[j]]
		if len(rest) >= len(q) && string(rest[:len(q)]) == q {
			d.i += len(q)
			d.ws()
			return order[j], j
		}
	}
	return kUnknown, -1
}

// The orders in which encoding/json writes the members of the structs.
var (
	eventOrder   = []field{kSeq, kV, kID, kGateway, kSource, kType, kTime, kTag, kBeam, kPassage, kLost}
	tagOrder     = []field{kID, kProtocol, kAntenna, kRSSI, kEPC, kReads, kFirstSeen, kLastSeen}
	epcOrder     = []field{kScheme, kURI, kGTIN, kSSCC}
	beamOrder    = []field{kDurationS}
	passageOrder = []field{kDirection, kDurationS, kIn, kOut}
	lostOrder    = []field{kCount, kReason, kFirstSeq, kLastSeq, kFirst, kLast}
)

// quotedNames are the field names quoted, with the colon after them.
var quotedNames = func() (q [len(fieldNames)]string) {
	for f, name := range fieldNames {
		q[f] = `"` + name + `":`
	}
	return q
}()

// quotedWords are quotedNames as two little-endian words with the masks
// of their bytes, to compare a name with sixteen bytes of input at once.
var quotedWords = func() (q [len(fieldNames)]nameWords) {
	for f, name := range quotedNames {
		var b, m [16]byte
		if len(name) > len(b) {
			panic("telemetry: member name longer than 14 bytes: " + name)
		}
		copy(b[:], name)
		for i := range name {
			m[i] = 0xff
		}
		q[f] = nameWords{w0: load64(b[:], 0), w1: load64(b[:], 8), m0: load64(m[:], 0), m1: load64(m[:], 8), n: len(name)}
	}
	return q
}()

// nameWords is a quoted name as two words and their masks, and its length.
type nameWords struct {
	w0, w1, m0, m1 uint64
	n              int
}

// field names a member of any of the event's objects.
type field uint8

// The members.
const (
	kUnknown field = iota
	kV
	kSeq
	kID
	kGateway
	kSource
	kType
	kTime
	kTag
	kBeam
	kPassage
	kLost
	kProtocol
	kAntenna
	kRSSI
	kEPC
	kReads
	kFirstSeen
	kLastSeen
	kScheme
	kURI
	kGTIN
	kSSCC
	kDurationS
	kDirection
	kIn
	kOut
	kCount
	kReason
	kFirstSeq
	kLastSeq
	kFirst
	kLast
)

// fieldNames spells the fields, folded.
var fieldNames = [...]string{
	kV:         "v",
	kSeq:       "seq",
	kID:        "id",
	kGateway:   "gateway",
	kSource:    "source",
	kType:      "type",
	kTime:      "time",
	kTag:       "tag",
	kBeam:      "beam",
	kPassage:   "passage",
	kLost:      "lost",
	kProtocol:  "protocol",
	kAntenna:   "antenna",
	kRSSI:      "rssi",
	kEPC:       "epc",
	kReads:     "reads",
	kFirstSeen: "first_seen",
	kLastSeen:  "last_seen",
	kScheme:    "scheme",
	kURI:       "uri",
	kGTIN:      "gtin",
	kSSCC:      "sscc",
	kDurationS: "duration_s",
	kDirection: "direction",
	kIn:        "in",
	kOut:       "out",
	kCount:     "count",
	kReason:    "reason",
	kFirstSeq:  "first_seq",
	kLastSeq:   "last_seq",
	kFirst:     "first",
	kLast:      "last",
}

// fieldTable maps fieldHash of a name to the only field that can have it.
var fieldTable = func() (t [64]field) {
	for f, name := range fieldNames[1:] {
		h := fieldHash(name[0], name[min(1, len(name)-1)], len(name))
		if t[h] != kUnknown {
			panic("telemetry: two fields have the same hash: " + name)
		}
		t[h] = field(f + 1)
	}
	return t
}()

// fieldHash is a perfect hash of the field names: their length and first
// two bytes (the first twice for "v").
func fieldHash(c0, c1 byte, n int) int {
	return (int(c0)*16 + int(c1)*27 + n) & 63
}

// lookupField returns the field a member name selects: encoding/json
// compares names folded, which for ASCII is the letters to lower case;
// every field name is lower-case ASCII, and the caller has sent every
// other name to the fallback.
func lookupField(name []byte) field {
	if len(name) == 0 {
		return kUnknown
	}
	f := fieldTable[fieldHash(lower(name[0]), lower(name[min(1, len(name)-1)]), len(name))]
	want := fieldNames[f]
	if len(want) != len(name) {
		return kUnknown
	}
	for j, c := range name {
		if lower(c) != want[j] {
			return kUnknown
		}
	}
	return f
}

// lower folds an ASCII letter to lower case.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// memberName reads a member name, its colon and the white space after,
// and returns its field.
func (d *eventDecoder) memberName() (field, error) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return kUnknown, d.syntax("looking for a member name")
	}
	d.i++
	start := d.i
	for d.i = plainEnd(d.b, start); d.i < len(d.b); d.i++ {
		c := d.b[d.i]
		switch {
		case c == '"':
			name := d.b[start:d.i]
			d.i++
			return lookupField(name), d.colon()
		case c == '\\' || c >= utf8.RuneSelf:
			return kUnknown, errFallback
		case c < ' ':
			return kUnknown, d.syntax("in a member name")
		}
	}
	return kUnknown, d.syntax("in a member name")
}

// string decodes a string member into the span str[which]; null leaves it.
func (d *eventDecoder) string(which int) error {
	if d.null() {
		return nil
	}
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return d.value(typeString)
	}
	start := d.i + 1
	ascii := true
	for j := plainEnd(d.b, start); j < len(d.b); j++ {
		c := d.b[j]
		switch {
		case c == '"':
			if !ascii && !utf8.Valid(d.b[start:j]) {
				return errFallback
			}
			d.str[which] = span{start, j}
			d.i = j + 1
			return nil
		case c == '\\':
			return errFallback
		case c < ' ':
			d.i = j
			return d.syntax("in a string")
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	d.i = len(d.b)
	return d.syntax("in a string")
}

// number reads a number's text, checked against the JSON grammar.
func (d *eventDecoder) number() ([]byte, error) {
	start := d.i
	if err := d.scanNumber(); err != nil {
		return nil, err
	}
	return d.b[start:d.i], nil
}

// int decodes an int member as strconv.ParseInt does; null leaves it.
func (d *eventDecoder) int(v *int) error {
	if d.null() {
		return nil
	}
	if !d.atNumber() {
		return d.value(typeNumber)
	}
	num, err := d.number()
	if err != nil {
		return err
	}
	neg := num[0] == '-'
	if neg {
		num = num[1:]
	}
	u, ok := parseDigits(num)
	switch {
	case !ok:
	case !neg && u <= math.MaxInt:
		*v = int(u)
		return nil
	case neg && u <= -math.MinInt:
		*v = int(-int64(u)) // -MinInt64 wraps to itself
		return nil
	}
	return d.typeErr("an int")
}

// uint decodes a uint64 member as strconv.ParseUint does; null leaves it.
func (d *eventDecoder) uint(v *uint64) error {
	if d.null() {
		return nil
	}
	if !d.atNumber() {
		return d.value(typeNumber)
	}
	num, err := d.number()
	if err != nil {
		return err
	}
	u, ok := parseDigits(num)
	if !ok {
		return d.typeErr("an unsigned integer")
	}
	*v = u
	return nil
}

// parseDigits parses decimal digits into a uint64, refusing anything
// else and overflow.
func parseDigits(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n := u*10 + uint64(c-'0')
		if u > (1<<64-1)/10 || n < u*10 {
			return 0, false
		}
		u = n
	}
	return u, true
}

// float decodes a float64 member as strconv.ParseFloat does; null leaves it.
func (d *eventDecoder) float(v *float64) error {
	if d.null() {
		return nil
	}
	if !d.atNumber() {
		return d.value(typeNumber)
	}
	num, err := d.number()
	if err != nil {
		return err
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil {
		return d.typeErr("a float64")
	}
	*v = f
	return nil
}

// time decodes a time member with (*time.Time).UnmarshalJSON of the raw
// value; null leaves it. A string of plain ASCII in the form gateways
// write, UTC with up to nine decimals, is parsed here (see parseTimeUTC).
func (d *eventDecoder) time(t *time.Time) error {
	if d.i < len(d.b) && d.b[d.i] == '"' {
		if end := plainEnd(d.b, d.i+1); end < len(d.b) && d.b[end] == '"' {
			raw := d.b[d.i+1 : end]
			at := d.firstTimeAt
			if at.end > at.off && string(raw) == string(d.b[at.off:at.end]) {
				*t = d.firstTime
				d.i = end + 1
				return nil
			}
			if v, ok := parseTimeUTC(raw); ok {
				if at.end == at.off {
					d.firstTime, d.firstTimeAt = v, span{d.i + 1, end}
				}
				*t = v
				d.i = end + 1
				return nil
			}
		}
	}
	start := d.i
	if err := d.skip(0); err != nil {
		return err
	}
	if err := t.UnmarshalJSON(d.b[start:d.i]); err != nil {
		return payloadErrorf("telemetry: event payload: offset %d: %w", start, err)
	}
	return nil
}

// timePtr decodes a *time.Time member: null sets it to nil.
func (d *eventDecoder) timePtr(has *bool, t *time.Time) error {
	if d.null() {
		*has = false
		return nil
	}
	if !*has {
		*t, *has = time.Time{}, true
	}
	return d.time(t)
}

// null consumes a null literal at d.i, if there is one.
func (d *eventDecoder) null() bool {
	if len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

func (d *eventDecoder) atNumber() bool {
	return d.i < len(d.b) && (d.b[d.i] == '-' || '0' <= d.b[d.i] && d.b[d.i] <= '9')
}

// What a member wanted, for a type error.
const (
	typeObject = "an object"
	typeString = "a string"
	typeNumber = "a number"
)

// value checks the value at d.i, which is of the wrong type for a field
// that wants the given type: a syntax error if it is not valid JSON, a type
// error otherwise.
func (d *eventDecoder) value(want string) error {
	start := d.i
	if err := d.skip(0); err != nil {
		return err
	}
	return payloadErrorf("telemetry: event payload: offset %d: %.20q is not %s", start, d.b[start:d.i], want)
}

func (d *eventDecoder) typeErr(want string) error {
	return payloadErrorf("telemetry: event payload: offset %d: number does not fit %s", d.i, want)
}

func (d *eventDecoder) syntax(where string) error {
	if d.i >= len(d.b) {
		return payloadErrorf("telemetry: event payload: unexpected end of input %s", where)
	}
	return payloadErrorf("telemetry: event payload: offset %d: invalid character %q %s", d.i, d.b[d.i], where)
}

// open passes over the '{' or '[' at d.i and the white space after it, and
// says whether the closing byte follows at once (and passes over it).
func (d *eventDecoder) open(closing byte) bool {
	d.i++
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == closing {
		d.i++
		return true
	}
	return false
}

// more passes over the white space and the comma or closing byte after a
// member or element, and says whether another one follows.
func (d *eventDecoder) more(closing byte) (bool, error) {
	d.ws()
	if d.i < len(d.b) {
		switch d.b[d.i] {
		case ',':
			d.i++
			d.ws()
			return true, nil
		case closing:
			d.i++
			return false, nil
		}
	}
	return false, d.syntax("after a member or element")
}

// colon passes over the colon after a member name and the white space
// around it.
func (d *eventDecoder) colon() error {
	d.ws()
	if d.i >= len(d.b) || d.b[d.i] != ':' {
		return d.syntax("after a member name")
	}
	d.i++
	d.ws()
	return nil
}

// ws skips JSON white space.
func (d *eventDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// skip checks and passes over any JSON value at d.i.
func (d *eventDecoder) skip(depth int) error {
	if depth > maxSkipDepth {
		return errFallback
	}
	if d.i >= len(d.b) {
		return d.syntax("looking for a value")
	}
	switch c := d.b[d.i]; {
	case c == '{':
		if d.open('}') {
			return nil
		}
		for {
			if d.i >= len(d.b) || d.b[d.i] != '"' {
				return d.syntax("looking for a member name")
			}
			if err := d.skipString(); err != nil {
				return err
			}
			if err := d.colon(); err != nil {
				return err
			}
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			if more, err := d.more('}'); !more {
				return err
			}
		}
	case c == '[':
		if d.open(']') {
			return nil
		}
		for {
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			if more, err := d.more(']'); !more {
				return err
			}
		}
	case c == '"':
		return d.skipString()
	case c == '-' || '0' <= c && c <= '9':
		return d.scanNumber()
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	}
	return d.syntax("looking for a value")
}

func (d *eventDecoder) literal(lit string) error {
	for j := 0; j < len(lit); j++ {
		if d.i >= len(d.b) || d.b[d.i] != lit[j] {
			return d.syntax("in a literal")
		}
		d.i++
	}
	return nil
}

// skipString checks and passes over a string at d.i: no control
// characters, only JSON's escapes. Bytes that are not UTF-8 are allowed,
// as encoding/json allows them.
func (d *eventDecoder) skipString() error {
	for d.i = plainEnd(d.b, d.i+1); d.i < len(d.b); d.i++ {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return nil
		case c < ' ':
			return d.syntax("in a string")
		case c == '\\':
			d.i++
			if d.i >= len(d.b) {
				return d.syntax("in a string escape")
			}
			switch d.b[d.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				for range 4 {
					d.i++
					if d.i >= len(d.b) || !isHex(d.b[d.i]) {
						return d.syntax("in a \\u escape")
					}
				}
			default:
				return d.syntax("in a string escape")
			}
		}
	}
	return d.syntax("in a string")
}

// plain marks the bytes a string holds as they are: printable ASCII but
// the quote and the backslash.
var plain = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainEnd returns the index of the first byte of b from i on that is
// not plain. It passes over eight plain bytes at a time.
func plainEnd[T string | []byte](b T, i int) int {
	for ; i+8 <= len(b); i += 8 {
		if !plainWord(load64(b, i)) {
			break
		}
	}
	for i < len(b) && plain[b[i]] {
		i++
	}
	return i
}

// load64 reads the eight bytes of b from i as a little-endian word (one
// load: the compiler merges the byte reads).
func load64[T string | []byte](b T, i int) uint64 {
	b = b[i : i+8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// Bytes repeated over a word, for plainWord.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plainWord tells whether the eight bytes of w are plain: none below
// 0x20, none from 0x80, no quote, no backslash. (x - ones*n) &^ x & highs
// is nonzero exactly when a byte of x is below n, for n up to 0x80.
func plainWord(w uint64) bool {
	quote, backslash := w^('"'*ones), w^('\\'*ones)
	return ((w-' '*ones)&^w|(quote-ones)&^quote|(backslash-ones)&^backslash|w)&highs == 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// scanNumber checks and passes over a number at d.i:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *eventDecoder) scanNumber() error {
	if d.b[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i >= len(d.b):
		return d.syntax("in a number")
	case d.b[d.i] == '0':
		d.i++
	case '1' <= d.b[d.i] && d.b[d.i] <= '9':
		d.digits()
	default:
		return d.syntax("in a number")
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if !d.digits() {
			return d.syntax("after a decimal point")
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if !d.digits() {
			return d.syntax("in an exponent")
		}
	}
	return nil
}

// digits passes over decimal digits and says whether there was one.
func (d *eventDecoder) digits() bool {
	start := d.i
	for d.i < len(d.b) && '0' <= d.b[d.i] && d.b[d.i] <= '9' {
		d.i++
	}
	return d.i > start
}

// parseTimeUTC parses "2006-01-02T15:04:05Z" with an optional fraction of
// one to nine digits before the Z, giving what time.Parse with
// time.RFC3339 gives (time.Date in UTC); ok is false for anything else,
// valid or not, which the caller leaves to (*time.Time).UnmarshalJSON.
func parseTimeUTC(s []byte) (t time.Time, ok bool) {
	if len(s) < len("2006-01-02T15:04:05Z") || s[len(s)-1] != 'Z' ||
		s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := decimal(s[0:4])
	month, ok2 := decimal(s[5:7])
	day, ok3 := decimal(s[8:10])
	hour, ok4 := decimal(s[11:13])
	minute, ok5 := decimal(s[14:16])
	sec, ok6 := decimal(s[17:19])
	nsec, ok := 0, ok1 && ok2 && ok3 && ok4 && ok5 && ok6
	switch frac := s[19 : len(s)-1]; {
	case len(frac) == 0:
	case frac[0] == '.' && len(frac) >= 2 && len(frac) <= 10:
		var okf bool
		nsec, okf = decimal(frac[1:])
		ok = ok && okf
		for range 10 - len(frac) {
			nsec *= 10
		}
	default:
		return time.Time{}, false
	}
	if !ok || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	unix := daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+sec)
	return time.Unix(unix, int64(nsec)).UTC(), true // what time.Date gives in UTC, without its normalising
}

// daysSinceEpoch is the number of days from 1970-01-01 to the given date
// of the proleptic Gregorian calendar (valid, years 0 to 9999), counted in
// eras of 400 years that start on March 1st (so the leap day ends a year).
func daysSinceEpoch(year, month, day int) int64 {
	if month <= 2 {
		year-- // January and February end the year before
	}
	era := (year+400)/400 - 1     // floor division for year -1
	yoe := year - era*400         // year of the era, 0..399
	mp := (month + 9) % 12        // month from March, 0..11
	doy := (153*mp+2)/5 + day - 1 // day of the year from March 1st
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// decimal parses up to nine decimal digits; ok is false if b holds
// anything else.
func decimal(b []byte) (n int, ok bool) {
	ok = true
	for _, c := range b {
		ok = ok && '0' <= c && c <= '9'
		n = n*10 + int(c-'0')
	}
	return n, ok
}

// daysIn is the number of days of month in year (proleptic Gregorian).
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
