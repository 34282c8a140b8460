package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/ngic/ngic/controller/rollout"
	"github.com/ngic/ngic/controller/rollout/rollouttest"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// rolloutCLI runs `ngic-controller rollout args...` against the setup's
// controller with its token file, and returns stdout, failing t on a
// non-zero exit.
func rolloutCLI(t *testing.T, s *rollouttest.Setup, args ...string) string {
	t.Helper()
	out, err := rolloutCLIErr(s, args...)
	if err != nil {
		t.Fatalf("rollout %v: %v\n%s", args, err, out)
	}
	return out
}

func rolloutCLIErr(s *rollouttest.Setup, args ...string) (string, error) {
	cmd := exec.Command(binary, append([]string{"rollout", "--api", "http://" + s.HTTP, "--token-file", s.TokenFile}, args...)...)
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out) + string(ee.Stderr), err
	}
	return string(out), err
}

// statusOf reads a rollout through the CLI's JSON.
func statusOf(t *testing.T, s *rollouttest.Setup, id string) *rollout.Rollout {
	t.Helper()
	var r rollout.Rollout
	if err := json.Unmarshal([]byte(rolloutCLI(t, s, "status", id, "--json")), &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// A controller killed with kill -9 in the middle of a rollout goes on
// where it was once started again: the wave it had started completes,
// the next ones follow, and no gateway acts on more than one command.
func TestRolloutSurvivesKill9(t *testing.T) {
	mq := testenv.StartMosquitto(t)
	s := rollouttest.WriteSetup(t, t.TempDir(), mq.Addr, fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)), 20)
	p := startController(t, s.Config, s.HTTP)
	release := make(chan struct{})
	var releaseOnce sync.Once
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	held := func(cmd *telemetry.UpdateCommand) (string, string) {
		<-release
		return telemetry.UpdateDone, ""
	}
	gws := map[string]*rollouttest.Gateway{}
	for i, name := range s.Gateways {
		outcome := rollouttest.Outcome(rollouttest.Succeed)
		if i > 0 {
			outcome = held // the waves after the canary hang until released
		}
		gws[name] = rollouttest.StartGateway(t, mq.Addr, name, rollouttest.OldVersion, outcome)
	}
	s.WaitVersions(t, 20)
	out := rolloutCLI(t, s, "start", "--bundle", rollouttest.Bundle, "--region", rollouttest.RegionA, "--json")
	var started rollout.Rollout
	if err := json.Unmarshal([]byte(out), &started); err != nil || len(started.Gateways) != 20 {
		t.Fatalf("start: %v: %s", err, out)
	}
	id := started.ID
	waitUntil(t, "wave 2 to be acted on", func() bool {
		r := statusOf(t, s, id)
		return r.Wave == 1 && r.Gateways[1].Step == telemetry.UpdateTrial && r.Gateways[2].Step == telemetry.UpdateTrial
	})
	p.cmd.Process.Kill() // kill -9
	<-p.done
	// Wave 2 ends while the controller is down: only the gateways'
	// retained statuses tell it.
	releaseOnce.Do(func() { close(release) })
	waitUntil(t, "wave 2 to update", func() bool {
		return gws["gw-01"].Version() == rollouttest.BundleVersion && gws["gw-02"].Version() == rollouttest.BundleVersion
	})
	if n := len(gws["gw-03"].Commands()); n != 0 {
		t.Fatalf("wave 3 got a command while the controller was down")
	}
	p = startController(t, s.Config, s.HTTP)
	r := statusOf(t, s, id)
	if r.State != rollout.StateRunning || r.Wave < 1 || r.Gateways[0].State != rollout.GatewayUpdated {
		t.Fatalf("after kill -9: %s at wave %d, canary %s", r.State, r.Wave, r.Gateways[0].State)
	}
	waitUntil(t, "the rollout to complete", func() bool { return statusOf(t, s, id).State == rollout.StateCompleted })
	for name, g := range gws {
		ids := map[string]bool{}
		for _, c := range g.Commands() {
			ids[c.ID] = true
		}
		if len(ids) != 1 || g.Version() != rollouttest.BundleVersion {
			t.Errorf("%s: commands %v, runs %s", name, ids, g.Version())
		}
	}
	out = rolloutCLI(t, s, "list")
	if !strings.Contains(out, id) || !strings.Contains(out, "completed") {
		t.Errorf("list:\n%s", out)
	}
	out = rolloutCLI(t, s, "status", id)
	if !strings.Contains(out, "rollout "+id+": completed") || !strings.Contains(out, "WAVE") || strings.Count(out, "\n") != 2+1+5 {
		t.Errorf("status:\n%s", out)
	}
	p.stop(t)
}

// The CLI reads the token from a file or the environment, refuses
// without one, and prints the API's refusal.
func TestRolloutCLIErrors(t *testing.T) {
	mq := testenv.StartMosquitto(t)
	s := rollouttest.WriteSetup(t, t.TempDir(), mq.Addr, fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)), 2)
	startController(t, s.Config, s.HTTP)
	cmd := exec.Command(binary, "rollout", "--api", "http://"+s.HTTP, "list")
	cmd.Env = append(cmd.Environ(), "NGIC_API_TOKEN=")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "API token") {
		t.Errorf("without a token: %v\n%s", err, out)
	}
	cmd = exec.Command(binary, "rollout", "--api", "http://"+s.HTTP, "list")
	cmd.Env = append(cmd.Environ(), "NGIC_API_TOKEN="+s.Token)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "ID") {
		t.Errorf("with the token from the environment: %v\n%s", err, out)
	}
	out, err := rolloutCLIErr(s, "start", "--bundle", "absent.ngb", "--gateways", "gw-00")
	if err == nil || !strings.Contains(out, "404") || !strings.Contains(out, "no such file") || strings.Contains(out, s.Token) {
		t.Errorf("an absent bundle: %v\n%s", err, out)
	}
	out, err = rolloutCLIErr(s, "pause", "ro-20261130T010000Z-000000")
	if err == nil || !strings.Contains(out, "404") {
		t.Errorf("pausing no rollout: %v\n%s", err, out)
	}
}
