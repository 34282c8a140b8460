// Package demo runs the whole of ngic on one machine on embedded defaults,
// for `make run`: the SNMP simulator serving a generated county, the
// controller with its embedded MQTT broker and no InfluxDB, and two edge
// gateways reading emulated readers of two protocols on pseudo-terminals
// and an emulated cabinet-door photo-eye. It prints the dashboard's URL
// and sign-in token on its output, then plays a scenario in a loop so the
// dashboard moves: tags come and go, a cabinet door is held open and
// closed, a device goes down and comes back, and their alerts raise and
// resolve.
//
// The programs run as child processes (the built ngic-controller and
// ngic-edge), each in its own process group, told to stop by the kernel if
// the demo dies (Linux); the readers are emulated in the demo's own
// process. Everything lives in one temporary folder, removed at the end.
// An instance lock (a unix socket in Linux's abstract namespace) makes a
// second demo say where the first one is instead of failing on a busy
// port.
package demo

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/ngic/ngic/drivers/rfid/emulate"
)

// Timing sets the pace of the demo: the defaults make everything visible
// within a minute; tests make it quick.
type Timing struct {
	// TagPeriod is how often a tag enters or leaves a reader's field.
	TagPeriod time.Duration
	// Poll is the controller's poll interval.
	Poll time.Duration
	// DownAfter is how long a device is down before its alert raises.
	DownAfter time.Duration
	// HeldAfter is how long the cabinet door is open before the gateway
	// says it is held open.
	HeldAfter time.Duration
	// Linger is how long a raised alert's condition is kept before it is
	// cleared, so a person sees it on the dashboard.
	Linger time.Duration
	// Pause is the wait between two steps of the scenario.
	Pause time.Duration
	// Wait bounds every wait for something to happen: a program to start,
	// an alert to raise or resolve.
	Wait time.Duration
}

// DefaultTiming is the pace of `make run`.
var DefaultTiming = Timing{
	TagPeriod: 2 * time.Second,
	Poll:      5 * time.Second,
	DownAfter: 10 * time.Second,
	HeldAfter: 10 * time.Second,
	Linger:    10 * time.Second,
	Pause:     5 * time.Second,
	Wait:      2 * time.Minute,
}

// Opts configures the demo.
type Opts struct {
	// Bin is the folder holding ngic-controller and ngic-edge.
	Bin string
	// HTTP is the dashboard's address (default DefaultHTTP); when it is
	// taken by another program the dashboard goes to a free port.
	HTTP string
	// Villages is the size of the generated county (default 60).
	Villages int
	// Seed picks the county (default 1).
	Seed int64
	// Lock names the instance lock (default "ngic-demo-UID"): a second
	// demo with the same lock refuses to start.
	Lock string
	// Timing is the pace (zero fields: DefaultTiming's).
	Timing Timing
	// Out receives what a person reads: the URL, the token, the scenario's
	// steps.
	Out io.Writer
}

// Defaults of Opts.
const (
	DefaultHTTP     = "127.0.0.1:9480"
	DefaultVillages = 60
)

