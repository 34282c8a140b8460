package update_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ngic/ngic/internal/bundle"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// rig is what the end-to-end tests share: a broker, an HTTPS server of
// bundles and commands, a trusted signer, and the programs.
type rig struct {
	broker *testenv.Mosquitto
	srv    *server
	sig    *signer
	p      map[string]string
}

func newRig(t *testing.T) *rig {
	t.Helper()
	return &rig{broker: testenv.StartMosquitto(t), srv: newServer(t), sig: newSigner(t), p: built(t)}
}

// start starts a gateway at oldVersion under its supervisor and waits for
// its first birth.
func (r *rig) start(t *testing.T, o gwOpts) *gw {
	t.Helper()
	g := startGW(t, plain(r.broker), r.srv, r.sig, o)
	g.waitStatus("first birth", func(st telemetry.Status) bool { return st.Version == oldVersion })
	return g
}

// newBundle is ngic-edge at newVersion, signed with the trusted key.
func (r *rig) newBundle(t *testing.T) []byte {
	return makeBundle(t, r.p["edge-"+newVersion], newVersion, "", r.sig.priv)
}

func TestUpdateInstallsAndKeepsAHealthyVersion(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	g := r.start(t, gwOpts{spooled: 20})
	b := r.newBundle(t)
	c := r.srv.Offer(g.name, "up-1", newVersion, b)
	g.waitStep(newVersion, c.ID, telemetry.UpdateDone)
	want := []string{telemetry.UpdateReceived, telemetry.UpdateDownloading, telemetry.UpdateVerified,
		telemetry.UpdateInstalled, telemetry.UpdateRestarting, telemetry.UpdateTrial, telemetry.UpdateDone}
	t.Logf("steps seen: %v", g.steps(c.ID))
	if got := g.steps(c.ID); !isSubsequence(got, want[len(want)-2:]) || got[0] != telemetry.UpdateReceived {
		t.Errorf("steps %v, want a subsequence ending %v of %v", got, want[len(want)-2:], want)
	}
	st := g.state()
	if st.Active != "a" || st.Trial != nil || !st.HasHandled(c.ID) || st.Last.Step != telemetry.UpdateDone {
		t.Errorf("state after the update: %+v", st)
	}
	if n := r.srv.served.Load(); n != int64(len(b)) {
		t.Errorf("served %d bytes, the bundle is %d", n, len(b))
	}
	g.checkSpoolDelivered()
	// The command stays retained (polled): acted on once only.
	r.srv.Offer(g.name, c.ID, newVersion, b)
	g.stopSupervisor()
	g.startSupervisor()
	g.waitStatus("a birth after the restart", func(st telemetry.Status) bool {
		return st.Version == newVersion && st.Update != nil && st.Update.Step == telemetry.UpdateDone && st.PresenceReset == false
	})
	if n := r.srv.served.Load(); n != int64(len(b)) {
		t.Errorf("served %d bytes after a restart with the same command: acted on twice", n)
	}
	// The next update goes into the other slot; rolled back, slot a runs
	// again and reports it.
	c = r.srv.Offer(g.name, "up-2", "1.2.0", makeBundle(t, r.p["crash"], "1.2.0", "", r.sig.priv))
	g.waitStep(newVersion, c.ID, telemetry.UpdateRolledBack)
	if st := g.state(); st.Active != "a" || st.Trial != nil {
		t.Errorf("state after rolling back to slot a: %+v", st)
	}
	if _, err := os.Stat(g.layout.SlotBinary("b")); err != nil {
		t.Errorf("the second update was not installed into slot b: %v", err)
	}
}

// isSubsequence reports whether want appears in got in order.
func isSubsequence(got, want []string) bool {
	i := 0
	for _, s := range got {
		if i < len(want) && s == want[i] {
			i++
		}
	}
	return i == len(want)
}

