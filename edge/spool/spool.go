// Package spool is the edge gateway's on-disk queue of events waiting for
// the broker: persist first, replay oldest first, delete on acknowledgement.
//
// A Spool is one bbolt file holding two buckets: "records", keyed by the
// big-endian sequence number with the event bytes as value, and "meta",
// holding the last sequence number handed out and the counters. Every
// Append and every Delete is one bbolt read-write transaction, committed
// with fsync before the call returns, so whatever a call reported as done
// survives a kill -9 or a power cut. Pages freed by Delete (and by overflow
// drops) go to bbolt's freelist and are reused by later appends, so the
// file grows to the high-water mark of the queue and stays there; it never
// shrinks on its own.
//
// A Spool is safe for concurrent use: typically one goroutine appends,
// one publishes with Next and one deletes on PUBACK.
package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Overflow says what Append does when the spool is at one of its bounds.
type Overflow int

const (
	// DropOldest makes room by deleting the oldest records: at a gateway
	// the newest events matter most. This is the default.
	DropOldest Overflow = iota
	// RejectNew refuses the whole batch with an error wrapping ErrFull and
	// keeps what is stored.
	RejectNew
)

// String returns the policy's name as used in configuration.
func (o Overflow) String() string {
	switch o {
	case DropOldest:
		return "drop-oldest"
	case RejectNew:
		return "reject-new"
	}
	return fmt.Sprintf("Overflow(%d)", int(o))
}

// Default bounds used when Options leaves them at zero.
const (
	DefaultMaxBytes   int64 = 64 << 20
	DefaultMaxRecords       = 1_000_000
)

// Options configures a Spool. The zero value is usable.
type Options struct {
	// MaxBytes bounds the stored payload bytes (the sum of the records'
	// Data lengths, not the file size, which is larger by bbolt's page
	// overhead); 0 means DefaultMaxBytes.
	MaxBytes int64
	// MaxRecords bounds the number of stored records; 0 means
	// DefaultMaxRecords.
	MaxRecords int
	// Overflow is the policy applied when a bound would be exceeded.
	Overflow Overflow
	// NoSync skips fsync. Only for benchmarks: a power cut may then lose
	// or corrupt the file.
	NoSync bool
}

// Record is one stored event.
type Record struct {
	// Seq is assigned by the spool and strictly increasing over the life
	// of the file, across restarts, even after the spool was emptied.
	Seq uint64
	// Data is the event, a copy the caller may keep.
	Data []byte
}

// Stats are the spool's gauges and counters. The counters are stored in
// the file with the records, so they grow monotonically over the file's
// life, across restarts.
type Stats struct {
	Records  int    // records stored now
	Bytes    int64  // payload bytes stored now
	Dropped  uint64 // records deleted by the DropOldest policy
	Appended uint64 // records appended
	Deleted  uint64 // records deleted by Delete (acknowledged)
}

var (
	// ErrFull is returned (wrapped) when the RejectNew policy refuses a
	// batch, and when the disk is full (ENOSPC, EDQUOT). Nothing of the
	// batch was stored; the caller may hold the events and retry later.
	ErrFull = errors.New("spool: full")
	// ErrTooLarge is returned (wrapped) when a single record is larger
	// than MaxBytes and could never be stored.
	ErrTooLarge = errors.New("spool: record larger than MaxBytes")
	// ErrClosed is returned (wrapped) by calls on a closed Spool.
	ErrClosed = errors.New("spool: closed")
	// ErrCorrupt is returned (wrapped) when the file is not a spool or its
	// contents are inconsistent. The file is left untouched.
	ErrCorrupt = errors.New("spool: corrupt file")
)

var (
	bucketRecords = []byte("records")
	bucketMeta    = []byte("meta")
	keyLastSeq    = []byte("last_seq")
	keyRecords    = []byte("records")
	keyBytes      = []byte("bytes")
	keyDropped    = []byte("dropped")
	keyAppended   = []byte("appended")
	keyDeleted    = []byte("deleted")
)

