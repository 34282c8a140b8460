package simulator

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ngic/ngic/internal/testenv"
)

// childEnv, set to "BATCH,WORKERS" (Options.Batch, Options.Workers), makes the test binary a simulator child
// (runChild) instead of running tests: the UDP benchmarks measure its CPU
// apart from the load generator's.
const childEnv = "NGIC_SIMULATOR_CHILD"

// childExeEnv names a test binary of this package, from another build, to
// run as the child instead of this one: builds compared under the same load.
const childExeEnv = "NGIC_SIMULATOR_CHILD_EXE"

// childProfileEnv names a file the child writes its CPU profile to, for
// go tool pprof: NGIC_SIMULATOR_PROFILE=sim.prof go test -bench ServeCPU.
const childProfileEnv = "NGIC_SIMULATOR_PROFILE"

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		if err := runChild(spec, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild serves the recordings of NGIC_RECORDINGS on a loopback port
// with the Options.Batch and Options.Workers of spec, says "listening ADDR" on out, answers each
// line "usage" on in with "usage CPU-NANOSECONDS MALLOCS SLEEPS" (its own
// process CPU time, heap allocations and voluntary context switches so
// far) and exits when in ends.
func runChild(spec string, in io.Reader, out io.Writer) error {
	var opts Options
	if _, err := fmt.Sscanf(spec, "%d,%d", &opts.Batch, &opts.Workers); err != nil {
		return fmt.Errorf("%s=%q: want BATCH,WORKERS: %w", childEnv, spec, err)
	}
	s, _, err := Load(os.Getenv("NGIC_RECORDINGS"), opts)
	if err != nil {
		return err
	}
	if p := os.Getenv(childProfileEnv); p != "" {
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, conn) }()
	fmt.Fprintf(out, "listening %s\n", conn.LocalAddr())
	lines := bufio.NewScanner(in)
	for lines.Scan() {
		if lines.Text() != "usage" {
			return fmt.Errorf("child: unknown command %q", lines.Text())
		}
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			return err
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprintf(out, "usage %d %d %d\n", ru.Utime.Nano()+ru.Stime.Nano(), ms.Mallocs, ru.Nvcsw)
	}
	cancel()
	return <-errc
}

// child is a simulator in a process of its own.
type child struct {
	addr netip.AddrPort
	in   io.WriteCloser
	out  *bufio.Reader
}

// startChild runs this test binary as a simulator child of the shared
// recordings with Options.Batch batch and Options.Workers workers, until the benchmark ends.
func startChild(b *testing.B, batch, workers int) *child {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	if other := os.Getenv(childExeEnv); other != "" {
		exe = other
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d,%d", childEnv, batch, workers), "NGIC_RECORDINGS="+testenv.Recordings(b))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	outp, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	c := &child{in: in, out: bufio.NewReader(outp)}
	b.Cleanup(func() {
		in.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				b.Errorf("simulator child: %v", err)
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			b.Errorf("simulator child did not stop")
		}
	})
	line, err := c.out.ReadString('\n')
	if err != nil {
		b.Fatalf("simulator child: %v", err)
	}
	if c.addr, err = netip.ParseAddrPort(strings.TrimSpace(strings.TrimPrefix(line, "listening "))); err != nil {
		b.Fatalf("simulator child said %q: %v", line, err)
	}
	return c
}

// usage is what a child has used so far.
type usage struct {
	cpu     time.Duration
	mallocs uint64
	sleeps  int64 // voluntary context switches: the times a thread waited
}

// usage returns the child's usage so far (sleeps -1 from a child of an
// older build, which does not count them).
func (c *child) usage(b *testing.B) usage {
	b.Helper()
	if _, err := io.WriteString(c.in, "usage\n"); err != nil {
		b.Fatal(err)
	}
	line, err := c.out.ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	u := usage{sleeps: -1}
	var cpu int64
	f := strings.Fields(line)
	if len(f) < 3 || f[0] != "usage" {
		b.Fatalf("simulator child said %q", line)
	}
	_, err = fmt.Sscan(strings.Join(f[1:], " "), &cpu, &u.mallocs, &u.sleeps)
	if err != nil && !(errors.Is(err, io.EOF) && len(f) == 3) {
		b.Fatalf("simulator child said %q: %v", line, err)
	}
	u.cpu = time.Duration(cpu)
	return u
}
