package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// TestInfluxdLinesLandOnce records events and health messages with their
// lines going to the real influxd 1.8 (plain POST /write): recording the
// batch again, and recording it in a controller that lost its state after
// the lines were written (a crash between Lines and the commit), writes
// every point once.
func TestInfluxdLinesLandOnce(t *testing.T) {
	d := testenv.StartInfluxd(t)
	d.CreateDatabase(t, "ngic")
	write := func(lines []byte) error {
		resp, err := http.Post(d.URL+"/write?db=ngic&precision=ns", "text/plain", bytes.NewReader(lines))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			msg, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("influxd: %s: %s", resp.Status, msg)
		}
		return nil
	}
	batch := mixed(t, "gw1", 1, 60)
	batch = append(batch, mixed(t, "gw3", 1, 40)...)
	batch = append(batch, health(t, "gw1", t0), health(t, "gw3", t0), lostEvent(t, "gw1", 70, 61, 69))
	for range 2 {
		f := newFixture(t, func(o *Options) { o.Lines = write })
		f.record(t, batch...)
		f.record(t, batch...)
	}
	count := func(q string) int64 {
		rows := d.Query(t, "ngic", q)
		if len(rows) != 1 {
			t.Fatalf("%s: %d rows", q, len(rows))
		}
		n, err := rows[0].Values["count"].(json.Number).Int64()
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	// 100 events: 1/6 passages, the rest edge events, plus the loss.
	if n := count(`SELECT count("seq") FROM "` + telemetry.MeasEdgeEvent + `"`); n != 100-16+1 {
		t.Errorf("%d edge events, want 85", n)
	}
	if n := count(`SELECT count("seq") FROM "` + telemetry.MeasPassage + `"`); n != 16 {
		t.Errorf("%d passages, want 16", n)
	}
	if n := count(`SELECT count("uptime_s") FROM "` + telemetry.MeasGatewayHealth + `"`); n != 2 {
		t.Errorf("%d health points, want 2", n)
	}
	rows := d.Query(t, "ngic", `SELECT count("seq") FROM "`+telemetry.MeasEdgeEvent+`" GROUP BY "site"`)
	if len(rows) != 2 || rows[0].Tags["site"] != "site-a" || rows[1].Tags["site"] != "site-b" {
		t.Errorf("events by site: %+v", rows)
	}
}
