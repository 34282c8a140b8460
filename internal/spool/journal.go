package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
)

// The journal (path + ".journal") records what the spool knows and the
// bbolt file cannot take while the disk is full: the highest sequence
// number handed out, the range of events held in memory, and the losses
// counted since the file last took a commit. It is a preallocated file of
// journalSize bytes overwritten in place (two checksummed slots, written in
// turn), so writing it needs no new disk blocks on filesystems that
// overwrite in place (ext4, xfs, tmpfs; not btrfs or zfs).
//
// Slot layout, big-endian:
//
//	0..7     magic "NGICJNL1"
//	8..15    spool id (meta "id"): a journal of another file is ignored
//	16..23   generation, increasing; the newest valid slot wins
//	24..31   highest sequence number handed out
//	32..71   held events (a loss entry: count, seq range, time span)
//	72..     journalReasons loss entries: losses not yet in the bbolt file
//	then     CRC-32 (IEEE) of everything before
//
// The bbolt meta key "journal_gen" is the generation whose contents a
// commit took in; a journal generation at or below it is spent.
const (
	journalSize = 4096
	journalSlot = 512
	journalBody = 72 + journalReasons*lossSize
	// journalReasons is the number of reasons the journal has room for:
	// those up to ReasonUnreadable, fixed so that the format does not
	// change when a reason is added. Later reasons (ReasonRefused) are
	// given by Discard, which commits them to the file, never pending.
	journalReasons = int(ReasonUnreadable) + 1
)

var journalMagic = []byte("NGICJNL1")

// journal is the contents of one slot.
type journal struct {
	id      []byte
	gen, hw uint64
	held    loss
	pending ledger
}

func (j *journal) marshal() []byte {
	b := make([]byte, journalBody, journalBody+4)
	copy(b, journalMagic)
	copy(b[8:16], j.id)
	binary.BigEndian.PutUint64(b[16:], j.gen)
	binary.BigEndian.PutUint64(b[24:], j.hw)
	j.held.marshal(b[32:72])
	for i := range journalReasons {
		j.pending[i].marshal(b[72+i*lossSize : 72+(i+1)*lossSize])
	}
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

func unmarshalJournal(b []byte) (journal, error) {
	if len(b) < journalBody+4 || !bytes.Equal(b[:8], journalMagic) {
		return journal{}, errors.New("no journal slot")
	}
	body := b[:journalBody]
	if crc32.ChecksumIEEE(body) != binary.BigEndian.Uint32(b[journalBody:]) {
		return journal{}, errors.New("journal slot checksum mismatch")
	}
	j := journal{id: append([]byte{}, b[8:16]...), gen: binary.BigEndian.Uint64(b[16:]), hw: binary.BigEndian.Uint64(b[24:])}
	var err error
	if j.held, err = unmarshalLoss(b[32:72]); err != nil {
		return journal{}, err
	}
	for i := range journalReasons {
		if j.pending[i], err = unmarshalLoss(b[72+i*lossSize : 72+(i+1)*lossSize]); err != nil {
			return journal{}, err
		}
	}
	return j, nil
}

func (s *Spool) journalPath() string { return s.path + ".journal" }

// readJournal returns the newest valid slot of the journal, and false when
// there is none (no file, never written, or both slots damaged).
func readJournal(path string) (journal, bool) {
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 2*journalSlot {
		return journal{}, false
	}
	var best journal
	found := false
	for i := 0; i < 2; i++ {
		j, err := unmarshalJournal(b[i*journalSlot : (i+1)*journalSlot])
		if err == nil && (!found || j.gen > best.gen) {
			best, found = j, true
		}
	}
	return best, found
}

// openJournal opens the journal file, allocating its blocks (written with
// zeros, not sparse) if it is new or short. Called with wmu held.
func (s *Spool) openJournal() error {
	if s.jf != nil {
		return nil
	}
	f, err := os.OpenFile(s.journalPath(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() < journalSize {
		// Keep what is there (a valid slot) and fill the rest.
		_, err = f.WriteAt(make([]byte, journalSize-fi.Size()), fi.Size())
		if err == nil && !s.opts.NoSync {
			err = f.Sync()
		}
	}
	if err != nil {
		_ = f.Close()
		return err
	}
	s.jf = f
	return nil
}

// writeJournal records the held events and the pending losses under a new
// generation. Called with wmu held. A failure is kept in journalErr (and
// returned): a crash before the next commit could then hide these events.
func (s *Spool) writeJournal() error {
	err := s.openJournal()
	if err == nil {
		s.jgen++
		j := journal{id: s.id, gen: s.jgen, hw: s.hw, held: s.heldLoss(), pending: s.pending}
		_, err = s.jf.WriteAt(j.marshal(), int64(s.jgen%2)*journalSlot)
		if err == nil && !s.opts.NoSync {
			err = s.jf.Sync()
		}
	}
	if err != nil {
		err = fmt.Errorf("spool: journal %s: %w", s.journalPath(), fullErr(err))
	}
	s.journalErr = err
	return err
}

// closeJournal closes the journal file. Called with wmu held.
func (s *Spool) closeJournal() {
	if s.jf != nil {
		_ = s.jf.Close()
		s.jf = nil
	}
}
