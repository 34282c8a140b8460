package rollout_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/rollout"
	"github.com/ngic/ngic/telemetry"
)

// A healthy rollout of 20 goes in waves of 1, 2, 4, 8 and 5, each
// started only once the one before is complete, and completes.
func TestHealthyRolloutInWaves(t *testing.T) {
	f := newFixture(t, 20)
	r := f.start(rollout.Spec{Bundle: "edge-1.1.0.ngb", Region: "east"})
	var sizes []int
	for _, w := range r.Waves {
		sizes = append(sizes, w.Size)
	}
	if !slices.Equal(sizes, []int{1, 2, 4, 8, 5}) {
		t.Fatalf("waves %v, want [1 2 4 8 5]", sizes)
	}
	if len(f.sentTo()) != 0 {
		t.Fatal("a command before the first step")
	}
	want := 0
	for w, size := range sizes {
		f.step()
		want += size
		if got := f.sentTo(); len(got) != want {
			t.Fatalf("wave %d: commands to %v, want %d gateways", w+1, got, want)
		}
		// Not complete: no next wave, however often it steps.
		f.advance(time.Minute)
		f.step()
		if got := f.sentTo(); len(got) != want {
			t.Fatalf("wave %d not complete, yet commands to %d gateways", w+1, len(got))
		}
		f.finishWave(r.ID)
	}
	r = f.get(r.ID)
	if r.State != rollout.StateCompleted {
		t.Fatalf("state %s, want completed", r.State)
	}
	s := r.Summary()
	if s.Updated != 20 || s.Failed != 0 {
		t.Fatalf("summary %+v", s)
	}
	c := f.pub.command(t, "gw-07")
	if c.ID != r.CommandID("gw-07") || c.Rollout != r.ID || c.Version != "1.1.0" || c.SHA256 != r.Bundle.SHA256 ||
		c.Size != r.Bundle.Size || c.URL != "https://controller.example:9480/api/v1/bundles/"+r.Bundle.SHA256 {
		t.Fatalf("command %+v", c)
	}
}

// The canary rolls back: the rollout halts before the second wave, no
// gateway of it gets a command, and the reason names the canary.
func TestCanaryFailureHalts(t *testing.T) {
	f := newFixture(t, 20)
	r := f.start(rollout.Spec{Bundle: "edge-1.1.0.ngb", Site: "so-1"})
	f.step()
	canary := f.sentTo()
	if len(canary) != 1 {
		t.Fatalf("canary %v", canary)
	}
	f.report(r, canary[0], telemetry.UpdateReceived, "")
	f.report(r, canary[0], telemetry.UpdateRolledBack, "crashed at start")
	f.step()
	f.advance(time.Hour)
	f.step()
	r = f.get(r.ID)
	if r.State != rollout.StateHalted || !strings.Contains(r.Reason, canary[0]) || !strings.Contains(r.Reason, "rolled-back: crashed at start") {
		t.Fatalf("state %s (%s), want halted naming the canary", r.State, r.Reason)
	}
	if got := f.sentTo(); !slices.Equal(got, canary) {
		t.Fatalf("commands to %v after the canary failed", got)
	}
	if r.Waves[1].Started != (time.Time{}) || r.Wave != 0 {
		t.Fatalf("wave 2 started: %+v", r.Waves[1])
	}
	// Halted is not resumed; it may be aborted.
	if _, err := f.m.Resume(r.ID, "ops"); !errors.Is(err, rollout.ErrConflict) {
		t.Fatalf("resume of a halted rollout: %v", err)
	}
	if _, err := f.m.Abort(r.ID, "ops"); err != nil {
		t.Fatal(err)
	}
}

// A gateway that reports no final step in time fails, and halts a
// rollout that allows no failure; one that keeps going is not timed out
// early.
func TestTimeoutCountsAsFailure(t *testing.T) {
	f := newFixture(t, 4)
	r := f.start(rollout.Spec{Bundle: "edge-1.1.0.ngb", Gateways: []string{"gw-00", "gw-01"}, CanaryPercent: 100,
		Timeout: rollout.Duration(30 * time.Minute)})
	f.step()
	f.report(r, "gw-00", telemetry.UpdateTrial, "")
	f.report(r, "gw-01", telemetry.UpdateDone, "")
	f.advance(29 * time.Minute)
	f.step()
	if st := f.get(r.ID).State; st != rollout.StateRunning {
		t.Fatalf("state %s before the timeout", st)
	}
	f.advance(time.Minute)
	f.step()
	r = f.get(r.ID)
	if r.State != rollout.StateHalted || !strings.Contains(r.Reason, "gw-00 (timeout: no final step within 30m0s (last step: trial))") {
		t.Fatalf("state %s: %s", r.State, r.Reason)
	}
	if g := r.Gateways[1]; g.State != rollout.GatewayUpdated {
		t.Fatalf("gw-01 %+v", g)
	}
}

