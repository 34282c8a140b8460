package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/ngic/ngic/controller/simulator"
	"github.com/ngic/ngic/controller/simulator/loadgen"
)

// SimOpts say what the simulator comparison runs: the project's simulator
// and the C echo (scripts/peers/udp-echo.c) each driven by the project's
// load generator, the same requests as `ngic-controller simulate --load`.
type SimOpts struct {
	// Simulator is the command that serves recordings, to which
	// "--recordings DIR --listen 127.0.0.1:PORT" is appended:
	// ngic-controller and "simulate".
	Simulator []string
	// Echo is the compiled C echo.
	Echo string
	// Recordings is the folder the simulator serves; its recordings are
	// the communities the requests go to, in turn.
	Recordings string
	// InFlight are the requests in flight of each measurement, one a round
	// for each server.
	InFlight []int
	// Duration is how long each measurement sends requests.
	Duration time.Duration
	// Start starts the servers' commands; nil: (*exec.Cmd).Start.
	Start func(*exec.Cmd) error
}

// DefaultInFlight are the in-flight counts the comparison runs: one (a
// server that sleeps between requests), a few, and the load generator's
// default.
var DefaultInFlight = []int{1, 8, 256}

// SimBench is the simulator comparison: both servers running, and their
// figures round by round.
type SimBench struct {
	o           SimOpts
	sim, echo   *UDPServer
	communities []string
	fig         []simFigures // one per o.InFlight
}

// simFigures are one in-flight count's figures, one per round: CPU µs per
// answered request of each server's process, and answers per second.
type simFigures struct {
	simUS, echoUS, simRate, echoRate []float64
	// simVB is the varbinds an answer of the simulator held (the last round's).
	simVB float64
}

// CompareSimulator runs the simulator comparison alone for rounds rounds,
// writing a line per round to progress, and returns its rows.
func CompareSimulator(ctx context.Context, o SimOpts, rounds int, progress io.Writer) ([]Row, error) {
	b, err := StartSimBench(ctx, o)
	if err != nil {
		return nil, err
	}
	defer b.Stop()
	for r := 1; r <= rounds; r++ {
		if err := b.Round(ctx, r); err != nil {
			return nil, fmt.Errorf("round %d: %w", r, err)
		}
		fmt.Fprintf(progress, "round %d/%d: %s\n", r, rounds, b.Progress())
	}
	return b.Rows(), nil
}

// StartSimBench starts the simulator and the C echo on free loopback
// ports and warms both up.
func StartSimBench(ctx context.Context, o SimOpts) (*SimBench, error) {
	if len(o.Simulator) == 0 || o.Echo == "" || o.Recordings == "" || len(o.InFlight) == 0 || o.Duration <= 0 {
		return nil, errors.New("benchpeers: simulator comparison: Simulator, Echo, Recordings, InFlight and Duration are required")
	}
	communities, err := simulator.Communities(o.Recordings)
	if err != nil {
		return nil, fmt.Errorf("benchpeers: %w", err)
	}
	if len(communities) == 0 {
		return nil, fmt.Errorf("benchpeers: no recordings in %s", o.Recordings)
	}
	b := &SimBench{o: o, communities: communities, fig: make([]simFigures, len(o.InFlight))}
	port, err := FreeUDPPort()
	if err != nil {
		return nil, err
	}
	addr := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(port))
	args := append(append([]string(nil), o.Simulator[1:]...), "--recordings", o.Recordings, "--listen", addr.String())
	if b.sim, err = o.startServer(ctx, o.Simulator[0], args, addr, communities[0]); err != nil {
		return nil, err
	}
	if b.echo, err = o.startServer(ctx, o.Echo, []string{"0"}, netip.AddrPort{}, communities[0]); err != nil {
		b.sim.Stop()
		return nil, err
	}
	for _, s := range []*UDPServer{b.sim, b.echo} { // warm-up: the first requests, the first threads
		if _, _, err := b.load(ctx, s, DefaultInFlight[len(DefaultInFlight)-1], o.Duration/4); err != nil {
			b.Stop()
			return nil, err
		}
	}
	return b, nil
}

// Stop ends both servers.
func (b *SimBench) Stop() {
	b.sim.Stop()
	b.echo.Stop()
}