// withDefaults fills the empty fields and checks the others.
func (o Opts) withDefaults() (Opts, error) {
	if o.Bin == "" {
		return o, errors.New("demo: no folder of binaries (Opts.Bin)")
	}
	bin, err := filepath.Abs(o.Bin)
	if err != nil {
		return o, fmt.Errorf("demo: %w", err)
	}
	o.Bin = bin
	for _, name := range []string{controllerBin, edgeBin} {
		if _, err := os.Stat(filepath.Join(o.Bin, name)); err != nil {
			return o, fmt.Errorf("demo: %s: %w (build it first: make build)", name, err)
		}
	}
	o.HTTP = cmp.Or(o.HTTP, DefaultHTTP)
	o.Villages = cmp.Or(o.Villages, DefaultVillages)
	o.Seed = cmp.Or(o.Seed, 1)
	o.Lock = cmp.Or(o.Lock, fmt.Sprintf("ngic-demo-%d", os.Getuid()))
	t, def := &o.Timing, DefaultTiming
	for _, f := range []struct {
		name   string
		v, def *time.Duration
	}{
		{"tag period", &t.TagPeriod, &def.TagPeriod}, {"poll", &t.Poll, &def.Poll},
		{"down after", &t.DownAfter, &def.DownAfter}, {"held after", &t.HeldAfter, &def.HeldAfter},
		{"linger", &t.Linger, &def.Linger}, {"pause", &t.Pause, &def.Pause}, {"wait", &t.Wait, &def.Wait},
	} {
		*f.v = cmp.Or(*f.v, *f.def)
		if *f.v < 0 {
			return o, fmt.Errorf("demo: %s %v is negative", f.name, *f.v)
		}
	}
	if t.Poll < time.Second {
		return o, fmt.Errorf("demo: poll interval %v is below the controller's 1s", t.Poll)
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	return o, nil
}

// The programs the demo runs, in Opts.Bin.
const (
	controllerBin = "ngic-controller"
	edgeBin       = "ngic-edge"
)

// demo is one running demo.
type demo struct {
	o     Opts
	lock  *lock
	dir   string
	plan  *plan
	spawn *spawner

	token                string
	httpAddr, brokerAddr string
	simAddr, simControl  string
	api, sim             *client
	procs                []*proc   // in start order
	labs                 []*client // per gateway
	readers              []*emulate.Runner
	stopReaders          context.CancelFunc
}

// Run runs the demo until ctx ends, then stops every program, removes the
// temporary folder and returns nil; or returns the error that stopped it
// (a program that would not start or that exited, ErrRunning).
func Run(ctx context.Context, o Opts) error {
	o, err := o.withDefaults()
	if err != nil {
		return err
	}
	lk, err := acquire(o.Lock)
	if err != nil {
		return err
	}
	defer lk.release()
	dir, err := makeFolder()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	d := &demo{o: o, lock: lk, dir: dir, spawn: newSpawner()}
	err = d.run(ctx)
	if ctx.Err() != nil {
		if errors.Is(err, context.Canceled) {
			err = nil // stopped, as asked
		}
		d.say("stopping the gateways, the controller and the simulator")
	}
	err = errors.Join(err, d.stop())
	d.spawn.close()
	if err == nil {
		d.say("stopped; the temporary folder goes now")
	}
	return err
}

// run starts the parts in order, then plays the scenario until ctx ends
// or a program exits.
func (d *demo) run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	for _, step := range []func(context.Context) error{
		d.prepare,
		d.startSimulator,
		d.startController,
		d.startGateways,
	} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	for _, p := range d.procs {
		go func() {
			select {
			case <-p.done:
				cancel(fmt.Errorf("demo: %s exited while the demo ran: %v\n%s", p.name, p.err, p.tail(20)))
			case <-ctx.Done():
			}
		}()
	}
	d.lock.set(fmt.Sprintf("pid %d, dashboard http://%s/", os.Getpid(), d.httpAddr))
	d.banner()
	err := d.scenario(ctx)
	if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
		return c
	}
	return err
}

// prepare chooses the ports, writes the county, the token and the
// controller's configuration.
func (d *demo) prepare(context.Context) error {
	broker, err := freeTCP()
	if err != nil {
		return err
	}
	control, err := freeTCP()
	if err != nil {
		return err
	}
	udp, err := freeUDP()
	if err != nil {
		return err
	}
	d.brokerAddr, d.simControl = broker, control
	d.simAddr = fmt.Sprintf("127.0.0.1:%d", udp)
	if d.httpAddr, err = httpAddr(d.o.HTTP); err != nil {
		return err
	}
	if d.httpAddr != d.o.HTTP {
		d.say("%s is taken by another program: the dashboard goes to %s", d.o.HTTP, d.httpAddr)
	}
	if d.plan, err = newPlan(d.o.Villages, d.o.Seed, udp); err != nil {
		return err
	}
	if err := d.plan.write(filepath.Join(d.dir, "world")); err != nil {
		return err
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return fmt.Errorf("demo: token: %w", err)
	}
	d.token = hex.EncodeToString(raw)
	tokenFile := filepath.Join(d.dir, "api.token")
	if err := writeFile(tokenFile, d.token+"\n"); err != nil {
		return err
	}
	y := controllerYAML(inventoryDir(filepath.Join(d.dir, "world")), d.brokerAddr, d.httpAddr, tokenFile,
		filepath.Join(d.dir, "state"), d.o.Timing)
	return writeFile(filepath.Join(d.dir, "controller.yaml"), y)
}

// startSimulator serves the county's recordings with its lab control.
func (d *demo) startSimulator(ctx context.Context) error {
	p, err := d.start("simulator", controllerBin, "simulate", "--recordings", recordingsDir(filepath.Join(d.dir, "world")),
		"--listen", d.simAddr, "--control", d.simControl)
	if err != nil {
		return err
	}
	d.sim = newClient("http://"+d.simControl, "")
	return d.waitReady(ctx, p, "the simulator's control", func(ctx context.Context) error {
		return d.sim.do(ctx, "GET", "/agents", nil)
	})
}