// A wave with failures within max_failure_percent is followed by the
// next; past it, the rollout halts and withdraws the commands of the
// wave that no gateway acted on.
func TestFailureShare(t *testing.T) {
	f := newFixture(t, 10)
	r := f.start(rollout.Spec{Bundle: "edge-1.1.0.ngb", Region: "east", CanaryPercent: 20, MaxFailurePercent: 50})
	f.step() // wave 1: gw-00, gw-01 (one failure allowed)
	f.report(r, "gw-00", telemetry.UpdateRefused, "downgrade")
	f.report(r, "gw-01", telemetry.UpdateDone, "")
	f.step() // wave 2: four gateways, two failures allowed
	r = f.get(r.ID)
	if r.Wave != 1 || r.Waves[1].Allowed != 2 {
		t.Fatalf("after a wave within the threshold: wave %d %+v", r.Wave, r.Waves)
	}
	f.report(r, "gw-02", telemetry.UpdateFailed, "disk full")
	f.report(r, "gw-03", telemetry.UpdateFailed, "disk full")
	f.report(r, "gw-04", telemetry.UpdateDownloading, "")
	f.step()
	if st := f.get(r.ID).State; st != rollout.StateRunning {
		t.Fatalf("two failures of four halted it: %s", st)
	}
	f.report(r, "gw-04", telemetry.UpdateRolledBack, "unhealthy")
	f.step()
	r = f.get(r.ID)
	if r.State != rollout.StateHalted {
		t.Fatalf("state %s after three failures of four", r.State)
	}
	if !f.pub.withdrawn("gw-05") || f.pub.command(t, "gw-04") == nil || r.Gateways[5].State != rollout.GatewayWithdrawn {
		t.Fatalf("gw-05 (no report) should be withdrawn, gw-04 (acted) not: %+v", r.Gateways[4:6])
	}
	if f.pub.command(t, "gw-06") != nil {
		t.Fatal("wave 3 got a command")
	}
}

