package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/edge/update"
	"github.com/ngic/ngic/telemetry"
)

func TestUpdateStatus(t *testing.T) {
	l := update.Layout{Root: t.TempDir()}
	if err := os.MkdirAll(l.SlotDir("a"), 0o755); err != nil {
		t.Fatal(err)
	}
	m := `{"name":"ngic-edge","version":"1.1.0","os":"linux","arch":"amd64","files":[{"path":"ngic-edge","mode":"0755","size":1,"sha256":"` +
		strings.Repeat("0", 64) + `"}]}`
	if err := os.WriteFile(filepath.Join(l.SlotDir("a"), update.ManifestFile), []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 30, 1, 2, 3, 0, time.UTC)
	st := &update.State{Active: "a", Last: &telemetry.UpdateReport{ID: "r2/gw", Step: telemetry.UpdateRolledBack,
		From: "1.1.0", To: "1.2.0", Reason: "1.2.0 exited before proving healthy 3 times", Time: at}}
	if err := l.WriteState(st); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := newUpdateStatusCmd()
	c.SetArgs([]string{"--root", l.Root})
	c.SetOut(&out)
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	want := "slot a: ngic-edge 1.1.0 (active)\nslot b: empty\n" +
		"last update: r2/gw rolled-back (1.1.0 -> 1.2.0) at 2026-11-30 01:02:03Z: 1.2.0 exited before proving healthy 3 times\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
