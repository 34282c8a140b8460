package update_test

import (
	"os"
	"strings"
	"testing"

	"github.com/ngic/ngic/telemetry"
)

// TestKillAtEachStep kills the agent (the supervisor's child) or the
// supervisor with SIGKILL at each step of an install. The gateway must come
// back and finish the update on the new version, a download resumed where
// it stopped (the server serves the bundle's bytes once in all), with every
// event spooled before the update delivered.
func TestKillAtEachStep(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		supervisor bool // kill the supervisor, else its child
		download   bool // the server holds the download half way
		at         func(g *gw, sha string, size int64) bool
	}{
		{"agent during download", false, true, halfDownloaded},
		{"supervisor during download", true, true, halfDownloaded},
		{"agent after extract", false, false, extracted},
		{"supervisor after state write", true, false, trialWritten},
		{"supervisor during trial", true, false, onTrial},
		{"agent during trial", false, false, onTrial},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			g := r.start(t, gwOpts{spooled: 20})
			c := r.srv.Offer(g.name, "kill", newVersion, r.newBundle(t))
			download := tc.download
			if download {
				r.srv.Hold(c.SHA256, c.Size/2)
			}
			g.waitFor(tc.name, func() bool { return tc.at(g, c.SHA256, c.Size) })
			if tc.supervisor {
				g.killSupervisor()
			} else {
				g.killChild()
			}
			if download {
				r.srv.Unhold(c.SHA256)
				r.srv.Release()
			}
			if tc.supervisor {
				g.startSupervisor()
			}
			g.waitStep(newVersion, c.ID, telemetry.UpdateDone)
			if download {
				if n := r.srv.served.Load(); n != c.Size {
					t.Errorf("served %d bytes for a bundle of %d: the download did not resume where it stopped", n, c.Size)
				}
			}
			s := g.state()
			if s.Active != "a" || s.Trial != nil {
				t.Errorf("state: %+v", s)
			}
			g.checkSpoolDelivered()
		})
	}
}

// halfDownloaded: the partial download holds what the server sent before
// holding it.
func halfDownloaded(g *gw, sha string, size int64) bool {
	fi, err := os.Stat(g.layout.PartPath(sha))
	return err == nil && fi.Size() == size/2
}

func extracted(g *gw, _ string, _ int64) bool {
	_, err := os.Stat(g.layout.SlotBinary("a"))
	return err == nil
}

func trialWritten(g *gw, _ string, _ int64) bool {
	st, err := g.layout.ReadState()
	return err == nil && st.Trial != nil
}

func onTrial(g *gw, _ string, _ int64) bool {
	st, err := g.layout.ReadState()
	return err == nil && st.Trial != nil && st.Trial.Boots >= 1
}

// TestSupervisorKillCountsABoot: a kill -9 of the supervisor while a new
// version is on trial counts as one of its boots, so a version that takes
// the whole machine down with it cannot stay on trial for ever.
func TestSupervisorKillCountsABoot(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	g := r.start(t, gwOpts{maxBoots: 1})
	c := r.srv.Offer(g.name, "kill-boot", newVersion, makeBundle(t, r.p["unhealthy"], newVersion, "", r.sig.priv))
	g.waitFor("the trial", func() bool { return onTrial(g, "", 0) })
	g.killSupervisor()
	g.startSupervisor()
	st := g.waitStep(oldVersion, c.ID, telemetry.UpdateRolledBack)
	if want := "ended before proving healthy in each of its 1 boots"; !strings.Contains(st.Update.Reason, want) {
		t.Errorf("rolled back for %q, want %q", st.Update.Reason, want)
	}
}