// Round measures each in-flight count once on each server, the simulator
// first in odd rounds and the echo first in even ones.
func (b *SimBench) Round(ctx context.Context, round int) error {
	for i, n := range b.o.InFlight {
		f := &b.fig[i]
		first, second := b.sim, b.echo
		if round%2 == 0 {
			first, second = second, first
		}
		var res [2]loadgen.Result
		var cpu [2]time.Duration
		for j, s := range []*UDPServer{first, second} {
			var err error
			if cpu[j], res[j], err = b.load(ctx, s, n, b.o.Duration); err != nil {
				return err
			}
		}
		if first == b.echo {
			cpu[0], cpu[1], res[0], res[1] = cpu[1], cpu[0], res[1], res[0]
		}
		f.simUS, f.echoUS = append(f.simUS, perRequestUS(cpu[0], res[0])), append(f.echoUS, perRequestUS(cpu[1], res[1]))
		f.simRate, f.echoRate = append(f.simRate, res[0].PerSecond()), append(f.echoRate, res[1].PerSecond())
		f.simVB = float64(res[0].Varbinds) / float64(res[0].Answers)
	}
	return nil
}

// perRequestUS is a server's CPU µs per request answered.
func perRequestUS(cpu time.Duration, r loadgen.Result) float64 {
	return float64(cpu.Nanoseconds()) / 1e3 / float64(r.Answers)
}

// load drives s with n requests in flight for d and returns the CPU time
// s's process spent meanwhile and what the load generator saw; a run
// without an answer is an error.
func (b *SimBench) load(ctx context.Context, s *UDPServer, n int, d time.Duration) (time.Duration, loadgen.Result, error) {
	c0, err := s.CPU()
	if err != nil {
		return 0, loadgen.Result{}, err
	}
	res, err := loadgen.Run(ctx, loadgen.Options{Target: s.Addr, Communities: b.communities, InFlight: n, Duration: d})
	if err != nil {
		return 0, res, fmt.Errorf("benchpeers: load on %s: %w", s.Name, err)
	}
	c1, err := s.CPU()
	if err != nil {
		return 0, res, err
	}
	if res.Answers == 0 {
		return 0, res, fmt.Errorf("benchpeers: %s answered nothing: %v", s.Name, res)
	}
	return c1 - c0, res, nil
}

// Progress sums up the last round on one line.
func (b *SimBench) Progress() string {
	var w bytes.Buffer
	w.WriteString("µs/request ngic/C echo")
	for i, n := range b.o.InFlight {
		f := b.fig[i]
		if k := len(f.simUS) - 1; k >= 0 {
			fmt.Fprintf(&w, ", %d in flight %.2f/%.2f", n, f.simUS[k], f.echoUS[k])
		}
	}
	return w.String()
}

// Rows are the comparison's lines of the table: for each in-flight count,
// the CPU per request of each server (the simulator's with its ratio to
// the echo's, round by round) and their requests per second.
func (b *SimBench) Rows() []Row {
	const echo = "C echo"
	var rows []Row
	for i, n := range b.o.InFlight {
		f := b.fig[i]
		rows = append(rows,
			Row{Name: fmt.Sprintf("ngic simulator, GETBULK of %d repetitions of ifTable (%.1f varbinds an answer), %d in flight, its process's CPU",
				loadgen.DefaultOptions.MaxRepetitions, f.simVB, n),
				Unit: "CPU µs/request", Values: f.simUS, Ratio: Ratios(f.simUS, f.echoUS), RatioTo: echo},
			Row{Name: fmt.Sprintf("C echo (recvmmsg/sendmmsg, batch 64, no SNMP work), %d in flight, its process's CPU", n),
				Unit: "CPU µs/request", Values: f.echoUS},
			Row{Name: fmt.Sprintf("ngic simulator, %d in flight", n), Unit: "requests/s", Values: f.simRate},
			Row{Name: fmt.Sprintf("C echo, %d in flight", n), Unit: "requests/s", Values: f.echoRate},
		)
	}
	return rows
}

// UDPServer is a UDP server in a process of its own, whose CPU time is
// read from /proc.
type UDPServer struct {
	// Name is the program's base name, Addr the address it serves.
	Name string
	Addr netip.AddrPort
	cmd  *exec.Cmd
	out  *tail
	done chan struct{}
}

