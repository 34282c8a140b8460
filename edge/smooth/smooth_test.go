package smooth

import (
	"runtime"
	"testing"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
)

func TestArrivalDeparture(t *testing.T) {
	s := New(2 * time.Second)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tagA := []byte{0x30, 0x74, 0x25}
	tagB := []byte{0x01, 0x02}
	if p, ok := s.Observe(rfid.Read{Tag: tagA, Antenna: 1, RSSI: -70, HasRSSI: true}, t0); !ok || p.Tag != "307425" {
		t.Fatalf("first read: %+v %v", p, ok)
	}
	tagA[0] = 0xFF // the caller's buffer is reused: the smoother must have copied it
	if _, ok := s.Observe(rfid.Read{Tag: []byte{0x30, 0x74, 0x25}, Antenna: 1, RSSI: -50, HasRSSI: true}, t0.Add(time.Second)); ok {
		t.Fatal("second read of a present tag reported as arrival")
	}
	if _, ok := s.Observe(rfid.Read{Tag: []byte{0x30, 0x74, 0x25}, Antenna: 2}, t0.Add(time.Second)); !ok {
		t.Fatal("same tag on another antenna is a separate presence")
	}
	s.Observe(rfid.Read{Tag: tagB}, t0.Add(1500*time.Millisecond))
	if n := s.Len(); n != 3 {
		t.Fatalf("present = %d, want 3", n)
	}
	if gone := s.Expire(t0.Add(2500 * time.Millisecond)); len(gone) != 0 {
		t.Fatalf("expired too early: %+v", gone)
	}
	gone := s.Expire(t0.Add(3 * time.Second))
	if len(gone) != 2 {
		t.Fatalf("expired %d, want 2: %+v", len(gone), gone)
	}
	if gone[0].Antenna != 1 || gone[0].Reads != 2 || gone[0].MaxRSSI != -50 || !gone[0].LastSeen.Equal(t0.Add(time.Second)) {
		t.Fatalf("departure of antenna 1: %+v", gone[0])
	}
	if left := s.Present(); len(left) != 1 || left[0].Tag != "0102" {
		t.Fatalf("present after expiry: %+v", left)
	}
	// A departed tag arrives again.
	if _, ok := s.Observe(rfid.Read{Tag: []byte{0x30, 0x74, 0x25}, Antenna: 1}, t0.Add(4*time.Second)); !ok {
		t.Fatal("re-arrival not reported")
	}
	if all := s.Flush(); len(all) != 2 || s.Len() != 0 {
		t.Fatalf("flush: %+v", all)
	}
}

func TestObserveRepeatDoesNotAllocate(t *testing.T) {
	s := New(time.Second)
	now := time.Now()
	r := rfid.Read{Tag: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, Antenna: 1}
	s.Observe(r, now)
	if n := testing.AllocsPerRun(1000, func() { s.Observe(r, now) }); n != 0 {
		t.Fatalf("repeat read allocates %.1f times", n)
	}
}

