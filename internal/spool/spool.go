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
// Every event handed to Append gets a sequence number, and every number
// ends in exactly one of three places: a stored record, the loss ledger
// (events the overflow policy, the size bound or a full disk cost, with
// their count, seq range and time span), or, while the disk is full, a
// bounded set held in memory and recorded in a small journal file so that
// a crash turns it into a counted loss rather than a silent one. The
// ledger is turned into records by ReportLosses, so the far end sees each
// gap in the numbers explained.
//
// A Spool is safe for concurrent use: typically one goroutine appends,
// one publishes with Next and one deletes on PUBACK.
package spool

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
	DefaultMaxHeld          = 4096
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
	// MaxHeld bounds the events held in memory while the disk is full;
	// later ones are counted lost (ReasonDiskFull). 0 means DefaultMaxHeld.
	MaxHeld int
	// EventTime, when set, tells an event's time from its data; the loss
	// ledger uses it for the time span of lost events. It must not keep
	// data. Nil leaves the spans unknown.
	EventTime func(data []byte) time.Time
	// SeqFloor makes a spool file created by this Open hand out sequence
	// numbers above it (to stay above those of a damaged file moved
	// aside). It has no effect on an existing file.
	SeqFloor uint64
}

// Event is one event handed to AppendEvents.
type Event struct {
	// Data is the event. The spool keeps the slice until the event is
	// stored or lost: do not modify it after the call.
	Data []byte
	// State, when not nil, updates the spool's key/value state (see State)
	// in the transaction that stores Data, and not at all if the event is
	// lost, so the state always matches the stored events.
	State *KV
}

// KV is a key and its value in the spool's state; a nil Value deletes
// the key.
type KV struct {
	Key, Value []byte
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
	Appended uint64 // records appended (loss reports included)
	Deleted  uint64 // records deleted by Delete (acknowledged)
	// LastSeq is the highest sequence number handed out.
	LastSeq uint64
	// Held is the number of events held in memory because the disk is full.
	Held int
	// Lost counts the events lost, per Reason, over the file's life
	// (Lost[ReasonDropOldest] == Dropped).
	Lost [NumReasons]uint64
	// Unreported is the number of lost events not yet covered by a record
	// written by ReportLosses.
	Unreported uint64
	// JournalError is the last failure to write the journal ("" if none).
	JournalError string
	// Commits counts the write transactions committed (each with its
	// fsyncs unless NoSync) since Open.
	Commits uint64
	// Acknowledged is the number of records acknowledged (Acknowledge)
	// and not yet deleted; they are still counted in Records and Bytes.
	Acknowledged int
	// AckError is the last failure to delete acknowledged records ("" if
	// none, or once a later attempt succeeded).
	AckError string
}

var (
	// ErrFull is wrapped by every error caused by a full disk (ENOSPC,
	// EDQUOT); see ErrDiskFull.
	ErrFull = errors.New("spool: full")
	// ErrDiskFull is returned (wrapped, with ErrFull) by Append and Flush
	// when the disk is full: the events are held in memory or counted
	// lost, and Flush stores the held ones once the disk has room.
	ErrDiskFull = fmt.Errorf("%w: disk full", ErrFull)
	// ErrClosed is returned (wrapped) by calls on a closed Spool.
	ErrClosed = errors.New("spool: closed")
	// ErrCorrupt is returned (wrapped) when the file is not a spool or its
	// contents are inconsistent. The file is left untouched.
	ErrCorrupt = errors.New("spool: corrupt file")
)

var (
	bucketRecords = []byte("records")
	bucketMeta    = []byte("meta")
	bucketState   = []byte("state")
	keyID         = []byte("id")
	keyJournalGen = []byte("journal_gen")
	keyReports    = []byte("reports")
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

	// Optional keys (absent in files written before they existed).
	journalGen uint64             // journal generation taken in
	ledger     ledger             // losses not yet reported
	lostTotal  [NumReasons]uint64 // losses over the file's life (DropOldest: see dropped)
	reports    []uint64           // seqs of loss reports not yet deleted
}

// heldEvent is an event held in memory while the disk is full.
type heldEvent struct {
	seq uint64
	ev  Event
	t   int64 // event time, Unix ns, 0 if unknown
}