// lockTimeout bounds how long Open waits for another process (or another
// Spool in this one) holding the file.
const lockTimeout = 500 * time.Millisecond

// state is what the meta bucket stores.
type state struct {
	lastSeq  uint64
	records  uint64
	bytes    uint64
	dropped  uint64
	appended uint64
	deleted  uint64
}

func (st *state) stats() Stats {
	return Stats{
		Records:  int(st.records),
		Bytes:    int64(st.bytes),
		Dropped:  st.dropped,
		Appended: st.appended,
		Deleted:  st.deleted,
	}
}

// Spool is an on-disk FIFO of events. Create it with Open.
type Spool struct {
	path string
	opts Options
	db   *bolt.DB

	wmu     sync.Mutex // serialises writers; guards st and reserve
	st      state      // committed state, owned by writers
	reserve bool       // the reserve file is in place

	smu    sync.Mutex // guards stats and closed
	stats  Stats
	closed bool
}

// Open opens the spool file at path, creating it when it does not exist.
// A file that exists but is not a valid spool gives an error wrapping
// ErrCorrupt that names the path; it is never truncated or repaired.
func Open(path string, opts Options) (*Spool, error) {
	if opts.MaxBytes < 0 {
		return nil, fmt.Errorf("spool: %s: Options.MaxBytes %d is negative", path, opts.MaxBytes)
	}
	if opts.MaxRecords < 0 {
		return nil, fmt.Errorf("spool: %s: Options.MaxRecords %d is negative", path, opts.MaxRecords)
	}
	if opts.Overflow != DropOldest && opts.Overflow != RejectNew {
		return nil, fmt.Errorf("spool: %s: Options.Overflow %d is not DropOldest or RejectNew", path, int(opts.Overflow))
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxRecords == 0 {
		opts.MaxRecords = DefaultMaxRecords
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := create(path, opts); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("spool: %s: %w", path, err)
	}
	db, err := openDB(path, opts)
	if err != nil {
		return nil, err
	}
	s := &Spool{path: path, opts: opts, db: db}
	if err := s.load(); err != nil {
		_ = db.Close()
		return nil, err
	}
	s.stats = s.st.stats()
	// Without room for the reserve the spool still works; a later Delete
	// tries again.
	s.reserve = s.makeReserve()
	return s, nil
}

// boltOptions are the bbolt settings for a spool file.
func boltOptions(opts Options) *bolt.Options {
	return &bolt.Options{
		Timeout:      lockTimeout,
		NoSync:       opts.NoSync,
		NoGrowSync:   opts.NoSync,
		FreelistType: bolt.FreelistMapType,
	}
}

// openDB opens an existing file, turning bbolt's errors and panics on a
// bad file into errors naming the path.
func openDB(path string, opts Options) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w %s: %v", ErrCorrupt, path, r)
		}
	}()
	db, err = bolt.Open(path, 0o600, boltOptions(opts))
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, bolt.ErrTimeout):
		return nil, fmt.Errorf("spool: %s is in use by another process or Spool: %w", path, err)
	case errors.Is(err, bolt.ErrInvalid), errors.Is(err, bolt.ErrChecksum), errors.Is(err, bolt.ErrVersionMismatch):
		return nil, fmt.Errorf("%w %s: %w", ErrCorrupt, path, err)
	case errors.Is(err, os.ErrPermission), errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("spool: open %s: %w", path, err)
	default:
		// bbolt reports most malformed files with unexported errors.
		return nil, fmt.Errorf("%w %s: %w", ErrCorrupt, path, err)
	}
}