func BenchmarkObserveRepeat(b *testing.B) {
	s := New(time.Second)
	now := time.Now()
	tags := make([][]byte, 64)
	for i := range tags {
		tags[i] = []byte{0xE2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(i)}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Observe(rfid.Read{Tag: tags[i&63], Antenna: 1}, now)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
}

// TestRestore: tags present before a restart wait for Release, then
// depart unless read; one read again is an arrival again, with its first
// FirstSeen.
func TestRestore(t *testing.T) {
	s := New(2 * time.Second)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	before := t0.Add(-time.Hour)
	s.Restore([]Presence{
		{Tag: "0A0B", Raw: []byte{0x0A, 0x0B}, Antenna: 1, FirstSeen: before, LastSeen: before, Reads: 40},
		{Tag: "0C0D", Raw: []byte{0x0C, 0x0D}, Antenna: 1, FirstSeen: before, LastSeen: before},
	})
	if gone := s.Expire(t0.Add(time.Hour)); len(gone) != 0 {
		t.Fatalf("restored tags departed before Release: %+v", gone)
	}
	s.Release(t0)
	p, ok := s.Observe(rfid.Read{Tag: []byte{0x0A, 0x0B}, Antenna: 1}, t0.Add(time.Second))
	if !ok || !p.FirstSeen.Equal(before) || p.Reads != 1 || p.Restored {
		t.Fatalf("restored tag read again: %+v, arrival %v; want an arrival from its first FirstSeen", p, ok)
	}
	if _, ok := s.Observe(rfid.Read{Tag: []byte{0x0A, 0x0B}, Antenna: 1}, t0.Add(1500*time.Millisecond)); ok {
		t.Fatal("second read after the restore is an arrival again")
	}
	if gone := s.Expire(t0.Add(1999 * time.Millisecond)); len(gone) != 0 {
		t.Fatalf("departed before DepartAfter from Release: %+v", gone)
	}
	gone := s.Expire(t0.Add(2 * time.Second))
	if len(gone) != 1 || gone[0].Tag != "0C0D" || !gone[0].Restored {
		t.Fatalf("at DepartAfter after Release: %+v, want 0C0D departed", gone)
	}
	if s.Len() != 1 {
		t.Fatalf("present %d, want the tag read again", s.Len())
	}
}

// TestArrivalAllocations: an arrival takes its presence and the bytes of
// its tag from blocks the smoother allocates now and then (a departed
// presence is reused), so arrivals allocate far less than once each.
func TestArrivalAllocations(t *testing.T) {
	s := New(time.Second)
	now := time.Now()
	tag := []byte{0x30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	n := uint32(0)
	next := func() rfid.Read {
		n++
		tag[8], tag[9], tag[10], tag[11] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
		return rfid.Read{Tag: tag, Antenna: 1}
	}
	for range 4000 { // the map grows to hold them, and keeps its room after Flush
		s.Observe(next(), now)
	}
	s.Flush()
	const arrivals = 2000
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range arrivals {
		if _, ok := s.Observe(next(), now); !ok {
			t.Fatal("a new tag is not an arrival")
		}
	}
	runtime.ReadMemStats(&m1)
	// 36 bytes of a 1 KiB block each: about 0.04 allocations an arrival.
	if a := float64(m1.Mallocs-m0.Mallocs) / arrivals; a > 0.1 {
		t.Fatalf("an arrival allocates %.3f times, want at most 0.1", a)
	}
	long := make([]byte, 300) // more than a quarter block: bytes of its own
	if p, ok := s.Observe(rfid.Read{Tag: long}, now); !ok || len(p.Raw) != 300 || len(p.Tag) != 600 {
		t.Fatalf("long tag: %+v %v", p, ok)
	}
	if _, ok := s.Observe(rfid.Read{Tag: long}, now); ok {
		t.Fatal("a long tag read again is an arrival again")
	}
}

// TestDepartedKeepTheirTag: a departure's Tag and Raw stay as they were
// while its presence is reused by later arrivals.
func TestDepartedKeepTheirTag(t *testing.T) {
	s := New(time.Second)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var gone []Presence
	for i := range 200 {
		s.Observe(rfid.Read{Tag: []byte{0xE2, byte(i)}, Antenna: 1}, t0.Add(time.Duration(i)*time.Second))
		gone = append(gone, s.Expire(t0.Add(time.Duration(i)*time.Second))...)
	}
	gone = append(gone, s.Flush()...)
	if len(gone) != 200 {
		t.Fatalf("%d departures, want 200", len(gone))
	}
	for i, p := range gone {
		if want := HexUpper([]byte{0xE2, byte(i)}); p.Tag != want || HexUpper(p.Raw) != want || cap(p.Raw) != 2 {
			t.Fatalf("departure %d: tag %q raw %x (cap %d), want %s", i, p.Tag, p.Raw, cap(p.Raw), want)
		}
	}
}

// BenchmarkObserveArrival: every read is a new tag, and tags depart in
// groups as they do at a portal: the arrivals' allocations, amortised.
func BenchmarkObserveArrival(b *testing.B) {
	s := New(time.Second)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tag := []byte{0x30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tag[8], tag[9], tag[10], tag[11] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
		now := t0.Add(time.Duration(i) * time.Millisecond)
		s.Observe(rfid.Read{Tag: tag, Antenna: 1}, now)
		if i%512 == 511 {
			s.Expire(now)
		}
	}
}

// TestFreeListBounded: after a burst of tags departs, the smoother keeps
// at most maxFree presences for reuse.
func TestFreeListBounded(t *testing.T) {
	s := New(time.Second)
	now := time.Now()
	for i := range 3 * maxFree {
		s.Observe(rfid.Read{Tag: []byte{0xE2, byte(i >> 8), byte(i)}, Antenna: 1}, now)
	}
	if all := s.Flush(); len(all) != 3*maxFree {
		t.Fatalf("flushed %d, want %d", len(all), 3*maxFree)
	}
	if n := len(s.pool.free); n != maxFree {
		t.Fatalf("%d presences kept for reuse, want %d", n, maxFree)
	}
}
