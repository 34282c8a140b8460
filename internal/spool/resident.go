package spool

import bolt "go.etcd.io/bbolt"

// The spool file is memory-mapped (bbolt), and every page a transaction
// or Next reads through the map stays in the process's resident set
// (RssFile) until the map goes: reading a backlog of tens of thousands of
// records to publish and delete them left the whole backlog's pages
// counted as the process's memory (some 20 MB for 36,000 events at the
// edge), long after the records were gone. So the spool drops the map's
// resident pages (madvise MADV_DONTNEED: the data stays in the kernel's
// page cache and on disk; a later read maps it again, a minor fault) each
// time releaseRecords records have entered or left the file, and once
// after Open has read every record to check the file. Nothing is lost and
// the file is unchanged: the map is read-only, bbolt writes with write(2).

// releaseRecords is how many records enter or leave the file (appended,
// deleted, acknowledged, discarded, dropped) between two releases of its
// mapped pages: about 1 MB of events at 250 bytes each. Appends count
// too: each transaction reads the last pages of the file, which bbolt
// has just written anew, and the kernel maps the 64 KiB around each page
// read (fault-around), so a backlog that builds in small transactions
// touches some 64 KiB a transaction.
const releaseRecords = 4096

// releaseIfDue releases the file's mapped pages when releaseRecords
// records have entered or left the file since the last release, counted
// by st, the state the write transaction tx builds. The caller holds wmu
// and runs in tx: bbolt maps the file again only while committing a write
// transaction, so the map is the one tx reads.
func (s *Spool) releaseIfDue(tx *bolt.Tx, st *state) {
	churn := churned(st)
	if churn-s.released < releaseRecords {
		return
	}
	s.released = churn
	s.releaseMapped(tx)
}

// churned is the number of records that have entered or left the file
// by st.
func churned(st *state) uint64 { return st.appended + st.deleted + st.dropped }

// releaseMapped drops the resident pages of the part of the map tx reads
// (the file up to its high-water mark). A failure only leaves them
// resident. The caller runs in tx, so that the map cannot change.
func (s *Spool) releaseMapped(tx *bolt.Tx) {
	if dropResident(s.db.Info().Data, tx.Size()) == nil {
		s.releases.Add(1)
	}
}
