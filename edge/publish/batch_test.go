package publish

import (
	"cmp"
	"fmt"
	"strings"
	"testing"
	"time"
)

// spooled is a record of the grouping tests: its topic level ("" for a
// record Decode refuses) and the length of its payload.
type spooled struct {
	level string
	size  int
}

// storeOf fills a store with recs, seqs from 1: a record's payload is its
// seq, padded with zeros to its size.
func storeOf(recs []spooled) *memStore {
	s := newMemStore(0)
	for i, r := range recs {
		seq := uint64(i + 1)
		if r.level == "" {
			s.recs[seq] = []byte("bad")
			continue
		}
		s.recs[seq] = []byte(fmt.Sprintf("%s:%0*d", r.level, r.size, seq))
	}
	return s
}

// wantMessages is the grouping the publisher must make of recs, all in the
// spool before it starts, with a window that never fills: consecutive
// records of one topic, bad ones left out, up to maxEvents and maxBytes
// (brackets and commas included), a record larger than that alone.
func wantMessages(recs []spooled, maxEvents, maxBytes int) []message {
	var out []message
	size := 0
	for i, r := range recs {
		if r.level == "" {
			continue
		}
		seq := uint64(i + 1)
		if n := len(out); n > 0 {
			m := &out[n-1]
			if m.topic == "t/"+r.level && len(m.seqs) < maxEvents && size+1+r.size <= maxBytes {
				m.seqs = append(m.seqs, seq)
				size += 1 + r.size
				continue
			}
		}
		out = append(out, message{topic: "t/" + r.level, seqs: []uint64{seq}})
		size = 2 + r.size
	}
	return out
}

// repeat is n records of level, each size bytes.
func repeat(level string, n, size int) []spooled {
	out := make([]spooled, n)
	for i := range out {
		out[i] = spooled{level, size}
	}
	return out
}

// TestBatchGrouping spools records before the publisher starts and checks
// the messages the broker reads: consecutive records of one topic in one
// message, split where the topic changes and at the count and byte bounds,
// an event larger than the byte bound alone, a bad record in the middle
// left out of its batch (deleted and counted), a message of one event
// sent as its payload alone; every record delivered once, in order, and
// deleted only after its message's PUBACK.
func TestBatchGrouping(t *testing.T) {
	bad := spooled{}
	for _, tc := range []struct {
		name                string
		recs                []spooled
		maxEvents, maxBytes int
	}{
		{"topic changes split", concat(repeat("a", 3, 4), repeat("b", 2, 4), repeat("a", 1, 4), repeat("c", 5, 4)), 64, 0},
		{"count bound", repeat("a", 10, 4), 4, 0},
		{"count bound of one", concat(repeat("a", 5, 4), repeat("b", 2, 4)), 1, 0},
		// '[' + 3 x 300 + 2 commas + ']' is 904 bytes; a fourth is 1205.
		{"byte bound", repeat("a", 10, 300), 64, 1024},
		// '[' + 3 x 340 + 2 commas + ']' is 1024 bytes.
		{"byte bound exactly met", repeat("a", 7, 340), 64, 1024},
		{"oversized event alone", concat(repeat("a", 2, 300), repeat("a", 1, 3000), repeat("a", 2, 300)), 64, 1024},
		{"bad record in the middle", concat(repeat("a", 2, 4), []spooled{bad}, repeat("a", 2, 4), []spooled{bad}), 64, 0},
		{"more than a fetch", repeat("a", 700, 4), 1024, 60 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLedger("pub")
			l.bad = map[uint64]bool{}
			for i, r := range tc.recs {
				if r.level == "" {
					l.bad[uint64(i+1)] = true
				}
			}
			addr := startLedgerBroker(t, l)
			store := storeOf(tc.recs)
			p, err := New(checkedStore{store, l}, Opts{Broker: "tcp://" + addr, ClientID: "pub", Window: 1000,
				BatchEvents: tc.maxEvents, BatchBytes: tc.maxBytes, Decode: decode})
			if err != nil {
				t.Fatal(err)
			}
			stop := run(t, p)
			waitFor(t, "all deleted", func() bool { return store.len() == 0 })
			stop()
			_, violations := l.snapshot()
			for _, v := range violations {
				t.Error(v)
			}
			want := wantMessages(tc.recs, tc.maxEvents, cmp.Or(tc.maxBytes, DefaultBatchBytes))
			got := l.msgs()
			if fmt.Sprint(seqLists(got)) != fmt.Sprint(seqLists(want)) {
				t.Fatalf("messages (topic seqs):\n got %v\nwant %v", seqLists(got), seqLists(want))
			}
			bads := 0
			for _, r := range tc.recs {
				if r.level == "" {
					bads++
				}
			}
			for _, m := range got {
				if strings.HasPrefix(m.payload, "[") != (len(m.seqs) > 1) {
					t.Fatalf("message of %d events sent as %.20q...", len(m.seqs), m.payload)
				}
				if len(m.seqs) > 1 && len(m.payload) > cmp.Or(tc.maxBytes, DefaultBatchBytes) {
					t.Fatalf("a batch of %d bytes", len(m.payload))
				}
			}
			st := p.Stats()
			n := uint64(len(tc.recs) - bads)
			if st.Published != n || st.Acked != n || st.Messages != uint64(len(want)) || st.MessagesAcked != st.Messages ||
				st.BadRecords != uint64(bads) || st.InFlight != 0 {
				t.Fatalf("stats %+v, want %d events in %d messages, %d bad", st, n, len(want), bads)
			}
			checkDeleted(t, store, len(tc.recs), l.bad)
		})
	}
}