// Spool is an on-disk FIFO of events. Create it with Open.
type Spool struct {
	path string
	opts Options
	db   *bolt.DB
	id   []byte // meta "id", binds the journal to this file

	wmu        sync.Mutex // serialises writers; guards the fields below
	st         state      // committed state
	reserve    bool       // the reserve file is in place
	hw         uint64     // highest seq handed out (>= st.lastSeq)
	held       []heldEvent
	pending    ledger // losses not yet committed (recorded in the journal)
	jgen       uint64 // last journal generation written or read
	jf         *os.File
	journalErr error
	commits    uint64 // write transactions committed since Open

	smu    sync.Mutex // guards stats and closed
	stats  Stats
	closed bool

	// nmu makes Next's read and its update of sent one step for a commit
	// that drops records: a record Next hands out is never dropped.
	nmu  sync.Mutex
	sent uint64 // highest seq Next returned; guarded by nmu

	acks acks // acknowledged records waiting for a transaction (ack.go)

	// The releases of the map's resident pages (resident.go): the records
	// touched since the last, the records churned when last counted
	// (guarded by wmu), and how many releases.
	sinceRelease atomic.Uint64
	churnSeen    uint64
	releases     atomic.Uint64

	// Scratch memory of the write transactions, guarded by wmu: bbolt
	// holds on to what it is given only until the transaction ends.
	idStored bool        // the file's meta "id" is s.id
	metaBuf  []byte      // the meta values (metaWriter)
	entries  []heldEvent // AppendEvents's batch
	next     state       // the state a transaction builds (update)
	key      [8]byte     // a record's key (bbolt's Put copies it)
}

// Open opens the spool file at path, creating it when it does not exist
// or is empty (0 bytes: a creation that never finished). A file that
// exists but is not a valid spool gives an error wrapping ErrCorrupt that
// names the path; it is never truncated or repaired (see MoveAside).
//
// If the journal shows events that were held in memory when the last
// process ended, Open counts them lost (ReasonCrash) in the ledger.
func Open(path string, opts Options) (*Spool, error) {
	if opts.MaxBytes < 0 {
		return nil, fmt.Errorf("spool: %s: Options.MaxBytes %d is negative", path, opts.MaxBytes)
	}
	if opts.MaxRecords < 0 {
		return nil, fmt.Errorf("spool: %s: Options.MaxRecords %d is negative", path, opts.MaxRecords)
	}
	if opts.MaxHeld < 0 {
		return nil, fmt.Errorf("spool: %s: Options.MaxHeld %d is negative", path, opts.MaxHeld)
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
	if opts.MaxHeld == 0 {
		opts.MaxHeld = DefaultMaxHeld
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist), err == nil && fi.Mode().IsRegular() && fi.Size() == 0:
		if err := create(path, opts); err != nil {
			return nil, err
		}
	case err != nil:
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
	s.hw, s.jgen = s.st.lastSeq, s.st.journalGen
	s.wmu.Lock()
	if len(s.id) == 0 {
		// A file from before journals: give it an id now (if the disk
		// lets us; otherwise the journal stays unused until it does).
		s.id = newID()
		if err := s.update("open", func(*bolt.Tx, *bolt.Bucket, *state) error { return nil }); err != nil {
			s.id = nil
		}
	}
	s.recoverJournal()
	// Without room for the reserve or the journal the spool still works;
	// a later Delete or journal write tries again.
	s.reserve = s.makeReserve()
	_ = s.openJournal()
	s.publishStats()
	s.wmu.Unlock()
	return s, nil
}

func newID() []byte {
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	return id
}

// recoverJournal takes in a journal newer than the last commit: its
// pending losses, and its held events that were not stored, which died
// with the process (ReasonCrash). Called with wmu held.
func (s *Spool) recoverJournal() {
	j, ok := readJournal(s.journalPath())
	if !ok || len(s.id) == 0 || !bytes.Equal(j.id, s.id) {
		return
	}
	if j.gen <= s.st.journalGen {
		s.jgen = max(s.jgen, j.gen)
		return
	}
	s.jgen = j.gen
	s.pending = j.pending
	if h := j.held; h.count > 0 {
		// Held events are consecutive numbers; a Flush cut by the crash
		// may have stored the first of them.
		if from := max(h.firstSeq, s.st.lastSeq+1); from <= h.lastSeq {
			s.pending[ReasonCrash].merge(loss{count: h.lastSeq - from + 1, firstSeq: from, lastSeq: h.lastSeq,
				first: h.first, last: h.last})
		}
	}
	s.hw = max(s.hw, j.hw)
	if err := s.commit(nil, true); err != nil {
		// The disk is still full: the losses stay pending, in the journal.
		_ = s.writeJournal()
	}
}

// MoveAside renames a spool file that Open refused (and its journal) to
// path + ".damaged-" + a UTC timestamp, so that a new spool can be created
// in its place while the damaged one is kept for inspection. It returns
// the new name. The reserve file, which holds only zeros, is removed.
func MoveAside(path string, now time.Time) (string, error) {
	dst := path + ".damaged-" + now.UTC().Format("20060102T150405Z")
	if err := os.Rename(path, dst); err != nil {
		return "", fmt.Errorf("spool: move aside %s: %w", path, err)
	}
	if err := os.Rename(path+".journal", dst+".journal"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return dst, fmt.Errorf("spool: move aside %s.journal: %w", path, err)
	}
	_ = os.Remove(path + ".reserve")
	return dst, syncDir(filepath.Dir(path))
}

// create makes a new, empty spool at path atomically: it is built under a
// temporary name, synced and renamed (over an empty file, if one is
// there), so a kill during creation leaves either no file or a complete
// one.
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
	if mapAhead {
		db.AllocSize = minGrowStep
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucket(bucketRecords); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bucketState); err != nil {
			return err
		}
		m, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if err := m.Put(keyID, newID()); err != nil {
			return err
		}
		return putState(m, &state{lastSeq: opts.SeqFloor})
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
	fi, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("spool: %s: %w", s.path, err)
	}
	return s.db.View(func(tx *bolt.Tx) error {
		// A file cut short (a copy or a restore that stopped, a truncation)
		// still opens: bbolt maps the missing pages, which read as zeros or
		// fault, and a record's key may read as zeros.
		if need := tx.Size(); fi.Size() < need {
			return fmt.Errorf("%w %s: the file is %d bytes but its pages need %d (truncated)", ErrCorrupt, s.path, fi.Size(), need)
		}
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
			// Sequence numbers start at 1 and bbolt keeps keys in order: a
			// zero or a key out of order is a damaged page.
			if seq == 0 || seq <= last {
				return fmt.Errorf("%w %s: record key %d after %d is out of order", ErrCorrupt, s.path, seq, last)
			}
			n++
			size += uint64(len(v))
			last = seq
			if n%releaseRecords == 0 {
				s.releaseMapped(tx) // nothing else runs in Open
			}
		}
		switch {
		case last > st.lastSeq:
			return fmt.Errorf("%w %s: record %d is above the last sequence number %d", ErrCorrupt, s.path, last, st.lastSeq)
		case n != st.records || size != st.bytes:
			return fmt.Errorf("%w %s: meta says %d records of %d bytes, found %d of %d", ErrCorrupt, s.path, st.records, st.bytes, n, size)
		}
		if id := mb.Get(keyID); len(id) == 8 {
			s.id = append([]byte{}, id...)
			s.idStored = true
		}
		s.st = st
		s.churnSeen = churned(&st)
		s.releaseMapped(tx) // every record was read
		return nil
	})
}

