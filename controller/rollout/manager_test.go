package rollout_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/rollout"
	"github.com/ngic/ngic/controller/rollout/rollouttest"
	"github.com/ngic/ngic/telemetry"
)

// fakePublisher records what is published, retained, by topic.
type fakePublisher struct {
	mu       sync.Mutex
	retained map[string][]byte
	count    map[string]int
	fail     bool
}

func (p *fakePublisher) Publish(_ context.Context, topic string, payload []byte, retained bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail {
		return errors.New("broker away")
	}
	if !retained {
		return errors.New("a command must be retained")
	}
	if p.retained == nil {
		p.retained, p.count = map[string][]byte{}, map[string]int{}
	}
	p.retained[topic] = payload
	p.count[topic]++
	return nil
}

// command returns the retained command of gw, nil when none or withdrawn.
func (p *fakePublisher) command(t testing.TB, gw string) *telemetry.UpdateCommand {
	t.Helper()
	p.mu.Lock()
	b := p.retained[telemetry.CommandTopic(gw, telemetry.CommandUpdate)]
	p.mu.Unlock()
	if len(b) == 0 {
		return nil
	}
	c, err := telemetry.DecodeUpdateCommand(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// withdrawn reports whether gw's command was published, then withdrawn.
func (p *fakePublisher) withdrawn(gw string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	topic := telemetry.CommandTopic(gw, telemetry.CommandUpdate)
	b, ok := p.retained[topic]
	return ok && len(b) == 0
}

// fixture is a manager over n gateways running 1.0.0, a bundle of 1.1.0,
// and a fake clock.
type fixture struct {
	t      testing.TB
	dir    string
	keys   *rollouttest.Keys
	pub    *fakePublisher
	now    time.Time
	m      *rollout.Manager
	gws    []string
	vers   map[string]string
	leader error
	mu     sync.Mutex
}

func newFixture(t testing.TB, n int) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), pub: &fakePublisher{}, now: time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC),
		vers: map[string]string{}}
	os.Mkdir(filepath.Join(f.dir, "bundles"), 0o755)
	f.keys = rollouttest.NewKeys(t, f.dir)
	f.keys.WriteBundle(t, filepath.Join(f.dir, "bundles"), "edge-1.1.0.ngb", "1.1.0")
	for i := range n {
		gw := fmt.Sprintf("gw-%02d", i)
		f.gws = append(f.gws, gw)
		f.vers[gw] = "1.0.0"
	}
	f.open()
	return f
}

// open (re)opens the manager over the fixture's folder, as a restart.
func (f *fixture) open() {
	f.t.Helper()
	b, err := rollout.NewBundles(filepath.Join(f.dir, "bundles"), []ed25519.PublicKey{f.keys.Public})
	if err != nil {
		f.t.Fatal(err)
	}
	m, err := rollout.Open(rollout.Options{Dir: filepath.Join(f.dir, "rollouts"), Bundles: b,
		BaseURL: "https://controller.example:9480", Publisher: f.pub,
		Targets: func(region, site string) ([]string, error) {
			if region == "nowhere" {
				return nil, fmt.Errorf("%w: no region nowhere", rollout.ErrInvalid)
			}
			return f.gws, nil
		},
		Versions: func() map[string]string {
			f.mu.Lock()
			defer f.mu.Unlock()
			out := map[string]string{}
			for k, v := range f.vers {
				out[k] = v
			}
			return out
		},
		Leader: func() error { return f.leader },
		Now: func() time.Time {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.now
		}})
	if err != nil {
		f.t.Fatal(err)
	}
	f.m = m
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func (f *fixture) step() {
	f.t.Helper()
	if err := f.m.Step(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

// report has gw report step of the rollout's command.
func (f *fixture) report(r *rollout.Rollout, gw, step, reason string) {
	f.mu.Lock()
	now := f.now
	f.mu.Unlock()
	f.m.Observe(&telemetry.Status{V: 1, Gateway: gw, State: telemetry.StateOnline, Time: &now, Version: "1.0.0",
		Update: &telemetry.UpdateReport{ID: r.CommandID(gw), Rollout: r.ID, Step: step, Reason: reason, Time: now}})
}

func (f *fixture) get(id string) *rollout.Rollout {
	f.t.Helper()
	r, err := f.m.Get(id)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// sentTo lists the gateways with a command retained.
func (f *fixture) sentTo() []string {
	var out []string
	for _, gw := range f.gws {
		if f.pub.command(f.t, gw) != nil {
			out = append(out, gw)
		}
	}
	return out
}

func (f *fixture) start(spec rollout.Spec) *rollout.Rollout {
	f.t.Helper()
	r, err := f.m.Create(spec, "ops")
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// finishWave has every gateway of the latest wave report done.
func (f *fixture) finishWave(id string) {
	r := f.get(id)
	for _, g := range r.Gateways {
		if g.Wave == r.Wave && g.State == rollout.GatewaySent {
			f.report(r, g.Name, telemetry.UpdateDone, "")
		}
	}
	f.step()
}