// Paused, no wave starts; resumed, the next does; aborted, the commands
// not acted on are withdrawn and nothing more is published.
func TestPauseResumeAbort(t *testing.T) {
	f := newFixture(t, 20)
	r := f.start(rollout.Spec{Bundle: "edge-1.1.0.ngb", Region: "east"})
	f.step()
	if p, err := f.m.Pause(r.ID, "ops"); err != nil {
		t.Fatal(err)
	} else if p.State != rollout.StatePaused || p.Reason != "paused by ops" {
		t.Fatalf("paused: %s %q", p.State, p.Reason)
	}
	if _, err := f.m.Pause(r.ID, "ops"); !errors.Is(err, rollout.ErrConflict) {
		t.Fatalf("pausing twice: %v", err)
	}
	f.finishWave(r.ID)
	f.advance(time.Minute)
	f.step()
	if n := len(f.sentTo()); n != 1 {
		t.Fatalf("paused, yet commands to %d gateways", n)
	}
	if p, err := f.m.Resume(r.ID, "bob"); err != nil {
		t.Fatal(err)
	} else if p.State != rollout.StateRunning || p.Reason != "resumed by bob" {
		t.Fatalf("resumed: %s %q", p.State, p.Reason)
	}
	f.step()
	if n := len(f.sentTo()); n != 3 {
		t.Fatalf("resumed: commands to %d gateways, want 3", n)
	}
	r = f.get(r.ID)
	f.report(r, "gw-01", telemetry.UpdateDownloading, "")
	a, err := f.m.Abort(r.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if a.State != rollout.StateAborted || a.Reason != "aborted by alice" {
		t.Fatalf("aborted: %s %q", a.State, a.Reason)
	}
	f.step()
	if !f.pub.withdrawn("gw-02") || f.pub.command(t, "gw-01") == nil || f.pub.command(t, "gw-00") == nil {
		t.Fatal("abort withdrew the wrong commands")
	}
	if _, err := f.m.Abort(r.ID, "ops"); !errors.Is(err, rollout.ErrConflict) {
		t.Fatalf("aborting twice: %v", err)
	}
	if _, err := f.m.Pause("ro-20261130T010000Z-000000", "ops"); !errors.Is(err, rollout.ErrNotFound) {
		t.Fatalf("pausing no rollout: %v", err)
	}
}

// A manager opened again over the folder (a restart) goes on where the
// last left: the commands of the wave are published again, reports move
// it on.
func TestRestartGoesOn(t *testing.T) {
	f := newFixture(t, 20)
	r := f.start(rollout.Spec{Bundle: "edge-1.1.0.ngb", Region: "east"})
	f.step()
	f.finishWave(r.ID) // wave 2 is published
	f.pub = &fakePublisher{}
	f.open()
	if got := f.get(r.ID); got.Wave != 1 || got.State != rollout.StateRunning {
		t.Fatalf("after the restart: wave %d, %s", got.Wave, got.State)
	}
	f.step()
	if got := f.sentTo(); !slices.Equal(got, []string{"gw-01", "gw-02"}) {
		t.Fatalf("after the restart, commands to %v, want wave 2's", got)
	}
	f.finishWave(r.ID)
	if n := len(f.sentTo()); n != 2+4 {
		t.Fatalf("after wave 2, commands to %d", n)
	}
}

// The temporary files of a save cut short by a crash (this version's and
// earlier versions') are removed at the restart; the rollout's file is
// the only one left, and it loads.
func TestRestartRemovesLeftoverTemporaryFiles(t *testing.T) {
	f := newFixture(t, 4)
	r := f.start(rollout.Spec{Bundle: "edge-1.1.0.ngb", Region: "east"})
	dir := filepath.Join(f.dir, "rollouts")
	for _, name := range []string{"." + r.ID + ".json.tmp-123456", r.ID + ".json.tmp"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(`{"id":`), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	f.open()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != r.ID+".json" {
		t.Fatalf("after the restart the folder holds %v, want only %s.json", ents, r.ID)
	}
	if fi, _ := ents[0].Info(); fi == nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("the state file's mode: %v", fi)
	}
	if got := f.get(r.ID); got.State != rollout.StateRunning {
		t.Errorf("after the restart: %s", got.State)
	}
}

// Gateways already on the version, or whose version is unknown, are
// skipped; when none is left the rollout is refused.
func TestTargetsRunningOlderOnly(t *testing.T) {
	f := newFixture(t, 4)
	f.vers["gw-00"] = "1.1.0"
	f.vers["gw-01"] = "1.2.0"
	delete(f.vers, "gw-02")
	r := f.start(rollout.Spec{Bundle: "edge-1.1.0.ngb", Region: "east"})
	if len(r.Gateways) != 1 || r.Gateways[0].Name != "gw-03" || len(r.Skipped) != 3 {
		t.Fatalf("targets %+v, skipped %+v", r.Gateways, r.Skipped)
	}
	f.vers["gw-03"] = "1.1.0"
	if _, err := f.m.Create(rollout.Spec{Bundle: "edge-1.1.0.ngb", Gateways: []string{"gw-03"}}, "ops"); !errors.Is(err, rollout.ErrInvalid) {
		t.Fatalf("a rollout with no target: %v", err)
	}
}

// A bundle that is tampered with, signed by another key, absent or
// outside the folder is refused at creation; a wrong spec too.
func TestRefusedAtCreation(t *testing.T) {
	f := newFixture(t, 4)
	dir := filepath.Join(f.dir, "bundles")
	b, err := os.ReadFile(filepath.Join(dir, "edge-1.1.0.ngb"))
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-2000] ^= 1
	os.WriteFile(filepath.Join(dir, "tampered.ngb"), b, 0o644)
	other := newFixture(t, 0)
	other.keys.WriteBundle(t, dir, "other-key.ngb", "1.1.0")
	os.WriteFile(filepath.Join(f.dir, "outside.ngb"), b, 0o644)
	for _, c := range []struct {
		spec rollout.Spec
		want error
		says string
	}{
		{rollout.Spec{Bundle: "tampered.ngb", Region: "east"}, rollout.ErrInvalid, "SHA-256"},
		{rollout.Spec{Bundle: "other-key.ngb", Region: "east"}, rollout.ErrInvalid, "signature"},
		{rollout.Spec{Bundle: "absent.ngb", Region: "east"}, rollout.ErrNotFound, "no such file"},
		{rollout.Spec{Bundle: "../outside.ngb", Region: "east"}, rollout.ErrInvalid, "not a file name"},
		{rollout.Spec{Bundle: "edge-1.1.0.ngb"}, rollout.ErrInvalid, "one of region"},
		{rollout.Spec{Bundle: "edge-1.1.0.ngb", Region: "east", Site: "x"}, rollout.ErrInvalid, "one of region"},
		{rollout.Spec{Bundle: "edge-1.1.0.ngb", Region: "nowhere"}, rollout.ErrInvalid, "no region"},
		{rollout.Spec{Bundle: "edge-1.1.0.ngb", Gateways: []string{"gw-09"}}, rollout.ErrInvalid, "not in the inventory"},
		{rollout.Spec{Bundle: "edge-1.1.0.ngb", Gateways: []string{"gw-01", "gw-01"}}, rollout.ErrInvalid, "twice"},
		{rollout.Spec{Bundle: "edge-1.1.0.ngb", Region: "east", CanaryPercent: 101}, rollout.ErrInvalid, "canary_percent"},
		{rollout.Spec{Bundle: "edge-1.1.0.ngb", Region: "east", Growth: 0.5}, rollout.ErrInvalid, "growth"},
		{rollout.Spec{Bundle: "edge-1.1.0.ngb", Region: "east", MaxFailures: 1, MaxFailurePercent: 5}, rollout.ErrInvalid, "not both"},
		{rollout.Spec{Bundle: "edge-1.1.0.ngb", Region: "east", Timeout: rollout.Duration(time.Millisecond)}, rollout.ErrInvalid, "timeout"},
	} {
		_, err := f.m.Create(c.spec, "ops")
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%+v: %v, want %v saying %q", c.spec, err, c.want, c.says)
		}
	}
	if l, _ := f.m.List(); len(l) != 0 {
		t.Fatalf("refused rollouts kept: %+v", l)
	}
}