// boltOptions are the bbolt settings for a spool file.
func boltOptions(opts Options) *bolt.Options {
	o := &bolt.Options{
		Timeout:      lockTimeout,
		NoSync:       opts.NoSync,
		NoGrowSync:   opts.NoSync,
		FreelistType: bolt.FreelistMapType,
	}
	if mapAhead {
		o.InitialMmapSize = mmapSize(opts.MaxBytes)
	}
	return o
}

// mapAhead tells whether a spool file is mapped ahead of its size (not on
// Windows, where bbolt grows the file to its map).
const mapAhead = runtime.GOOS != "windows"

// mmapSize is the size of a spool file's first memory map: room for the
// records at MaxBytes and their pages' overhead, at most maxInitialMmap.
// bbolt maps the file again each time it outgrows the map (which doubles),
// and first copies to the heap every key and value of the pages the
// running transaction changed: two allocations a record, for every
// doubling of a file that grows from empty.
func mmapSize(maxBytes int64) int {
	return int(min(2*maxBytes, maxInitialMmap))
}

// maxInitialMmap bounds the first map: address space, not memory (pages
// beyond the file are never touched), but scarce on 32-bit gateways.
const maxInitialMmap = 256 << 20

// growStep is the room bbolt adds when the file is full (its AllocSize),
// for data of dataSize bytes: as much again, from minGrowStep to
// maxGrowStep. bbolt grows the file to the size of its map while the map is
// no larger than AllocSize, and by AllocSize beyond: with the larger first
// map and bbolt's fixed 16 MiB, even an empty spool would be a 16 MiB file.
// So the file grows as it did with bbolt's own map: doubling to 16 MiB,
// then 16 MiB at a time.
func growStep(dataSize int64) int {
	return int(min(max(dataSize, minGrowStep), maxGrowStep))
}

const (
	minGrowStep = 32 << 10
	maxGrowStep = 16 << 20
)

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

func seqKey(seq uint64) []byte {
	var k [8]byte
	return putSeqKey(&k, seq)
}

