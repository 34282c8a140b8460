package main

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/simulator"
	"github.com/ngic/ngic/internal/testenv"
)

// simulateEnv makes the test binary, started by a test, serve recordings
// with the project's simulator as `ngic-controller simulate` does, so that
// the comparison runs against a real simulator in a process of its own
// without building the controller.
const simulateEnv = "NGIC_BENCHPEERS_TEST_SIMULATE"

func TestMain(m *testing.M) {
	if os.Getenv(simulateEnv) == "1" {
		if err := simulate(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "simulate:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// simulate serves --recordings on --listen until the process is killed,
// as `ngic-controller simulate` does.
func simulate(args []string) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	dir := fs.String("recordings", "", "folder of recordings")
	listen := fs.String("listen", "", "UDP address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sim, _, err := simulator.Load(*dir, simulator.Options{})
	if err != nil {
		return err
	}
	conn, err := net.ListenPacket("udp", *listen)
	if err != nil {
		return err
	}
	return sim.Serve(context.Background(), conn)
}

// buildEcho compiles scripts/peers/udp-echo.c with cc, warnings as
// errors, and returns the program.
func buildEcho(t testing.TB) string {
	t.Helper()
	cc := testenv.Program(t, "cc", "gcc")
	bin := filepath.Join(t.TempDir(), "udp-echo")
	out, err := exec.Command(cc, "-O2", "-Wall", "-Werror", "-o", bin, "../../scripts/peers/udp-echo.c").CombinedOutput()
	if err != nil {
		t.Fatalf("cc udp-echo.c: %v\n%s", err, out)
	}
	return bin
}

// TestSimulatorBesideEcho runs the comparison for real, two short rounds,
// against the C echo and the project's simulator: both answer, the
// simulator with whole GETBULK answers and the echo with the request's
// one varbind, and every CPU figure is positive.
func TestSimulatorBesideEcho(t *testing.T) {
	echo := buildEcho(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(simulateEnv, "1") // for the children
	o := SimOpts{Simulator: []string{exe}, Echo: echo, Recordings: testenv.Recordings(t),
		InFlight: []int{1, 64}, Duration: 300 * time.Millisecond, Start: testenv.Start}
	b, err := StartSimBench(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	const rounds = 2
	for r := 1; r <= rounds; r++ {
		if err := b.Round(t.Context(), r); err != nil {
			t.Fatalf("round %d: %v", r, err)
		}
	}
	for i, n := range o.InFlight {
		f := b.fig[i]
		for name, xs := range map[string][]float64{"simulator µs": f.simUS, "echo µs": f.echoUS,
			"simulator requests/s": f.simRate, "echo requests/s": f.echoRate} {
			if len(xs) != rounds {
				t.Errorf("%d in flight: %s has %d figures, want %d", n, name, len(xs), rounds)
			}
			for _, x := range xs {
				if !(x > 0) || math.IsInf(x, 0) {
					t.Errorf("%d in flight: %s %v, want positive", n, name, xs)
				}
			}
		}
		if f.simVB < 2 {
			t.Errorf("%d in flight: the simulator's answers held %.1f varbinds, want a GETBULK's", n, f.simVB)
		}
	}
	rows := b.Rows()
	if len(rows) != 4*len(o.InFlight) {
		t.Fatalf("%d rows, want %d", len(rows), 4*len(o.InFlight))
	}
	if r := Summarize(rows[0].Ratio); !(r.Min > 0) {
		t.Errorf("ratio of the simulator to the echo: %+v, want positive", r)
	}
}

// TestSimRows: for each in-flight count, the simulator's CPU per request
// with its ratio to the echo's taken round by round, the echo's, and both
// request rates.
func TestSimRows(t *testing.T) {
	two := func(a, b float64) []float64 { return []float64{a, b} }
	b := &SimBench{o: SimOpts{InFlight: []int{1, 256}}, fig: []simFigures{
		{simUS: two(12, 14), echoUS: two(12, 7), simRate: two(30000, 32000), echoRate: two(40000, 42000), simVB: 24.4},
		{simUS: two(3, 2.8), echoUS: two(2, 2), simRate: two(300000, 320000), echoRate: two(400000, 420000), simVB: 24.4},
	}}
	table := Table(b.Rows())
	for _, want := range []string{
		"| ngic simulator, GETBULK of 25 repetitions of ifTable (24.4 varbinds an answer), 1 in flight, its process's CPU | CPU µs/request | 13.0 | 12.0-14.0 | 1.50 (1.00-2.00) of C echo |",
		"| C echo (recvmmsg/sendmmsg, batch 64, no SNMP work), 1 in flight, its process's CPU | CPU µs/request | 9.50 | 7.00-12.0 |  |",
		"| ngic simulator, 1 in flight | requests/s | 31000 | 30000-32000 |  |",
		"| C echo, 1 in flight | requests/s | 41000 | 40000-42000 |  |",
		"| ngic simulator, GETBULK of 25 repetitions of ifTable (24.4 varbinds an answer), 256 in flight, its process's CPU | CPU µs/request | 2.90 | 2.80-3.00 | 1.45 (1.40-1.50) of C echo |",
		"| C echo, 256 in flight | requests/s | 410000 | 400000-420000 |  |",
	} {
		if !strings.Contains(table, want+"\n") {
			t.Errorf("no row\n%s\nin\n%s", want, table)
		}
	}
	if n := strings.Count(table, "\n"); n != 2+8 {
		t.Errorf("%d lines, want 10:\n%s", n, table)
	}
}

func TestParseSchedstat(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"123456789 2000 15\n", 123456789, true}, // ns on cpu, ns waiting, timeslices
		{"0 0 0", 0, true},
		{"", 0, false},
		{"1 2\n", 0, false},
		{"1 2 3 4\n", 0, false},
		{"-1 2 3\n", 0, false},
		{"x 2 3\n", 0, false},
		{"99999999999999999999 2 3\n", 0, false},
	} {
		got, err := ParseSchedstat([]byte(c.in))
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseSchedstat(%q) = %v, %v; want %v, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}

// TestThreadsCPU: the sum over this process's threads grows while it
// works.
func TestThreadsCPU(t *testing.T) {
	c0, err := ThreadsCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if c0 <= 0 {
		t.Fatalf("ThreadsCPU = %v, want positive", c0)
	}
	deadline := time.Now().Add(time.Minute)
	sum := sha256.Sum256(nil)
	for {
		for range 10000 {
			sum = sha256.Sum256(sum[:])
		}
		c, err := ThreadsCPU(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if c-c0 >= 5*time.Millisecond {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ThreadsCPU went from %v to %v in a minute of work", c0, c)
		}
	}
}

func TestThreadsCPUNoProcess(t *testing.T) {
	if _, err := ThreadsCPU(-1); err == nil || !strings.Contains(err.Error(), "-1") {
		t.Fatalf("ThreadsCPU(-1) error %v, want one naming the process", err)
	}
}

func TestParseInts(t *testing.T) {
	got, err := parseInts(joinInts(DefaultInFlight))
	if err != nil || !slices.Equal(got, DefaultInFlight) {
		t.Fatalf("parseInts(joinInts(%v)) = %v, %v", DefaultInFlight, got, err)
	}
	if got, err := parseInts(" 4, 2"); err != nil || !slices.Equal(got, []int{4, 2}) {
		t.Errorf("parseInts(\" 4, 2\") = %v, %v", got, err)
	}
	for _, bad := range []string{"", "1,", "0", "-3", "1,x"} {
		if got, err := parseInts(bad); err == nil {
			t.Errorf("parseInts(%q) = %v, want an error", bad, got)
		}
	}
}
