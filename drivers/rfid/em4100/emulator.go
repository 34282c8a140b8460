package em4100

import (
	"fmt"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
)

// Emulator behaves like an RDM6300 with cards in its field: every Tick it
// sends the frame of the next card in turn, and it ignores what the host
// writes.
type Emulator struct {
	frames [][]byte
	next   int
}

var _ rfid.Emulator = (*Emulator)(nil)

// NewEmulator returns an emulator presenting tags, each 5 bytes (version
// and 32-bit card ID). With no tags it stays silent.
func NewEmulator(tags [][]byte) (*Emulator, error) {
	e := &Emulator{}
	for i, t := range tags {
		if err := checkTag(t); err != nil {
			return nil, fmt.Errorf("em4100: emulator tag %d: %w", i+1, err)
		}
		f, _ := AppendFrame(nil, t)
		e.frames = append(e.frames, f)
	}
	return e, nil
}

// Handle returns nil: the reader takes no commands.
func (e *Emulator) Handle(in []byte) []byte { return nil }

// Tick returns the frame of the next card, or nil when there is none.
func (e *Emulator) Tick() []byte {
	if len(e.frames) == 0 {
		return nil
	}
	f := e.frames[e.next]
	e.next = (e.next + 1) % len(e.frames)
	return f
}

// TickInterval returns the reader's repeat interval, 50 ms.
func (e *Emulator) TickInterval() time.Duration { return RepeatInterval }