// putSeqKey writes the key of seq in k and returns it as a slice: a key
// that needs no allocation where k does not escape (bbolt copies the keys
// it keeps).
func putSeqKey(k *[8]byte, seq uint64) []byte {
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// fullErr wraps a disk-full error with ErrDiskFull and leaves others alone.
// bbolt flattens some errors to text, so the text is checked too.
func fullErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		strings.Contains(err.Error(), syscall.ENOSPC.Error()) ||
		strings.Contains(err.Error(), syscall.EDQUOT.Error()) {
		return fmt.Errorf("%w: %w", ErrDiskFull, err)
	}
	return err
}

func (s *Spool) isClosed() bool {
	s.smu.Lock()
	defer s.smu.Unlock()
	return s.closed
}

// Next returns up to max records with Seq > after, oldest first. Their
// Data are copies. An empty result means there is nothing after after.
// Next is for the publisher: DropOldest never drops a record Next has
// returned (it may have reached the broker), so the spool may exceed its
// bounds by the records in flight.
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
	s.nmu.Lock()
	defer s.nmu.Unlock()
	skip := s.acks.lookup(after)
	defer skip.done()
	err = s.db.View(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketRecords)
		if rb == nil {
			return fmt.Errorf("%w: bucket %q missing", ErrCorrupt, bucketRecords)
		}
		c := rb.Cursor()
		var kb [8]byte
		// The copies share a few large buffers rather than one each: a
		// buffer that grows leaves the earlier copies in the one before.
		var buf []byte
		limit := max
		for k, v := c.Seek(putSeqKey(&kb, after+1)); k != nil && len(recs) < max; k, v = c.Next() {
			if len(k) != 8 {
				return fmt.Errorf("%w: record key %x is not 8 bytes", ErrCorrupt, k)
			}
			if skip.has(binary.BigEndian.Uint64(k)) {
				continue // acknowledged: never again
			}
			if recs == nil {
				recs = make([]Record, 0, min(max, 1024))
			}
			if cap(buf)-len(buf) < len(v) {
				buf = make([]byte, 0, copyBufSize(len(v), limit-len(recs)))
			}
			at := len(buf)
			buf = append(buf, v...)
			recs = append(recs, Record{Seq: binary.BigEndian.Uint64(k), Data: buf[at:len(buf):len(buf)]})
		}
		if s.touched(uint64(len(recs))) { // a publisher reads ahead of the deletions
			s.releaseMapped(tx)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("spool: next %s: %w", s.path, err)
	}
	if n := len(recs); n > 0 && recs[n-1].Seq > s.sent {
		s.sent = recs[n-1].Seq
	}
	return recs, nil
}

// nextBuf bounds the buffer Next copies records into at once.
const nextBuf = 64 << 10

// copyBufSize is the size of the next buffer Next copies into: room for
// the records left to read if they are of size n, at most nextBuf, and at
// least n.
func copyBufSize(n, left int) int {
	return max(n, min(nextBuf, left*n))
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

// update runs fn in one read-write transaction on a copy of the state and
// publishes the new state once the commit (and its fsync) succeeded. The
// caller holds wmu.
func (s *Spool) update(op string, fn func(tx *bolt.Tx, rb *bolt.Bucket, st *state) error) (err error) {
	if s.isClosed() {
		return fmt.Errorf("spool: %s %s: %w", op, s.path, ErrClosed)
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("spool: %s %s: %w: %v", op, s.path, ErrCorrupt, r)
		}
	}()
	st := &s.next
	*st = s.st
	st.reports = slices.Clone(s.st.reports)
	err = s.db.Update(func(tx *bolt.Tx) error {
		rb, mb := tx.Bucket(bucketRecords), tx.Bucket(bucketMeta)
		if rb == nil || mb == nil {
			return fmt.Errorf("%w: bucket missing", ErrCorrupt)
		}
		// Keys are appended in increasing order: fill pages completely.
		rb.FillPercent = 1.0
		if mapAhead {
			s.db.AllocSize = growStep(tx.Size()) // read by this transaction's commit only
		}
		if err := fn(tx, rb, st); err != nil {
			return err
		}
		if len(s.id) == 8 && !s.idStored && !bytes.Equal(mb.Get(keyID), s.id) {
			if err := mb.Put(keyID, s.id); err != nil {
				return err
			}
		}
		w := metaWriter{mb: mb, buf: s.metaBuf[:0]}
		err := w.put(st, &s.st)
		s.metaBuf = w.buf
		return err
	})
	if err != nil {
		return fmt.Errorf("spool: %s %s: %w", op, s.path, fullErr(err))
	}
	s.st = *st
	s.idStored = len(s.id) == 8
	s.commits++
	s.afterCommit(st)
	return nil
}