// create makes a new, empty spool at path atomically: it is built under a
// temporary name, synced and renamed, so a kill during creation leaves
// either no file or a complete one.
func create(path string, opts Options) error {
	tmp := path + ".creating"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("spool: create %s: %w", path, err)
	}
	bo := boltOptions(opts)
	db, err := bolt.Open(tmp, 0o600, bo)
	if err != nil {
		return fmt.Errorf("spool: create %s: %w", path, fullErr(err))
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucket(bucketRecords); err != nil {
			return err
		}
		m, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		return putState(m, &state{})
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil && !opts.NoSync {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("spool: create %s: %w", path, fullErr(err))
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// load reads the meta bucket and checks it against the records: their
// number, their total size, and that no key is above the last sequence
// number handed out. This reads every leaf page once.
func (s *Spool) load() (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w %s: %v", ErrCorrupt, s.path, r)
		}
	}()
	return s.db.View(func(tx *bolt.Tx) error {
		rb, mb := tx.Bucket(bucketRecords), tx.Bucket(bucketMeta)
		if rb == nil || mb == nil {
			return fmt.Errorf("%w %s: bucket %q or %q missing", ErrCorrupt, s.path, bucketRecords, bucketMeta)
		}
		st, err := getState(mb)
		if err != nil {
			return fmt.Errorf("%w %s: %w", ErrCorrupt, s.path, err)
		}
		var n, size, last uint64
		c := rb.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(k) != 8 {
				return fmt.Errorf("%w %s: record key %x is not 8 bytes", ErrCorrupt, s.path, k)
			}
			seq := binary.BigEndian.Uint64(k)
			if v == nil {
				return fmt.Errorf("%w %s: record %d is a bucket", ErrCorrupt, s.path, seq)
			}
			n++
			size += uint64(len(v))
			last = seq
		}
		switch {
		case last > st.lastSeq:
			return fmt.Errorf("%w %s: record %d is above the last sequence number %d", ErrCorrupt, s.path, last, st.lastSeq)
		case n != st.records || size != st.bytes:
			return fmt.Errorf("%w %s: meta says %d records of %d bytes, found %d of %d", ErrCorrupt, s.path, st.records, st.bytes, n, size)
		}
		s.st = st
		return nil
	})
}

// metaKeys lists the meta bucket's counters in state's field order.
var metaKeys = [][]byte{keyLastSeq, keyRecords, keyBytes, keyDropped, keyAppended, keyDeleted}

func (st *state) fields() []*uint64 {
	return []*uint64{&st.lastSeq, &st.records, &st.bytes, &st.dropped, &st.appended, &st.deleted}
}

// getState decodes the meta bucket: each counter is 8 bytes, big-endian.
func getState(mb *bolt.Bucket) (state, error) {
	var st state
	for i, f := range st.fields() {
		v := mb.Get(metaKeys[i])
		if len(v) != 8 {
			return state{}, fmt.Errorf("meta %q is %d bytes, want 8", metaKeys[i], len(v))
		}
		*f = binary.BigEndian.Uint64(v)
	}
	return st, nil
}

func putState(mb *bolt.Bucket, st *state) error {
	for i, f := range st.fields() {
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], *f)
		if err := mb.Put(metaKeys[i], v[:]); err != nil {
			return err
		}
	}
	return nil
}

func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}

// fullErr wraps a disk-full error with ErrFull and leaves others alone.
// bbolt flattens some errors to text, so the text is checked too.
func fullErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		strings.Contains(err.Error(), syscall.ENOSPC.Error()) ||
		strings.Contains(err.Error(), syscall.EDQUOT.Error()) {
		return fmt.Errorf("%w: %w", ErrFull, err)
	}
	return err
}

