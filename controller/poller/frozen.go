package poller

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/ngic/ngic/controller/device"
)

// A device's latest document is kept frozen: its JSON, gzip'd. A live
// document of a DSLAM or an OLT holds thousands of small allocations
// (15 KB on average over the IF-MIB recordings); frozen it takes about a
// tenth of that and nothing for the garbage collector to scan, so 10,000
// devices keep their documents in some 15 MB. Thawing costs a JSON decode
// and is done only when a document is asked for.

// freezer compresses documents one at a time: a gzip writer holds about a
// megabyte, so there is one rather than one per poll in flight.
var freezer struct {
	sync.Mutex
	buf bytes.Buffer
	zw  *gzip.Writer
}

// freeze returns d's JSON, gzip'd.
func freeze(d *device.Document) ([]byte, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("poller: document: %w", err)
	}
	return freezeJSON(b)
}

// freezeJSON gzips a document's JSON.
func freezeJSON(b []byte) ([]byte, error) {
	freezer.Lock()
	defer freezer.Unlock()
	freezer.buf.Reset()
	if freezer.zw == nil {
		zw, err := gzip.NewWriterLevel(&freezer.buf, gzip.BestSpeed)
		if err != nil {
			return nil, err
		}
		freezer.zw = zw
	} else {
		freezer.zw.Reset(&freezer.buf)
	}
	if _, err := freezer.zw.Write(b); err != nil {
		return nil, err
	}
	if err := freezer.zw.Close(); err != nil {
		return nil, err
	}
	return bytes.Clone(freezer.buf.Bytes()), nil
}

// thawJSON returns a frozen document's JSON.
func thawJSON(f []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("poller: frozen document: %w", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("poller: frozen document: %w", err)
	}
	return b, nil
}

// thaw returns a frozen document (nil for none).
func thaw(f []byte) (*device.Document, error) {
	if f == nil {
		return nil, nil
	}
	b, err := thawJSON(f)
	if err != nil {
		return nil, err
	}
	var d device.Document
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("poller: frozen document: %w", err)
	}
	return &d, nil
}

// skeleton is what the next poll is compared with (Poll.PrevDocument): the
// class and the access figures whose change between two polls means
// something (ONTs per PON port, DSL lines in showtime, TV status and
// alarms), without the interfaces and DSL lines that make up most of a
// document.
func skeleton(d *device.Document) *device.Document {
	s := &device.Document{Class: d.Class, Profile: d.Profile, PolledAt: d.PolledAt}
	if a := d.Access; a != nil {
		sa := &device.Access{PON: a.PON, Cable: a.Cable, TV: a.TV}
		if a.DSL != nil {
			sa.DSL = &device.DSL{Summary: a.DSL.Summary}
		}
		if a.Cable != nil {
			c := *a.Cable
			c.Downstreams, c.Upstreams = nil, nil
			sa.Cable = &c
		}
		s.Access = sa
	}
	return s
}