// publishStats makes the state visible to Stats. The caller holds wmu.
func (s *Spool) publishStats() {
	st := &s.st
	out := Stats{
		Records:  int(st.records),
		Bytes:    int64(st.bytes),
		Dropped:  st.dropped,
		Appended: st.appended,
		Deleted:  st.deleted,
		LastSeq:  s.hw,
		Held:     len(s.held),
		Lost:     st.lostTotal,
		Commits:  s.commits,
	}
	out.Lost[ReasonDropOldest] = st.dropped
	for r := range out.Lost {
		out.Lost[r] += s.pending[r].count
	}
	out.Unreported = st.ledger.total() + s.pending.total()
	if s.journalErr != nil {
		out.JournalError = s.journalErr.Error()
	}
	s.smu.Lock()
	s.stats = out
	s.smu.Unlock()
}

// diskFull tells whether the spool is holding events or losses that the
// file could not take: then Append does not try the disk, Flush does.
func (s *Spool) diskFull() bool { return len(s.held) > 0 || s.pending.total() > 0 }

// Append is AppendEvents for events without state.
func (s *Spool) Append(data ...[]byte) ([]uint64, error) {
	evs := make([]Event, len(data))
	for i, d := range data {
		evs[i].Data = d
	}
	return s.AppendEvents(evs...)
}

// AppendEvents hands the events to the spool and returns their sequence
// numbers, one per event, in order: every event gets one, whatever
// becomes of it, so a lost event leaves a gap in the numbers that the
// loss ledger explains.
//
// With a nil error every event is on disk (fsync'd, in one transaction)
// or counted in the ledger: refused by RejectNew (ReasonRejectNew) or
// larger than MaxBytes (ReasonTooLarge). DropOldest makes room by deleting
// the oldest records (ReasonDropOldest; never loss reports nor records
// Next returned) — if the batch
// alone exceeds a bound, that includes its own first records.
//
// When the disk is full the error wraps ErrDiskFull: the events are held
// in memory, up to MaxHeld, for Flush to store, the rest counted lost
// (ReasonDiskFull), and both recorded in the journal before Append
// returns. Until a Flush succeeds, later Appends do the same without
// trying the disk. Other errors (closed, corrupt) mean nothing was stored
// and no number handed out.
func (s *Spool) AppendEvents(evs ...Event) ([]uint64, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.isClosed() {
		return nil, fmt.Errorf("spool: append %s: %w", s.path, ErrClosed)
	}
	seqs := make([]uint64, len(evs))
	entries := slices.Grow(s.entries[:0], len(evs))[:len(evs)]
	defer func() {
		clear(entries) // keeps no event alive
		s.entries = entries[:0]
	}()
	for i, e := range evs {
		seqs[i] = s.hw + 1 + uint64(i)
		entries[i] = heldEvent{seq: seqs[i], ev: e}
	}
	s.hw += uint64(len(evs))
	defer s.publishStats()
	var err error
	if !s.diskFull() {
		if err = s.commit(entries, true); err == nil {
			return seqs, nil
		}
		if !errors.Is(err, ErrDiskFull) {
			s.hw -= uint64(len(evs))
			return nil, err
		}
	}
	heldBefore, lostBefore := len(s.held), s.pending[ReasonDiskFull].count
	s.hold(entries)
	jerr := s.writeJournal()
	if err == nil {
		err = fmt.Errorf("spool: append %s: %w (since an earlier append)", s.path, ErrDiskFull)
	}
	err = fmt.Errorf("%w; %d events held in memory, %d counted lost", err,
		len(s.held)-heldBefore, s.pending[ReasonDiskFull].count-lostBefore)
	if jerr != nil {
		err = fmt.Errorf("%w; %w", err, jerr)
	}
	return seqs, err
}

// hold keeps entries in memory up to MaxHeld and counts the rest lost.
// The caller holds wmu.
func (s *Spool) hold(entries []heldEvent) {
	var lost loss
	var firstLost, lastLost []byte
	for _, e := range entries {
		// Held events stay consecutive numbers (the journal records them
		// as a range): once one is lost, the rest of the episode is too.
		if len(s.held) < s.opts.MaxHeld && (len(s.held) == 0 || e.seq == s.held[len(s.held)-1].seq+1) {
			e.t = s.eventTime(e.ev.Data)
			s.held = append(s.held, e)
			continue
		}
		lost.add(e.seq, 0)
		if firstLost == nil {
			firstLost = e.ev.Data
		}
		lastLost = e.ev.Data
	}
	if lost.count > 0 {
		lost.first, lost.last = s.eventTime(firstLost), s.eventTime(lastLost)
		s.pending[ReasonDiskFull].merge(lost)
	}
}