// update runs fn in one read-write transaction on a copy of the state and
// publishes the new state once the commit (and its fsync) succeeded.
func (s *Spool) update(op string, fn func(rb *bolt.Bucket, st *state) error) (err error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.isClosed() {
		return fmt.Errorf("spool: %s %s: %w", op, s.path, ErrClosed)
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("spool: %s %s: %w: %v", op, s.path, ErrCorrupt, r)
		}
	}()
	st := s.st
	err = s.db.Update(func(tx *bolt.Tx) error {
		rb, mb := tx.Bucket(bucketRecords), tx.Bucket(bucketMeta)
		if rb == nil || mb == nil {
			return fmt.Errorf("%w: bucket missing", ErrCorrupt)
		}
		// Keys are appended in increasing order: fill pages completely.
		rb.FillPercent = 1.0
		if err := fn(rb, &st); err != nil {
			return err
		}
		return putState(mb, &st)
	})
	if err != nil {
		return fmt.Errorf("spool: %s %s: %w", op, s.path, fullErr(err))
	}
	s.st = st
	s.smu.Lock()
	s.stats = st.stats()
	s.smu.Unlock()
	return nil
}

func (s *Spool) isClosed() bool {
	s.smu.Lock()
	defer s.smu.Unlock()
	return s.closed
}

