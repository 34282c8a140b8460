package loadgen

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/simulator"
	"github.com/ngic/ngic/controller/simulator/simulatortest"
	"github.com/ngic/ngic/controller/snmprec"
)

// TestRunAgainstSimulator drives two agents of the simulator: every
// request is answered with 25 varbinds, none times out or is malformed.
func TestRunAgainstSimulator(t *testing.T) {
	_, addr := simulatortest.Serve(t, "huawei_ma5603t", "zte_c320")
	res, err := Run(context.Background(), Options{Target: netip.MustParseAddrPort(addr),
		Communities: []string{"huawei_ma5603t", "zte_c320"}, Requests: 20000, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Sent != 20000 || res.Answers != 20000 || res.Timeouts != 0 || res.Malformed != 0 || res.Late != 0 {
		t.Errorf("result %+v, want 20000 sent and answered, nothing else", res)
	}
	if res.Varbinds != 25*res.Answers {
		t.Errorf("%d varbinds in %d answers, want 25 each", res.Varbinds, res.Answers)
	}
	if res.PerSecond() <= 0 || !strings.Contains(res.String(), "requests/s") {
		t.Errorf("rate %v, summary %q", res.PerSecond(), res)
	}
}

// TestRunCountsTimeouts: requests to an agent that is down time out and
// are replaced until Duration ends; the other agent answers throughout.
func TestRunCountsTimeouts(t *testing.T) {
	sim, addr := simulatortest.Serve(t, "huawei_ma5603t", "zte_c320")
	if err := sim.SetDown("zte_c320", true); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{Target: netip.MustParseAddrPort(addr),
		Communities: []string{"huawei_ma5603t", "zte_c320"}, InFlight: 16, Sockets: 1,
		Duration: 500 * time.Millisecond, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Answers == 0 || res.Timeouts == 0 || res.Malformed != 0 {
		t.Errorf("result %+v, want answers and timeouts", res)
	}
	if res.Sent != res.Answers+res.Timeouts {
		t.Errorf("%d sent, %d answered, %d timed out: every request is one or the other", res.Sent, res.Answers, res.Timeouts)
	}
}

// TestRunCountsMalformed: an agent that echoes each request (a GETBULK,
// not a Response) gets every reply counted malformed, and each request
// times out.
func TestRunCountsMalformed(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			_, _ = conn.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	res, err := Run(context.Background(), Options{Target: conn.LocalAddr().(*net.UDPAddr).AddrPort(),
		Communities: []string{"public"}, InFlight: 8, Requests: 40, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 40 || res.Malformed != 40 || res.Timeouts != 40 || res.Answers != 0 {
		t.Errorf("result %+v, want 40 sent, malformed and timed out", res)
	}
}

// TestOptionsRejected: options that cannot run are errors naming the field.
func TestOptionsRejected(t *testing.T) {
	ok := Options{Target: netip.MustParseAddrPort("127.0.0.1:1161"), Communities: []string{"a"}, Requests: 1}
	for field, o := range map[string]Options{
		"Target":         {Communities: []string{"a"}, Requests: 1},
		"Communities":    {Target: ok.Target, Requests: 1},
		"Duration":       {Target: ok.Target, Communities: []string{"a"}},
		"InFlight":       func() Options { o := ok; o.InFlight, o.Sockets = 5000, 1; return o }(),
		"Batch":          func() Options { o := ok; o.Batch = -1; return o }(),
		"MaxRepetitions": func() Options { o := ok; o.MaxRepetitions = 70000; return o }(),
		"OID":            func() Options { o := ok; o.OID = "1.x"; return o }(),
	} {
		if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), field) ||
			!strings.HasPrefix(err.Error(), "loadgen: ") {
			t.Errorf("%s: error %v", field, err)
		}
	}
}

// TestRunIPv6 drives a simulator listening on ::1.
func TestRunIPv6(t *testing.T) {
	v, _ := snmprec.Parse("dev", []byte("1.3.6.1.2.1.2.2.1.1.1|2|1\n1.3.6.1.2.1.2.2.1.1.2|2|2\n"))
	sim, err := simulator.New(map[string]*snmprec.View{"dev": v}, simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Serve(ctx, conn) }()
	defer func() { cancel(); <-done }()
	res, err := Run(context.Background(), Options{Target: conn.LocalAddr().(*net.UDPAddr).AddrPort(),
		Communities: []string{"dev"}, InFlight: 32, Requests: 1000, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Each answer: the two objects, then endOfMibView.
	if res.Answers != 1000 || res.Varbinds != 3000 || res.Timeouts+res.Malformed+res.Late != 0 {
		t.Errorf("result %+v, want 1000 answers of 3 varbinds", res)
	}
}
