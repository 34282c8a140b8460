package emulate

import "github.com/ngic/ngic/drivers/rfid"

// Bounds of a journal: the host's first journalHead bytes are kept for
// good (its opening settings and the inventory it starts); after them, the
// last journalTail bytes and journalTicks rounds.
const (
	journalHead  = 1 << 10
	journalTail  = 4 << 10
	journalTicks = 256
)

// journal records what brought an emulator to its state: every chunk the
// host wrote, and how many ticks sent something after each. Replayed into
// a new emulator, it brings that one to the same state with other tags: a
// multi-poll goes on with as many rounds left, continuous reading stays
// on, settings stay set, and a frame the host had half written is
// completed by its next bytes. A tick that sent nothing is taken to have
// changed nothing (a reader not inventorying).
//
// It is bounded: past journalHead bytes, the oldest chunks after the head
// are forgotten once the rest holds more than journalTail bytes or
// journalTicks ticks, and the ticks after a chunk that cannot be forgotten
// stop being counted at journalTicks. Chunks are kept whole, so what is
// forgotten ends where a host's write ended.
type journal struct {
	entries   []entry
	head      int // entries[:head] are never forgotten
	headBytes int // of the head's chunks
	bytes     int // of the chunks after the head
	ticks     int // of all entries
}

// entry is one chunk the host wrote and the ticks that sent something
// after it.
type entry struct {
	in    []byte
	ticks int
}

// wrote records a chunk the host wrote.
func (j *journal) wrote(in []byte) {
	j.entries = append(j.entries, entry{in: append([]byte(nil), in...)})
	if j.head == len(j.entries)-1 && j.headBytes+len(in) <= journalHead {
		j.head++
		j.headBytes += len(in)
		return
	}
	j.bytes += len(in)
	j.trim()
}

// ticked records a tick that sent something.
func (j *journal) ticked() {
	if len(j.entries) == 0 {
		j.entries, j.head = append(j.entries, entry{}), 1 // ticks before the host wrote
	}
	j.entries[len(j.entries)-1].ticks++
	j.ticks++
	j.trim()
	if j.ticks > journalTicks { // nothing left to forget: stop counting
		j.entries[len(j.entries)-1].ticks--
		j.ticks--
	}
}

// trim forgets the oldest entries after the head while those after it are
// over their bounds, keeping the last entry.
func (j *journal) trim() {
	drop := j.head
	for drop < len(j.entries)-1 && (j.bytes > journalTail || j.ticks > journalTicks) {
		j.bytes -= len(j.entries[drop].in)
		j.ticks -= j.entries[drop].ticks
		drop++
	}
	if drop > j.head {
		n := len(j.entries)
		j.entries = append(j.entries[:j.head], j.entries[drop:]...)
		clear(j.entries[len(j.entries):n])
	}
}

// replay feeds the journal to em, dropping what it answers and sends.
func (j *journal) replay(em rfid.Emulator) {
	for _, e := range j.entries {
		if len(e.in) > 0 {
			em.Handle(e.in)
		}
		for range e.ticks {
			em.Tick()
		}
	}
}