// heldLoss describes the held events as a loss entry, for the journal.
func (s *Spool) heldLoss() loss {
	if len(s.held) == 0 {
		return loss{}
	}
	first, last := s.held[0], s.held[len(s.held)-1]
	return loss{count: uint64(len(s.held)), firstSeq: first.seq, lastSeq: last.seq, first: first.t, last: last.t}
}

// commit stores entries in one transaction, applying the bounds. With
// merge it also takes in the pending losses and everything handed out up
// to hw, which spends the journal. The caller holds wmu.
func (s *Spool) commit(entries []heldEvent, merge bool) error {
	maxRec, maxBytes := uint64(s.opts.MaxRecords), uint64(s.opts.MaxBytes)
	acked := s.acks.snapshot()                      // deleted in this transaction, for no fsync of their own
	acked = acked[:min(len(acked), releaseRecords)] // the rest by the next (resident.go)
	if s.opts.Overflow == DropOldest {
		s.nmu.Lock()
		defer s.nmu.Unlock()
	}
	err := s.update("append", func(tx *bolt.Tx, rb *bolt.Bucket, st *state) error {
		var sb *bolt.Bucket
		var rejected, tooLarge, dropped loss
		var rej0, rej1, big0, big1 []byte
		for _, e := range entries {
			st.lastSeq = max(st.lastSeq, e.seq)
			d := e.ev.Data
			n := uint64(len(d))
			if n > maxBytes {
				tooLarge.add(e.seq, 0)
				big0, big1 = cmpOr(big0, d), d
				continue
			}
			if s.opts.Overflow == RejectNew && (st.records+1 > maxRec || st.bytes+n > maxBytes) {
				rejected.add(e.seq, 0)
				rej0, rej1 = cmpOr(rej0, d), d
				continue
			}
			if err := rb.Put(putSeqKey(&s.key, e.seq), d); err != nil {
				return err
			}
			st.records++
			st.bytes += n
			st.appended++
			if kv := e.ev.State; kv != nil {
				if sb == nil {
					var err error
					if sb, err = tx.CreateBucketIfNotExists(bucketState); err != nil {
						return err
					}
				}
				var err error
				if kv.Value == nil {
					err = sb.Delete(kv.Key)
				} else {
					err = sb.Put(kv.Key, kv.Value)
				}
				if err != nil {
					return err
				}
			}
		}
		if err := deleteRecords(rb, st, acked); err != nil {
			return err
		}
		var drop0, drop1 []byte
		c := rb.Cursor()
		for s.opts.Overflow == DropOldest && (st.records > maxRec || st.bytes > maxBytes) {
			// Records Next handed out may have reached the broker: never
			// dropped (nor loss reports), so a drop is surely a loss.
			k, v := c.Seek(seqKey(s.sent + 1))
			for k != nil && slices.Contains(st.reports, binary.BigEndian.Uint64(k)) {
				k, v = c.Next()
			}
			if k == nil {
				break // only records in flight and loss reports left
			}
			seq, n := binary.BigEndian.Uint64(k), uint64(len(v))
			if drop0 == nil {
				drop0 = append([]byte{}, v...)
			}
			drop1 = append(drop1[:0], v...)
			if err := c.Delete(); err != nil {
				return err
			}
			st.records--
			st.bytes -= n
			st.dropped++
			dropped.add(seq, 0)
		}
		for _, x := range [...]struct {
			r    Reason
			l    loss
			a, b []byte
		}{{ReasonRejectNew, rejected, rej0, rej1}, {ReasonTooLarge, tooLarge, big0, big1}, {ReasonDropOldest, dropped, drop0, drop1}} {
			if x.l.count == 0 {
				continue
			}
			x.l.first, x.l.last = s.eventTime(x.a), s.eventTime(x.b)
			st.ledger[x.r].merge(x.l)
			if x.r != ReasonDropOldest {
				st.lostTotal[x.r] += x.l.count
			}
		}
		if merge {
			st.ledger.merge(&s.pending)
			for r := range s.pending {
				if r != int(ReasonDropOldest) {
					st.lostTotal[r] += s.pending[r].count
				}
			}
			st.lastSeq = max(st.lastSeq, s.hw)
			st.journalGen = s.jgen
		}
		return nil
	})
	if err == nil {
		s.acks.committed(len(acked), nil)
	}
	if err == nil && merge {
		s.pending = ledger{}
	}
	return err
}

// cmpOr returns a if it is not nil, else b.
func cmpOr(a, b []byte) []byte {
	if a != nil {
		return a
	}
	return b
}