// startServer runs bin with args and waits (up to a minute) until it
// answers a GETBULK to community at addr; when addr is invalid, the
// address is the first line the server prints on its standard output (as
// the C echo does).
func (o SimOpts) startServer(ctx context.Context, bin string, args []string, addr netip.AddrPort, community string) (*UDPServer, error) {
	s := &UDPServer{Name: filepath.Base(bin), Addr: addr, out: &tail{max: 16 << 10}, done: make(chan struct{})}
	s.cmd = exec.CommandContext(ctx, bin, args...)
	s.cmd.Stderr = s.out
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("benchpeers: %s: %w", s.Name, err)
	}
	start := o.Start
	if start == nil {
		start = (*exec.Cmd).Start
	}
	if err := start(s.cmd); err != nil {
		return nil, fmt.Errorf("benchpeers: start %s: %w", s.Name, err)
	}
	lines := bufio.NewReader(stdout)
	if !addr.IsValid() {
		line, err := lines.ReadString('\n')
		if err == nil {
			s.Addr, err = netip.ParseAddrPort(string(bytes.TrimSpace([]byte(line))))
		}
		if err != nil {
			_ = s.cmd.Process.Kill()
			_ = s.cmd.Wait()
			return nil, fmt.Errorf("benchpeers: %s's address: %w: %s", s.Name, err, s.out)
		}
	}
	go func() {
		_, _ = io.Copy(s.out, lines)
		_ = s.cmd.Wait()
		close(s.done)
	}()
	if err := s.waitAnswer(ctx, community, time.Minute); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// waitAnswer sends a GETBULK at a time until one is answered, the server
// ends or within passes.
func (s *UDPServer) waitAnswer(ctx context.Context, community string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		res, err := loadgen.Run(ctx, loadgen.Options{Target: s.Addr, Communities: []string{community},
			InFlight: 1, Requests: 1, Timeout: 200 * time.Millisecond})
		switch {
		case err == nil && res.Answers == 1:
			return nil
		case err != nil && ctx.Err() != nil:
			return fmt.Errorf("benchpeers: %s: %w", s.Name, err)
		}
		select {
		case <-s.done:
			return fmt.Errorf("benchpeers: %s ended before answering on %s: %s", s.Name, s.Addr, s.out)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("benchpeers: %s not answering on %s after %v (%v, %v): %s", s.Name, s.Addr, within, res, err, s.out)
		}
	}
}

// Stop ends the server and waits for it.
func (s *UDPServer) Stop() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// CPU returns the CPU time the server's threads have run, to the
// nanosecond (/proc/PID/task/*/schedstat). A thread that ended between
// two readings would be missing from the second: neither server ends
// threads while it serves.
func (s *UDPServer) CPU() (time.Duration, error) {
	return ThreadsCPU(s.cmd.Process.Pid)
}

// ThreadsCPU sums the time on CPU of every living thread of process pid
// from the first field of /proc/PID/task/*/schedstat, in nanoseconds
// (finer than the 10 ms ticks of /proc/PID/stat).
func ThreadsCPU(pid int) (time.Duration, error) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("benchpeers: threads of %d: %w", pid, err)
	}
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
		if errors.Is(err, os.ErrNotExist) {
			continue // the thread ended since the listing
		}
		if err != nil {
			return 0, fmt.Errorf("benchpeers: cpu of %d: %w", pid, err)
		}
		d, err := ParseSchedstat(b)
		if err != nil {
			return 0, fmt.Errorf("benchpeers: cpu of thread %s of %d: %w", t.Name(), pid, err)
		}
		sum += d
	}
	return sum, nil
}

// ParseSchedstat reads the time on CPU, the first of the three fields of
// a /proc/.../schedstat ("ns-on-cpu ns-waiting timeslices").
func ParseSchedstat(b []byte) (time.Duration, error) {
	f := bytes.Fields(b)
	if len(f) != 3 {
		return 0, fmt.Errorf("benchpeers: schedstat %.40q: want 3 fields", b)
	}
	ns, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil || ns < 0 {
		return 0, fmt.Errorf("benchpeers: schedstat %.40q: time on cpu", b)
	}
	return time.Duration(ns), nil
}

// tail keeps the last max bytes written to it, for error messages.
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

// Write keeps p's last bytes.
func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

// String returns what was kept.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
