package demo

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/ngic/ngic/drivers/rfid/all"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDemoShowsEvents runs what `make run` runs and checks that arrivals
// and departures of decoded EPCs come out of the embedded broker.
func TestDemoShowsEvents(t *testing.T) {
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Opts{
			BrokerListen: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)),
			HTTPListen:   fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)),
			Period:       200 * time.Millisecond,
		}, &out)
	}()
	// One of the two SGTIN-96 tags (serials 6789 and 6790): on a loaded
	// machine the first may have left before the reader's first inventory.
	const sgtin = `"uri":"urn:epc:id:sgtin:0614141.812345.67`
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		s := out.String()
		if strings.Contains(s, `"type":"tag.departed"`) && strings.Count(s, `"type":"tag.arrived"`) >= 2 &&
			strings.Contains(s, sgtin) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil && err != context.Canceled {
		t.Fatalf("demo: %v", err)
	}
	s := out.String()
	for _, want := range []string{
		telemetry.StatusTopic("demo-gateway") + ` {"v":1,"gateway":"demo-gateway","state":"online"`,
		`"type":"tag.arrived"`,
		`"type":"tag.departed"`,
		sgtin,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("demo output lacks %s:\n%s", want, s)
		}
	}
}

// TestStep: the tags enter one by one, then leave one by one, and the
// cycle starts again with an empty field; em4100 reads card numbers.
func TestStep(t *testing.T) {
	field := Field("magicrf")
	if len(field) != 4 || len(field[0]) != 12 {
		t.Fatalf("magicrf field %x", field)
	}
	if f := Field("em4100"); len(f) != 4 || len(f[0]) != 5 {
		t.Fatalf("em4100 field %x", f)
	}
	var counts []int
	for step := 0; step <= 9; step++ {
		counts = append(counts, len(Step(field, step)))
	}
	if fmt.Sprint(counts) != "[0 1 2 3 4 3 2 1 0 1]" {
		t.Errorf("tags in the field by step: %v", counts)
	}
	if got := Step(field, 5); !bytes.Equal(got[0], field[1]) {
		t.Errorf("step 5: the first tag to enter should be the first to leave: %x", got)
	}
}