// Append stores the events as new records in one transaction and returns
// their sequence numbers, in order. The records are on disk (fsync'd)
// when Append returns without error; on error none of them is stored.
//
// When the batch would exceed MaxRecords or MaxBytes, DropOldest deletes
// the oldest records (counted in Stats.Dropped) — if the batch alone
// exceeds a bound, that includes its own first records, whose sequence
// numbers are still returned — while RejectNew returns an error wrapping
// ErrFull. A full disk also returns an error wrapping ErrFull. An event
// longer than MaxBytes gives an error wrapping ErrTooLarge.
func (s *Spool) Append(data ...[]byte) ([]uint64, error) {
	if len(data) == 0 {
		return nil, nil
	}
	var size uint64
	for i, d := range data {
		if int64(len(d)) > s.opts.MaxBytes {
			return nil, fmt.Errorf("spool: append %s: event %d of the batch is %d bytes, MaxBytes is %d: %w",
				s.path, i, len(d), s.opts.MaxBytes, ErrTooLarge)
		}
		size += uint64(len(d))
	}
	maxRec, maxBytes := uint64(s.opts.MaxRecords), uint64(s.opts.MaxBytes)
	var seqs []uint64
	err := s.update("append", func(rb *bolt.Bucket, st *state) error {
		if s.opts.Overflow == RejectNew && (st.records+uint64(len(data)) > maxRec || st.bytes+size > maxBytes) {
			return fmt.Errorf("%w: %d records of %d bytes stored, batch of %d records of %d bytes exceeds MaxRecords %d or MaxBytes %d",
				ErrFull, st.records, st.bytes, len(data), size, maxRec, maxBytes)
		}
		seqs = make([]uint64, len(data))
		for i, d := range data {
			st.lastSeq++
			if err := rb.Put(seqKey(st.lastSeq), d); err != nil {
				return err
			}
			seqs[i] = st.lastSeq
		}
		st.records += uint64(len(data))
		st.bytes += size
		st.appended += uint64(len(data))
		c := rb.Cursor()
		for st.records > maxRec || st.bytes > maxBytes {
			k, v := c.First()
			if k == nil {
				return fmt.Errorf("%w: meta counts %d records but none found", ErrCorrupt, st.records)
			}
			n := uint64(len(v))
			if err := c.Delete(); err != nil {
				return err
			}
			st.records--
			st.bytes -= n
			st.dropped++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return seqs, nil
}

// Next returns up to max records with Seq > after, oldest first. Their
// Data are copies. An empty result means there is nothing after after.
func (s *Spool) Next(after uint64, max int) (recs []Record, err error) {
	if max <= 0 {
		return nil, fmt.Errorf("spool: next %s: max %d is not positive", s.path, max)
	}
	if s.isClosed() {
		return nil, fmt.Errorf("spool: next %s: %w", s.path, ErrClosed)
	}
	if after == ^uint64(0) {
		return nil, nil
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			recs, err = nil, fmt.Errorf("spool: next %s: %w: %v", s.path, ErrCorrupt, r)
		}
	}()
	err = s.db.View(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketRecords)
		if rb == nil {
			return fmt.Errorf("%w: bucket %q missing", ErrCorrupt, bucketRecords)
		}
		c := rb.Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil && len(recs) < max; k, v = c.Next() {
			if len(k) != 8 {
				return fmt.Errorf("%w: record key %x is not 8 bytes", ErrCorrupt, k)
			}
			recs = append(recs, Record{Seq: binary.BigEndian.Uint64(k), Data: append([]byte{}, v...)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("spool: next %s: %w", s.path, err)
	}
	return recs, nil
}

// Delete removes the records with the given sequence numbers in one
// transaction, durably, typically when the broker acknowledged them.
// Unknown or already deleted sequence numbers are ignored, so a failed
// Delete may simply be retried.
//
// Deleting writes pages too (bbolt copies on write), so on a full disk it
// would fail just when it is needed most. The spool keeps a small reserve
// file next to the spool (path + ".reserve"); when a Delete meets a full
// disk, the reserve is removed and the Delete retried in small
// transactions, and the reserve is rebuilt by a later Delete. If a retry
// still fails, part of seqs may be deleted; the error wraps ErrFull.
func (s *Spool) Delete(seqs ...uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	err := s.deleteTx(seqs)
	if err == nil {
		s.restoreReserve()
		return nil
	}
	if !errors.Is(err, ErrFull) {
		return err
	}
	s.dropReserve()
	sorted := append([]uint64{}, seqs...)
	slices.Sort(sorted)
	for len(sorted) > 0 {
		n := min(len(sorted), deleteChunk)
		if err := s.deleteTx(sorted[:n]); err != nil {
			return err
		}
		sorted = sorted[n:]
	}
	return nil
}

// deleteChunk is the number of records deleted per transaction when a
// Delete is retried on a full disk: few pages are copied per transaction,
// and each transaction frees pages for the next.
const deleteChunk = 32

func (s *Spool) deleteTx(seqs []uint64) error {
	return s.update("delete", func(rb *bolt.Bucket, st *state) error {
		for _, seq := range seqs {
			k := seqKey(seq)
			v := rb.Get(k)
			if v == nil {
				continue
			}
			n := uint64(len(v))
			if err := rb.Delete(k); err != nil {
				return err
			}
			st.records--
			st.bytes -= n
			st.deleted++
		}
		return nil
	})
}

// reserveSize is the size of the reserve file: room for the pages a
// Delete copies when the disk is full.
const reserveSize = 256 << 10

func (s *Spool) reservePath() string { return s.path + ".reserve" }

// makeReserve writes the reserve file with real blocks (not a sparse
// file), so that removing it frees space. A failure leaves no reserve.
func (s *Spool) makeReserve() bool {
	rp := s.reservePath()
	if fi, err := os.Stat(rp); err == nil && fi.Size() == reserveSize {
		return true
	}
	f, err := os.OpenFile(rp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return false
	}
	zeros := make([]byte, 64<<10)
	for n := 0; n < reserveSize && err == nil; n += len(zeros) {
		_, err = f.Write(zeros)
	}
	if err == nil && !s.opts.NoSync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(rp)
		return false
	}
	return true
}

func (s *Spool) dropReserve() {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = os.Remove(s.reservePath())
	s.reserve = false
}

// restoreReserve rebuilds a dropped reserve, if the disk has room again.
func (s *Spool) restoreReserve() {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if !s.reserve && !s.isClosed() {
		s.reserve = s.makeReserve()
	}
}

// Stats returns the current gauges and counters. It never waits for disk.
func (s *Spool) Stats() Stats {
	s.smu.Lock()
	defer s.smu.Unlock()
	return s.stats
}

// Path returns the spool file's path.
func (s *Spool) Path() string { return s.path }

// Close waits for running calls and closes the file. Later calls return
// errors wrapping ErrClosed; a second Close returns nil.
func (s *Spool) Close() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.smu.Lock()
	if s.closed {
		s.smu.Unlock()
		return nil
	}
	s.closed = true
	s.smu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("spool: close %s: %w", s.path, err)
	}
	return nil
}