func TestUpdateRefusals(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	g := r.start(t, gwOpts{})
	good := r.newBundle(t)

	tampered := slices.Clone(good)
	tampered[len(tampered)/2] ^= 0xff // in the program's bytes
	_, otherKey, _ := bundle.GenerateKey()
	otherArch := "arm64"
	if otherArch == runtimeArch() {
		otherArch = "amd64"
	}
	cases := []struct {
		id, version string
		bundle      []byte
		reason      string
		downloads   bool
	}{
		{"tampered", newVersion, tampered, bundle.ErrHash.Error(), true},
		{"wrong-key", newVersion, makeBundle(t, r.p["edge-"+newVersion], newVersion, "", otherKey), bundle.ErrSignature.Error(), true},
		{"downgrade", "0.9.0", makeBundle(t, r.p["edge-"+newVersion], "0.9.0", "", r.sig.priv), "downgrade", false},
		{"same", oldVersion, makeBundle(t, r.p["edge-"+newVersion], oldVersion, "", r.sig.priv), "same-version", false},
		{"other-arch", newVersion, makeBundle(t, r.p["edge-"+newVersion], newVersion, otherArch, r.sig.priv), "other-platform", true},
		// The command claims a newer version than the signed manifest's.
		{"liar", "1.5.0", makeBundle(t, r.p["edge-"+newVersion], "0.9.0", "", r.sig.priv), "downgrade", true},
	}
	for _, tc := range cases {
		before := r.srv.served.Load()
		c := r.srv.Offer(g.name, tc.id, tc.version, tc.bundle)
		st := g.waitStep(oldVersion, c.ID, telemetry.UpdateRefused)
		t.Logf("%s: refused: %s", tc.id, st.Update.Reason)
		if !strings.Contains(st.Update.Reason, tc.reason) {
			t.Errorf("%s: refused for %q, want %q", tc.id, st.Update.Reason, tc.reason)
		}
		if served := r.srv.served.Load() - before; (served > 0) != tc.downloads {
			t.Errorf("%s: %d bytes downloaded", tc.id, served)
		}
		s := g.state()
		if s.Active != "" || s.Trial != nil || !s.HasHandled(c.ID) {
			t.Errorf("%s: state %+v", tc.id, s)
		}
		sum := sha256.Sum256(tc.bundle)
		if _, err := os.Stat(g.layout.PartPath(hex.EncodeToString(sum[:]))); err == nil {
			t.Errorf("%s: the refused download is kept", tc.id)
		}
	}
	// A bundle larger than the disk can take is refused from the command.
	c := *r.srv.Offer(g.name, "huge", newVersion, good)
	c.Size = 1 << 50
	before := r.srv.served.Load()
	r.srv.SetCommand(g.name, &c)
	if st := g.waitStep(oldVersion, c.ID, telemetry.UpdateRefused); !strings.Contains(st.Update.Reason, "too-large") {
		t.Errorf("huge: refused for %q", st.Update.Reason)
	}
	if r.srv.served.Load() != before {
		t.Error("huge: downloaded")
	}
	if ents, _ := os.ReadDir(g.layout.SlotDir("a")); len(ents) != 0 {
		t.Errorf("a refused bundle left files in slot a: %v", ents)
	}
}

// TestRollBack: a new version that crashes at start, one that hangs, and
// one that runs but never proves healthy are each rolled back by the
// supervisor, and the old version reports it.
func TestRollBack(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		program, reason string
		o               gwOpts
	}{
		{"crash", "ended before proving healthy in each of its 2 boots; last: exit status 3", gwOpts{maxBoots: 2, healthTimeout: "60s"}},
		{"hang", "did not prove healthy within 4s, nor stop on SIGTERM within 15s: hung", gwOpts{healthTimeout: "4s"}},
		{"unhealthy", "did not prove healthy within 4s: unhealthy", gwOpts{healthTimeout: "4s"}},
	} {
		t.Run(tc.program, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			g := r.start(t, tc.o)
			c := r.srv.Offer(g.name, "bad-"+tc.program, newVersion, makeBundle(t, r.p[tc.program], newVersion, "", r.sig.priv))
			st := g.waitStep(oldVersion, c.ID, telemetry.UpdateRolledBack)
			t.Logf("rolled back: %s", st.Update.Reason)
			if !strings.Contains(st.Update.Reason, tc.reason) {
				t.Errorf("rolled back for %q, want %q", st.Update.Reason, tc.reason)
			}
			s := g.state()
			if s.Active != "" || s.Trial != nil || s.Last.Step != telemetry.UpdateRolledBack {
				t.Errorf("state after the rollback: %+v", s)
			}
		})
	}
}

// TestSupervisorRunsThePackagedVersion: a damaged state, or an active slot
// without its program, still runs a version (the packaged one); a SIGTERM
// to the supervisor stops the child cleanly and leaves no process behind.
func TestSupervisorRunsThePackagedVersion(t *testing.T) {
	t.Parallel()
	for name, state := range map[string]string{
		"damaged state": `{"v":1,"active":`,
		"empty slot":    `{"v":1,"active":"b"}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			g := r.start(t, gwOpts{stateJSON: state})
			g.stopSupervisor()
			if code := g.sup.ProcessState.ExitCode(); code != 0 {
				t.Errorf("supervisor exit code %d after SIGTERM", code)
			}
			if !strings.Contains(g.logs(), `"msg":"gateway stopped"`) {
				t.Error("the child did not stop cleanly on the supervisor's SIGTERM")
			}
			g.waitNoChild()
		})
	}
}
