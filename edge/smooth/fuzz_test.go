package smooth

import (
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
)

// model is the smoother spelled the plain way, one allocation at a time:
// what Smoother must do whatever it reuses.
type model struct {
	departAfter time.Duration
	present     map[string]Presence // antenna byte + hex tag
}

func (m *model) observe(r rfid.Read, now time.Time) (Presence, bool) {
	tag := strings.ToUpper(hex.EncodeToString(r.Tag))
	k := string(rune('0'+r.Antenna)) + tag
	if p, ok := m.present[k]; ok {
		p.LastSeen, p.PC = now, r.PC
		p.Reads++
		if r.HasRSSI && (!p.HasRSSI || r.RSSI > p.MaxRSSI) {
			p.MaxRSSI, p.HasRSSI = r.RSSI, true
		}
		m.present[k] = p
		return Presence{}, false
	}
	p := Presence{Tag: tag, Antenna: r.Antenna, PC: r.PC, FirstSeen: now, LastSeen: now, Reads: 1,
		MaxRSSI: r.RSSI, HasRSSI: r.HasRSSI, Raw: append([]byte{}, r.Tag...)}
	m.present[k] = p
	return p, true
}

func (m *model) expire(now time.Time, all bool) []Presence {
	var gone []Presence
	for k, p := range m.present {
		if all || now.Sub(p.LastSeen) >= m.departAfter {
			gone = append(gone, p)
			delete(m.present, k)
		}
	}
	sortPresence(gone)
	return gone
}

// same compares presences as values: an empty Raw equals a nil one.
func same(a, b []Presence) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if string(x.Raw) != string(y.Raw) {
			return false
		}
		x.Raw, y.Raw = nil, nil
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

// FuzzSmoother drives a Smoother and the model with the same reads,
// expiries and flushes (one op per byte group of the input) and checks
// that they answer alike, and that what was returned earlier is unchanged
// by what came after (presences and tag bytes are reused).
func FuzzSmoother(f *testing.F) {
	f.Add([]byte{0, 1, 2, 0xE2, 0x01, 0, 1, 2, 0xE2, 0x01, 5, 40, 1, 0, 0, 3})
	f.Add([]byte{0, 2, 1, 0x30, 1, 9, 0, 1, 0, 2, 80, 0, 0, 0, 2, 0xAA, 0xBB, 4, 200, 6})
	f.Add([]byte("\x00\x03\x01\x02\x03\x04\x05\x00\x03\x01\x02\x03\x05\x02\x10\x06\x00\x00\x01"))
	f.Fuzz(func(t *testing.T, in []byte) {
		const departAfter = 3 * time.Second
		s, m := New(departAfter), &model{departAfter: departAfter, present: map[string]Presence{}}
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		next := func() byte {
			if len(in) == 0 {
				return 0
			}
			b := in[0]
			in = in[1:]
			return b
		}
		var seen, want []Presence // everything returned, and its value when returned
		keep := func(ps ...Presence) {
			for _, p := range ps {
				seen = append(seen, p)
				want = append(want, Presence{Tag: strings.Clone(p.Tag), Raw: append([]byte{}, p.Raw...)})
			}
		}
		for len(in) > 0 {
			switch op := next() % 8; op {
			case 0, 1, 2, 3, 4:
				tag := make([]byte, int(next()%5))
				for i := range tag {
					tag[i] = next() % 4 // few distinct tags: repeats and re-arrivals
				}
				r := rfid.Read{Tag: tag, Antenna: int(op % 2), PC: uint16(op), RSSI: -int(next() % 90), HasRSSI: op == 1}
				p, ok := s.Observe(r, now)
				wp, wok := m.observe(r, now)
				if len(tag) > 0 {
					tag[0] ^= 0xFF // the reader's buffer is reused
				}
				if ok != wok || !same([]Presence{p}, []Presence{wp}) {
					t.Fatalf("Observe(%x) = %+v %v, want %+v %v", r.Tag, p, ok, wp, wok)
				}
				if ok {
					keep(p)
				}
			case 5:
				now = now.Add(time.Duration(next()) * 50 * time.Millisecond)
				got, w := s.Expire(now), m.expire(now, false)
				if !same(got, w) {
					t.Fatalf("Expire = %+v, want %+v", got, w)
				}
				keep(got...)
			case 6:
				got, w := s.Flush(), m.expire(now, true)
				if !same(got, w) {
					t.Fatalf("Flush = %+v, want %+v", got, w)
				}
				keep(got...)
			case 7:
				now = now.Add(time.Duration(next()) * time.Millisecond)
			}
			if s.Len() != len(m.present) {
				t.Fatalf("Len %d, want %d", s.Len(), len(m.present))
			}
		}
		for i, p := range seen {
			if p.Tag != want[i].Tag || string(p.Raw) != string(want[i].Raw) {
				t.Fatalf("returned presence %d changed: %q %x, was %q %x", i, p.Tag, p.Raw, want[i].Tag, want[i].Raw)
			}
		}
	})
}