// Flush stores the events held while the disk was full, oldest first, and
// commits the losses counted meanwhile. It returns nil when nothing is
// held any more, and an error wrapping ErrDiskFull while the disk is
// still full (having stored what fitted, in small transactions).
func (s *Spool) Flush() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.isClosed() {
		return fmt.Errorf("spool: flush %s: %w", s.path, ErrClosed)
	}
	defer s.publishStats()
	if !s.diskFull() {
		return nil
	}
	err := s.commit(s.held, true)
	if err == nil {
		s.held = nil
		return nil
	}
	if !errors.Is(err, ErrDiskFull) {
		return err
	}
	// Store what fits, a chunk at a time; the pending losses go in with
	// the last chunk, so the journal stays right until then.
	for len(s.held) > 0 {
		n := min(len(s.held), flushChunk)
		last := n == len(s.held)
		if err := s.commit(s.held[:n], last); err != nil {
			return err
		}
		s.held = slices.Clone(s.held[n:])
		if last {
			s.held = nil
			return nil
		}
	}
	return err
}

// flushChunk is the number of held events stored per transaction when a
// Flush of all of them meets a full disk.
const flushChunk = 64

// ReportLosses turns the loss ledger into records: for each reason with
// losses not yet reported, encode makes the record, and all are appended
// in one transaction that also clears the ledger. Loss reports are
// exempt from the bounds and never dropped. So that they stay few, it
// does nothing while an earlier report is still stored (not yet
// acknowledged) or while the disk is full; the ledger keeps adding up
// meanwhile. It returns the number of records appended.
func (s *Spool) ReportLosses(encode func(Loss) ([]byte, error)) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.isClosed() {
		return 0, fmt.Errorf("spool: report %s: %w", s.path, ErrClosed)
	}
	if s.diskFull() || len(s.st.reports) > 0 || s.st.ledger.total() == 0 {
		return 0, nil
	}
	defer s.publishStats()
	n := 0
	err := s.update("report", func(_ *bolt.Tx, rb *bolt.Bucket, st *state) error {
		for r := Reason(0); r < NumReasons; r++ {
			if st.ledger[r].empty() {
				continue
			}
			d, err := encode(st.ledger[r].public(r))
			if err != nil {
				return fmt.Errorf("report of %s losses: %w", r, err)
			}
			st.lastSeq = max(st.lastSeq, s.hw) + 1
			if err := rb.Put(seqKey(st.lastSeq), d); err != nil {
				return err
			}
			st.records++
			st.bytes += uint64(len(d))
			st.appended++
			st.reports = append(st.reports, st.lastSeq)
			st.ledger[r] = loss{}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.hw = s.st.lastSeq
	return n, nil
}

// Losses returns the losses not yet reported, committed and pending, one
// per reason that has any.
func (s *Spool) Losses() []Loss {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var out []Loss
	for r := Reason(0); r < NumReasons; r++ {
		l := s.st.ledger[r]
		l.merge(s.pending[r])
		if !l.empty() {
			out = append(out, l.public(r))
		}
	}
	return out
}

// State returns the spool's key/value state, as set with the events that
// were stored (Event.State) and by SetState.
func (s *Spool) State() (m map[string][]byte, err error) {
	if s.isClosed() {
		return nil, fmt.Errorf("spool: state %s: %w", s.path, ErrClosed)
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("spool: state %s: %w: %v", s.path, ErrCorrupt, r)
		}
	}()
	m = map[string][]byte{}
	err = s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketState); b != nil {
			return b.ForEach(func(k, v []byte) error {
				if v != nil {
					m[string(k)] = append([]byte{}, v...)
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("spool: state %s: %w", s.path, err)
	}
	return m, nil
}

// SetState sets (or, with a nil value, deletes) keys of the state in one
// transaction.
func (s *Spool) SetState(kvs ...KV) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.update("set state", func(tx *bolt.Tx, _ *bolt.Bucket, _ *state) error {
		b, err := tx.CreateBucketIfNotExists(bucketState)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			if kv.Value == nil {
				err = b.Delete(kv.Key)
			} else {
				err = b.Put(kv.Key, kv.Value)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Delete removes the records with the given sequence numbers in one
// transaction (in several of 1,024 when there are more, so that a large
// deletion does not leave its pages resident: if one fails, those before
// stay done), durably, typically when the broker acknowledged them.
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
	s.wmu.Lock()
	defer s.wmu.Unlock()
	defer s.publishStats()
	return s.deleteLocked(seqs)
}

// deleteLocked is Delete; the caller holds wmu.
func (s *Spool) deleteLocked(seqs []uint64) error {
	err := s.deleteTx(seqs)
	if err == nil {
		if !s.reserve && !s.isClosed() {
			s.reserve = s.makeReserve()
		}
		return nil
	}
	if !errors.Is(err, ErrFull) {
		return err
	}
	_ = os.Remove(s.reservePath())
	s.reserve = false
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

// Discard deletes stored records that cannot be used (a reader could not
// decode them) and counts them lost for reason r in the same transaction,
// so the gap they leave is reported like any other loss. Seqs not stored
// are ignored. Unlike Delete it does not retry on a full disk: the records
// stay and the error wraps ErrFull.
func (s *Spool) Discard(r Reason, seqs ...uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	if r < 0 || r >= NumReasons || r == ReasonDropOldest {
		return fmt.Errorf("spool: discard: reason %v is not one a reader of the spool can give", r)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	defer s.publishStats()
	return s.update("discard", func(_ *bolt.Tx, rb *bolt.Bucket, st *state) error {
		for _, seq := range seqs {
			k := seqKey(seq)
			v := rb.Get(k)
			if v == nil {
				continue
			}
			t := s.eventTime(v)
			if err := rb.Delete(k); err != nil {
				return err
			}
			st.records--
			st.bytes -= uint64(len(v))
			st.deleted++
			st.ledger[r].add(seq, t)
			st.lostTotal[r]++
		}
		return nil
	})
}

// deleteChunk is the number of records deleted per transaction when a
// Delete is retried on a full disk: few pages are copied per transaction,
// and each transaction frees pages for the next.
const deleteChunk = 32

// deleteTx deletes seqs in transactions of releaseRecords at most
// (resident.go).
func (s *Spool) deleteTx(seqs []uint64) error {
	for len(seqs) > 0 {
		n := min(len(seqs), releaseRecords)
		err := s.update("delete", func(_ *bolt.Tx, rb *bolt.Bucket, st *state) error {
			return deleteRecords(rb, st, seqs[:n])
		})
		if err != nil {
			return err
		}
		seqs = seqs[n:]
	}
	return nil
}

// deleteRecords deletes the records of seqs that are stored, in the
// transaction of rb, and counts them in st. Seqs may be in any order and
// repeat; it is not modified.
func deleteRecords(rb *bolt.Bucket, st *state, seqs []uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	if !slices.IsSorted(seqs) {
		seqs = slices.Sorted(slices.Values(seqs))
	}
	// One cursor for the whole batch (a Bucket.Delete makes one each, and
	// grows its search stack), in key order: each seek goes down the
	// path of the last.
	c := rb.Cursor()
	var kb [8]byte
	for i, seq := range seqs {
		if i > 0 && seq == seqs[i-1] {
			continue
		}
		key := putSeqKey(&kb, seq)
		k, v := c.Seek(key)
		if k == nil {
			break // none stored at or above seq
		}
		if !bytes.Equal(k, key) {
			continue
		}
		n := uint64(len(v))
		if err := c.Delete(); err != nil {
			return err
		}
		st.records--
		st.bytes -= n
		st.deleted++
		if i := slices.Index(st.reports, seq); i >= 0 {
			st.reports = slices.Delete(st.reports, i, i+1)
		}
	}
	return nil
}

// Stats returns the current gauges and counters. It never waits for disk.
func (s *Spool) Stats() Stats {
	s.smu.Lock()
	st := s.stats
	s.smu.Unlock()
	st.Acknowledged, st.AckError = s.acks.stats()
	return st
}

// Path returns the spool file's path.
func (s *Spool) Path() string { return s.path }

// Close waits for running calls and closes the file. Events still held
// (the disk stayed full) are counted lost (ReasonDiskFull), in the file if
// it takes the commit, else in the journal for the next Open; the error
// then says how many. Later calls return errors wrapping ErrClosed; a
// second Close returns nil.
func (s *Spool) Close() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.isClosed() {
		return nil
	}
	var errs []error
	s.acks.stop()
	if err := s.commitAcks(); err != nil {
		errs = append(errs, fmt.Errorf("spool: close %s: acknowledged records not deleted (they will be published again): %w", s.path, err))
	}
	if n := len(s.held); n > 0 {
		s.pending[ReasonDiskFull].merge(s.heldLoss())
		s.held = nil
		errs = append(errs, fmt.Errorf("spool: close %s: %d events held in memory lost: %w", s.path, n, ErrDiskFull))
	}
	if s.diskFull() {
		if err := s.commit(nil, true); err != nil {
			if jerr := s.writeJournal(); jerr != nil {
				errs = append(errs, jerr)
			}
		}
	}
	s.publishStats()
	s.smu.Lock()
	s.closed = true
	s.smu.Unlock()
	s.closeJournal()
	if err := s.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("spool: close %s: %w", s.path, err))
	}
	return errors.Join(errs...)
}