// A gateway is in one active rollout at a time.
func TestGatewayInOneRollout(t *testing.T) {
	f := newFixture(t, 4)
	r := f.start(rollout.Spec{Bundle: "edge-1.1.0.ngb", Gateways: []string{"gw-00", "gw-01"}})
	if _, err := f.m.Create(rollout.Spec{Bundle: "edge-1.1.0.ngb", Gateways: []string{"gw-01", "gw-02"}}, "ops"); !errors.Is(err, rollout.ErrConflict) {
		t.Fatalf("a gateway in two rollouts: %v", err)
	}
	f.start(rollout.Spec{Bundle: "edge-1.1.0.ngb", Gateways: []string{"gw-02", "gw-03"}})
	f.m.Abort(r.ID, "ops")
	f.step()
	f.start(rollout.Spec{Bundle: "edge-1.1.0.ngb", Gateways: []string{"gw-00", "gw-01"}})
	l, err := f.m.List()
	if err != nil || len(l) != 3 {
		t.Fatalf("list %+v %v", l, err)
	}
}

// A replica that does not run rollouts refuses every request and
// publishes nothing.
func TestNotLeaderRefuses(t *testing.T) {
	f := newFixture(t, 4)
	r := f.start(rollout.Spec{Bundle: "edge-1.1.0.ngb", Region: "east"})
	f.leader = errors.Join(rollout.ErrNotLeader, errors.New("replica 0 holds the coverage lease"))
	f.step()
	if len(f.sentTo()) != 0 {
		t.Fatal("a replica without the lease published")
	}
	for _, err := range []error{
		func() error {
			_, err := f.m.Create(rollout.Spec{Bundle: "edge-1.1.0.ngb", Region: "east"}, "ops")
			return err
		}(),
		func() error { _, err := f.m.List(); return err }(),
		func() error { _, err := f.m.Get(r.ID); return err }(),
		func() error { _, err := f.m.Abort(r.ID, "ops"); return err }(),
	} {
		if !errors.Is(err, rollout.ErrNotLeader) || !strings.Contains(err.Error(), "replica 0") {
			t.Errorf("not leader: %v", err)
		}
	}
	f.leader = nil
	f.step()
	if len(f.sentTo()) != 1 {
		t.Fatal("the leader did not publish the canary")
	}
}

// Commands that cannot be published are published at a later step.
func TestPublishRetried(t *testing.T) {
	f := newFixture(t, 4)
	f.start(rollout.Spec{Bundle: "edge-1.1.0.ngb", Region: "east"})
	f.pub.fail = true
	if err := f.m.Step(context.Background()); err == nil || f.m.Err() == "" {
		t.Fatal("no error while the broker is away")
	}
	f.pub.mu.Lock()
	f.pub.fail = false
	f.pub.mu.Unlock()
	f.step()
	if len(f.sentTo()) != 1 || f.m.Err() != "" {
		t.Fatalf("the canary's command after the broker came back: %v", f.sentTo())
	}
}
