package simulator

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/ngic/ngic/controller/snmprec"
)

// twinSim serves one recording as two agents, "dev" and "twin".
func twinSim(t *testing.T) *Simulator {
	t.Helper()
	v, _ := snmprec.Parse("dev", []byte(small))
	s, err := New(map[string]*snmprec.View{"dev": v, "twin": v}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSetDown: a down agent answers nothing, its twin on the same
// recording still answers, and it answers again once up.
func TestSetDown(t *testing.T) {
	s := twinSim(t)
	twin := marshalTo(t, "twin")
	if s.HandlePacket(nil, getSysUpTime) == nil || s.HandlePacket(nil, twin) == nil {
		t.Fatal("agents do not answer before any SetDown")
	}
	if err := s.SetDown("dev", true); err != nil {
		t.Fatal(err)
	}
	if got := s.HandlePacket(nil, getSysUpTime); got != nil {
		t.Fatalf("down agent answered % x", got)
	}
	if s.HandlePacket(nil, twin) == nil {
		t.Fatal("the other agent on the same recording stopped answering")
	}
	want := []AgentState{{"dev", StateDown}, {"twin", StateUp}}
	if got := s.Agents(); !slices.Equal(got, want) {
		t.Fatalf("Agents() = %v; want %v", got, want)
	}
	if err := s.SetDown("dev", true); err != nil { // again: no change
		t.Fatal(err)
	}
	if err := s.SetDown("dev", false); err != nil {
		t.Fatal(err)
	}
	if resp := s.HandlePacket(nil, getSysUpTime); resp == nil || decodeResp(t, resp).Variables[0].Name != ".1.3.6.1.2.1.1.3.0" {
		t.Fatal("agent back up does not answer")
	}
	if got := s.Agents(); got[0].State != StateUp {
		t.Fatalf("Agents() = %v after up", got)
	}
	err := s.SetDown("nope", true)
	if err == nil || !strings.HasPrefix(err.Error(), "simulator: ") || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("SetDown of an unknown agent: %v", err)
	}
}

// marshalTo is a v2c GET of sysUpTime.0 for community.
func marshalTo(t *testing.T, community string) []byte {
	t.Helper()
	p := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: community, PDUType: gosnmp.GetRequest, RequestID: 5,
		Variables: []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.1.3.0", Type: gosnmp.Null}}}
	b, err := p.MarshalMsg()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSetDownWhileServing takes an agent down and up while it is polled
// over UDP from several goroutines (run with -race).
func TestSetDownWhileServing(t *testing.T) {
	s := twinSim(t)
	port := serve(t, s)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		g := client(t, port, "twin", gosnmp.Version2c)
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := g.Get([]string{".1.3.6.1.2.1.1.3.0"}); err != nil {
					t.Errorf("twin stopped answering: %v", err)
					return
				}
			}
		})
	}
	for i := range 200 {
		if err := s.SetDown("dev", i%2 == 0); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if err := s.SetDown("dev", true); err != nil {
		t.Fatal(err)
	}
	g := client(t, port, "dev", gosnmp.Version2c)
	g.Timeout, g.Retries = 300*time.Millisecond, 0
	if _, err := g.Get([]string{".1.3.6.1.2.1.1.3.0"}); err == nil {
		t.Fatal("down agent answered over UDP")
	}
	if err := s.SetDown("dev", false); err != nil {
		t.Fatal(err)
	}
	g.Timeout, g.Retries = 2*time.Second, 1
	if _, err := g.Get([]string{".1.3.6.1.2.1.1.3.0"}); err != nil {
		t.Fatalf("agent back up: %v", err)
	}
}
