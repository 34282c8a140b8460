package spool

import bolt "go.etcd.io/bbolt"

// The spool file is memory-mapped (bbolt), and every page a transaction
// or Next reads through the map stays in the process's resident set
// (RssFile) until the map goes: reading a backlog of tens of thousands of
// records to publish and delete them left the whole backlog's pages
// counted as the process's memory (some 20 MB for 40,000 events at the
// edge), long after the records were gone. So the spool drops the map's
// resident pages (madvise MADV_DONTNEED: the data stays in the kernel's
// page cache and on disk; a later read maps it again, a minor fault) each
// time about releaseRecords records have been read or written through
// the map, and as Open reads every record to check the file; and no write
// transaction deletes more than releaseRecords records (a Delete of more
// is made in several). Nothing is lost and the file is unchanged: the map
// is read-only, bbolt writes with write(2).
//
// A release is made inside a transaction: bbolt maps the file again only
// while committing a write transaction, and not while any other
// transaction is open, so the map is the one the transaction reads. After
// a write transaction it is made in a read transaction of its own: the
// commit reads again the header of every page the transaction freed.

// releaseRecords is how many records read (Next) or entering or leaving
// the file (appended, deleted, acknowledged, discarded, dropped) make a
// release of the map's pages, and the most records a write transaction
// deletes: 250 KB of events at 250 bytes each, and with the pages around
// them the kernel maps (below) 1-2 MB resident at most; at the edge's
// 5,000 events a second, some 15 releases a second, each a few
// microseconds and a few minor faults again. Appends count too:
// each transaction reads the last pages of the file, which bbolt has just
// written anew, and the kernel maps the 64 KiB around each page read
// (fault-around), so a backlog that builds in small transactions touches
// some 64 KiB a transaction.
const releaseRecords = 1024

// touched counts n records read or written through the map and tells
// whether releaseRecords have been since the last release, which the
// caller then makes (releaseMapped). Safe for concurrent use.
func (s *Spool) touched(n uint64) bool {
	if s.sinceRelease.Add(n) < releaseRecords {
		return false
	}
	s.sinceRelease.Store(0)
	return true
}

// afterCommit counts as touched the records that entered or left the file
// since the last count, by st, the state a write transaction committed,
// and releases the map's pages when due. The caller holds wmu.
func (s *Spool) afterCommit(st *state) {
	c := churned(st)
	due := c > s.churnSeen && s.touched(c-s.churnSeen)
	s.churnSeen = c
	if due {
		_ = s.db.View(func(tx *bolt.Tx) error {
			s.releaseMapped(tx)
			return nil
		})
	}
}

// churned is the number of records that have entered or left the file
// by st.
func churned(st *state) uint64 { return st.appended + st.deleted + st.dropped }

// releaseMapped drops the resident pages of the part of the map tx reads
// (the file up to its high-water mark), unless the file is smaller than
// releaseFrom. A failure only leaves them resident. The caller runs in
// tx, so that the map cannot change.
func (s *Spool) releaseMapped(tx *bolt.Tx) {
	if size := tx.Size(); size >= releaseFrom && dropResident(s.db.Info().Data, size) == nil {
		s.releases.Add(1)
	}
}

// releaseFrom is the smallest file whose pages are released: a smaller
// one cannot keep more resident, and a release costs the process some
// 0.1 ms (the flush of the other threads' TLBs, the pages mapped again),
// a fifth of the CPU of a spool that stays small and busy (the
// publisher's Next and Delete of 512 records, BenchmarkNextDelete).
const releaseFrom = 2 << 20
