package driver

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
)

type nopSession struct{ rfid.Session }

func TestSessionNilOnError(t *testing.T) {
	var typedNil *nopSession
	s, err := Session(typedNil, errors.New("bad"))
	if s != nil || err == nil {
		t.Fatalf("Session on error gave %v, %v; want a nil interface and the error", s, err)
	}
	if s, err := Session(&nopSession{}, nil); s == nil || err != nil {
		t.Fatalf("Session gave %v, %v", s, err)
	}
}

func TestPollInterval(t *testing.T) {
	if d, err := PollInterval("x", rfid.Options{}, time.Second); d != time.Second || err != nil {
		t.Fatalf("default: %v %v", d, err)
	}
	if d, err := PollInterval("x", rfid.Options{PollInterval: time.Minute}, time.Second); d != time.Minute || err != nil {
		t.Fatalf("set: %v %v", d, err)
	}
	if _, err := PollInterval("x", rfid.Options{PollInterval: -1}, time.Second); err == nil || !strings.HasPrefix(err.Error(), "x: ") {
		t.Fatalf("negative: %v", err)
	}
}

func TestCounts(t *testing.T) {
	var c Counts
	n := 0
	c.Begin(func(rfid.Read) { n++ })
	c.Emit(rfid.Read{})
	c.End()
	c.Emit(rfid.Read{}) // counted, not passed on
	c.Malformed, c.Errors = 1, 2
	want := rfid.Stats{Frames: 4, Reads: 2, BadFrames: 2, SkippedBytes: 7, Errors: 2}
	if st := c.Stats(5, 1, 7); st != want || n != 1 {
		t.Fatalf("stats %+v, %d emitted; want %+v, 1", st, n, want)
	}
}