// startController runs the controller and waits until its API answers
// with the token.
func (d *demo) startController(ctx context.Context) error {
	p, err := d.start("controller", controllerBin, "run", "--config", filepath.Join(d.dir, "controller.yaml"))
	if err != nil {
		return err
	}
	d.api = newClient("http://"+d.httpAddr, d.token)
	return d.waitReady(ctx, p, "the controller's API", func(ctx context.Context) error {
		return d.api.do(ctx, "GET", "/api/v1/summary", nil)
	})
}

// startGateways serves each gateway's emulated reader on a
// pseudo-terminal and runs the gateway on it, with its door photo-eye on
// a lab pin whose control listens on a unix socket of the folder.
func (d *demo) startGateways(ctx context.Context) error {
	rctx, stop := context.WithCancel(context.Background())
	d.stopReaders = stop
	for i, g := range d.plan.Gateways {
		r, pty, err := serveReader(rctx, g.Protocol)
		if err != nil {
			return err
		}
		d.readers = append(d.readers, r)
		gdir := filepath.Join(d.dir, g.Name)
		if err := os.Mkdir(gdir, 0o700); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		conf := filepath.Join(gdir, "edge.yaml")
		if err := writeFile(conf, edgeYAML(g, gdir, pty, d.brokerAddr, d.o.Timing)); err != nil {
			return err
		}
		sock := filepath.Join(gdir, "lab.sock")
		p, err := d.start(fmt.Sprintf("edge-%d", i+1), edgeBin, "run", "--config", conf, "--lab-control", "unix:"+sock)
		if err != nil {
			return err
		}
		lab := newUnixClient(sock)
		d.labs = append(d.labs, lab)
		if err := d.waitReady(ctx, p, "gateway "+g.Name+"'s lab control", func(ctx context.Context) error {
			return lab.do(ctx, "GET", "/pins", nil)
		}); err != nil {
			return err
		}
	}
	return nil
}

// start starts one program of Opts.Bin.
func (d *demo) start(name, bin string, args ...string) (*proc, error) {
	p, err := d.spawn.start(d.dir, name, filepath.Join(d.o.Bin, bin), args...)
	if err != nil {
		return nil, err
	}
	d.procs = append(d.procs, p)
	return p, nil
}

// waitReady waits until ready succeeds, failing when p exits first or
// Timing.Wait passes.
func (d *demo) waitReady(ctx context.Context, p *proc, what string, ready func(context.Context) error) error {
	deadline := time.Now().Add(d.o.Timing.Wait)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := ready(ctx)
		if err == nil {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("demo: %s exited before %s answered: %v\n%s", p.name, what, p.err, p.tail(20))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("demo: %s did not answer within %v: %v\n%s", what, d.o.Timing.Wait, err, p.tail(20))
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-tick.C:
		}
	}
}

// stop stops the gateways, the controller and the simulator (the reverse
// of their start), then the readers, and reports the programs that did
// not end cleanly.
func (d *demo) stop() error {
	var errs []error
	for i := len(d.procs) - 1; i >= 0; i-- {
		if err := d.procs[i].stop(); err != nil {
			errs = append(errs, err)
		}
	}
	if d.stopReaders != nil {
		d.stopReaders()
	}
	return errors.Join(errs...)
}

// banner prints what a person needs: the dashboard, the token, what moves.
func (d *demo) banner() {
	p := d.plan
	door := p.Gateways[p.Door]
	fmt.Fprintf(d.o.Out, `
ngic is running: a generated county of %d villages and %d devices polled over SNMP, and two edge gateways.

  dashboard   http://%s/
  token       %s
              (sign in with it; it is shown here only, and lives in a file that goes away with the demo)
  logs        %s (removed with the rest when the demo ends)

  gateway %s at site %s: a UHF reader (%s), pallets come and go
  gateway %s at site %s: a badge reader (%s) and the cabinet door
  the door is held open and closed, device %s goes down and comes back, over and over:
  see the alerts at http://%s/#/alerts and the cabinet at http://%s/#/site/%s

Ctrl-C stops everything.

`, len(p.World.Villages), len(p.World.Devices), d.httpAddr, d.token, filepath.Join(d.dir, "*.log"),
		p.Gateways[0].Name, p.Gateways[0].Site, p.Gateways[0].Protocol,
		door.Name, door.Site, door.Protocol, p.Down, d.httpAddr, d.httpAddr, door.Site)
}

// say prints one line of the scenario, with the time.
func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.o.Out, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
