package spool

import (
	"encoding/binary"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// metaKeys lists the meta bucket's required counters in state's field order.
var metaKeys = [][]byte{keyLastSeq, keyRecords, keyBytes, keyDropped, keyAppended, keyDeleted}

func (st *state) fields() []*uint64 {
	return []*uint64{&st.lastSeq, &st.records, &st.bytes, &st.dropped, &st.appended, &st.deleted}
}

// ledgerKeys and lostKeys are the meta keys of each reason's ledger entry
// and life total.
var ledgerKeys, lostKeys = reasonKeys("ledger/"), reasonKeys("lost/")

func reasonKeys(prefix string) (keys [NumReasons][]byte) {
	for r := range keys {
		keys[r] = []byte(prefix + Reason(r).String())
	}
	return keys
}

// getState decodes the meta bucket: each counter is 8 bytes, big-endian;
// a loss entry 40 bytes; the reports a list of 8-byte seqs. The keys
// added with the loss ledger may be absent (older files).
func getState(mb *bolt.Bucket) (state, error) {
	var st state
	for i, f := range st.fields() {
		v := mb.Get(metaKeys[i])
		if len(v) != 8 {
			return state{}, fmt.Errorf("meta %q is %d bytes, want 8", metaKeys[i], len(v))
		}
		*f = binary.BigEndian.Uint64(v)
	}
	opt := func(k []byte, f *uint64) error {
		switch v := mb.Get(k); len(v) {
		case 0:
		case 8:
			*f = binary.BigEndian.Uint64(v)
		default:
			return fmt.Errorf("meta %q is %d bytes, want 8", k, len(v))
		}
		return nil
	}
	if err := opt(keyJournalGen, &st.journalGen); err != nil {
		return state{}, err
	}
	for r := Reason(0); r < NumReasons; r++ {
		if err := opt(lostKeys[r], &st.lostTotal[r]); err != nil {
			return state{}, err
		}
		if v := mb.Get(ledgerKeys[r]); v != nil {
			l, err := unmarshalLoss(v)
			if err != nil {
				return state{}, fmt.Errorf("meta %q: %w", ledgerKeys[r], err)
			}
			st.ledger[r] = l
		}
	}
	if v := mb.Get(keyReports); len(v)%8 != 0 {
		return state{}, fmt.Errorf("meta %q is %d bytes, not a list of 8-byte seqs", keyReports, len(v))
	} else {
		for ; len(v) > 0; v = v[8:] {
			st.reports = append(st.reports, binary.BigEndian.Uint64(v))
		}
	}
	return st, nil
}

// metaWriter puts the state into the meta bucket: only the keys whose
// value differs from the stored state (prev; nil writes all of them), so
// a commit of an event or two writes the few counters that moved. The
// values are cut from buf, which the caller keeps for the next
// transaction: bbolt holds on to a value only until its transaction ends.
type metaWriter struct {
	mb  *bolt.Bucket
	buf []byte
}

// value returns n bytes of buf.
func (w *metaWriter) value(n int) []byte {
	if w.buf == nil || cap(w.buf)-len(w.buf) < n {
		w.buf = make([]byte, 0, max(metaBuf, n))
	}
	at := len(w.buf)
	w.buf = w.buf[:at+n]
	return w.buf[at : at+n : at+n]
}

// metaBuf is room for every meta value of a commit that writes them all,
// the reports aside.
const metaBuf = 8*(8+int(NumReasons)) + lossSize*int(NumReasons)

func (w *metaWriter) counter(k []byte, n uint64) error {
	v := w.value(8)
	binary.BigEndian.PutUint64(v, n)
	return w.mb.Put(k, v)
}

func (w *metaWriter) put(st, prev *state) error {
	var old state
	all := prev == nil
	if !all {
		old = *prev
	}
	oldFields := old.fields()
	for i, f := range st.fields() {
		if all || *f != *oldFields[i] {
			if err := w.counter(metaKeys[i], *f); err != nil {
				return err
			}
		}
	}
	if all || st.journalGen != old.journalGen {
		if err := w.counter(keyJournalGen, st.journalGen); err != nil {
			return err
		}
	}
	for r := Reason(0); r < NumReasons; r++ {
		if all || st.lostTotal[r] != old.lostTotal[r] {
			if err := w.counter(lostKeys[r], st.lostTotal[r]); err != nil {
				return err
			}
		}
		if all || st.ledger[r] != old.ledger[r] {
			v := w.value(lossSize)
			st.ledger[r].marshal(v)
			if err := w.mb.Put(ledgerKeys[r], v); err != nil {
				return err
			}
		}
	}
	if !all && slices.Equal(st.reports, old.reports) {
		return nil
	}
	reports := w.value(8 * len(st.reports))[:0]
	for _, seq := range st.reports {
		reports = binary.BigEndian.AppendUint64(reports, seq)
	}
	return w.mb.Put(keyReports, reports)
}

// putState writes every key of st into the meta bucket.
func putState(mb *bolt.Bucket, st *state) error {
	w := metaWriter{mb: mb}
	return w.put(st, nil)
}
