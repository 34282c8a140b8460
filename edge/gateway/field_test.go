package gateway

import (
	"fmt"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/ngic/ngic/drivers/rfid/emulate"
)

// steppedField moves tags through an emulated reader's field one at a
// time, each staying until the gateway has it present (its arrival
// decided): unlike a field on a timer, every tag that goes through arrives,
// however slow the machine.
type steppedField struct {
	stop chan struct{}
	done chan struct{}
	n    int
	err  error
}

// stepField starts moving tag(1), tag(2), ... through runner's field,
// watching reader (an index in the gateway's readers) for each.
func stepField(g *Gateway, runner *emulate.Runner, reader int, tag func(i int) []byte) *steppedField {
	f := &steppedField{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(f.done)
		defer runner.SetTags(nil)
		for i := 1; ; i++ {
			t := tag(i)
			if err := runner.SetTags([][]byte{t}); err != nil {
				f.err = err
				return
			}
			id := fmt.Sprintf("%X", t)
			deadline := time.Now().Add(30 * time.Second) // a hang guard
			for !present(g, reader, id) {
				if time.Now().After(deadline) {
					f.err = fmt.Errorf("tag %d (%s) never present at the gateway", i, id)
					return
				}
				time.Sleep(2 * time.Millisecond)
			}
			f.n = i
			select {
			case <-f.stop:
				return
			default:
			}
		}
	}()
	return f
}

// Stop empties the field after the tag in it has arrived and returns how
// many tags went through: tag(1) to tag(n), each present at the gateway.
func (f *steppedField) Stop(t *testing.T) int {
	t.Helper()
	close(f.stop)
	<-f.done
	if f.err != nil {
		t.Fatal(f.err)
	}
	return f.n
}

// present reports whether the reader has the tag (upper-case hex) present.
func present(g *Gateway, reader int, id string) bool {
	for _, p := range g.Health().Readers[reader].Present {
		if p.Tag == id {
			return true
		}
	}
	return false
}

// spooled is the number of events of a source and type the gateway has
// spooled (its ngic_edge_events_total).
func spooled(g *Gateway, source, typ string) float64 {
	var m dto.Metric
	if err := g.metrics.events.WithLabelValues(source, typ).Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}