func concat(parts ...[]spooled) []spooled {
	var out []spooled
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// seqLists spells messages as topic and seqs.
func seqLists(ms []message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = fmt.Sprint(m.topic, m.seqs)
	}
	return out
}

// checkDeleted checks that seqs 1..n were deleted once each, in order
// but for the bad ones, deleted at once (the ledger checks that each
// other was deleted after its message's PUBACK).
func checkDeleted(t *testing.T, store *memStore, n int, bad map[uint64]bool) {
	t.Helper()
	store.mu.Lock()
	defer store.mu.Unlock()
	if len(store.deleted) != n {
		t.Fatalf("%d deletions, want %d", len(store.deleted), n)
	}
	seen := map[uint64]bool{}
	var last uint64
	for i, seq := range store.deleted {
		if seq < 1 || seq > uint64(n) || seen[seq] {
			t.Fatalf("deletion %d is seq %d: out of 1..%d or twice", i, seq, n)
		}
		seen[seq] = true
		if !bad[seq] {
			if seq < last {
				t.Fatalf("deletion %d is seq %d, after %d: out of order", i, seq, last)
			}
			last = seq
		}
	}
}

// TestReplayOfPartlyAcknowledgedWindow holds the PUBACKs of a full window
// of batches, lets the first message's through, cuts the connection once
// the window is full again, and lets everything through after: exactly
// the first message's records were deleted before the cut, and the new
// session replays the rest, from the first unacknowledged record, in
// batches again.
func TestReplayOfPartlyAcknowledgedWindow(t *testing.T) {
	const window, batch, n = 20, 8, 100
	l := newLedger("pub")
	l.viaGate = true
	gate := startAckGate(t, startLedgerBroker(t, l), l)
	store := newMemStore(n)
	p, err := New(checkedStore{store, l}, Opts{Broker: "tcp://" + gate.addr, ClientID: "pub", Window: window,
		BatchEvents: batch, Decode: decode, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, p)
	defer stop()
	received := func(k int) func() bool {
		return func() bool { r, _ := l.snapshot(); return len(r) >= k && p.Stats().InFlight == window }
	}
	// A window of 20 takes messages of 8, 8 and 4 events.
	waitFor(t, "a full window", received(window))
	gate.letThrough(1)
	waitFor(t, "the window full again after the first PUBACK", received(window+batch))
	waitFor(t, "the first message's records deleted", func() bool { return n-store.len() >= batch })
	if got, want := fmt.Sprint(seqLists(l.msgs())), "[t/events[1 2 3 4 5 6 7 8] t/events[9 10 11 12 13 14 15 16] "+
		"t/events[17 18 19 20] t/events[21 22 23 24 25 26 27 28]]"; got != want {
		t.Fatalf("messages before the cut %s, want %s", got, want)
	}
	store.mu.Lock()
	deleted := fmt.Sprint(store.deleted)
	store.mu.Unlock()
	if deleted != "[1 2 3 4 5 6 7 8]" {
		t.Fatalf("deleted before the cut: %s", deleted)
	}
	gate.cut()
	waitFor(t, "a new session", func() bool { return p.Stats().Connects == 2 })
	close(gate.open)
	waitFor(t, "all deleted", func() bool { return store.len() == 0 })
	received2, violations := l.snapshot()
	for _, v := range violations {
		t.Error(v)
	}
	// The broker read 1..28, then 9..100: the unacknowledged records of the
	// first session again, then the rest.
	var want []uint64
	for seq := uint64(1); seq <= 28; seq++ {
		want = append(want, seq)
	}
	for seq := uint64(9); seq <= n; seq++ {
		want = append(want, seq)
	}
	if fmt.Sprint(received2) != fmt.Sprint(want) {
		t.Fatalf("broker read %v,\nwant %v", received2, want)
	}
	checkDeleted(t, store, n, nil)
	if replay := l.msgs()[4]; len(replay.seqs) != batch {
		t.Fatalf("the replay began with %v, want a batch of %d", replay.seqs, batch)
	}
}

// TestNoWaitForMore: with batches of 64, an event spooled alone leaves at
// once, alone, as its payload (nothing waits for a batch to fill); events
// spooled together leave together.
func TestNoWaitForMore(t *testing.T) {
	l := newLedger("pub")
	addr := startLedgerBroker(t, l)
	store := newMemStore(0)
	p, err := New(checkedStore{store, l}, Opts{Broker: "tcp://" + addr, ClientID: "pub", Window: 1000, BatchEvents: 64, Decode: decode})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, p)
	defer stop()
	waitFor(t, "connected", func() bool { return p.Stats().Connected })
	spool := func(seqs ...uint64) { // in one step, as a spool commit
		store.mu.Lock()
		for _, seq := range seqs {
			store.recs[seq] = []byte(fmt.Sprint(seq))
		}
		store.mu.Unlock()
		p.Notify()
	}
	spool(1)
	waitFor(t, "the lone event acknowledged", func() bool { return store.len() == 0 })
	spool(2, 3, 4)
	waitFor(t, "the three acknowledged", func() bool { return store.len() == 0 })
	got := l.msgs()
	if len(got) != 2 || got[0].payload != "1" || got[1].payload != "[2,3,4]" {
		t.Fatalf("messages %+v, want 1 alone then [2,3,4]", got)
	}
}
