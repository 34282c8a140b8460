package grafana_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ngic/ngic/deploy/grafana"
	"github.com/ngic/ngic/deploy/grafana/schema"
)

// TestGeneratedFilesUpToDate fails when the committed dashboards or
// provisioning files differ from what `go generate ./deploy/grafana`
// writes, or when a generated file is no longer generated.
func TestGeneratedFilesUpToDate(t *testing.T) {
	files, err := grafana.Files()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.FromSlash(name))
		if err != nil {
			t.Errorf("%s: %v (run go generate ./deploy/grafana)", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./deploy/grafana", name)
		}
	}
	for _, pattern := range []string{"dashboards/*.json", "provisioning/*/*.yaml"} {
		found, _ := filepath.Glob(pattern)
		for _, f := range found {
			if _, ok := files[filepath.ToSlash(f)]; !ok {
				t.Errorf("%s is no longer generated: remove it", f)
			}
		}
	}
}

var (
	identRE = regexp.MustCompile(`"([a-z0-9_]+)"`)
	fromRE  = regexp.MustCompile(`FROM "([a-z0-9_]+)"`)
	aliasRE = regexp.MustCompile(`AS "([a-z0-9_]+)"`)
)

// TestPanelsUseTelemetryNames checks every quoted name of every query is a
// measurement, tag or field telemetry writes (or an alias the query
// defines), that a panel reads the measurement it says, and that the JSON
// reads back.
func TestPanelsUseTelemetryNames(t *testing.T) {
	names, err := schema.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range grafana.Dashboards() {
		for _, p := range d.Panels {
			for _, q := range p.Queries {
				aliases := map[string]bool{}
				for _, m := range aliasRE.FindAllStringSubmatch(q.InfluxQL, -1) {
					aliases[m[1]] = true
				}
				for _, m := range identRE.FindAllStringSubmatch(q.InfluxQL, -1) {
					n := m[1]
					if !names.Measurements[n] && !names.Tags[n] && !names.Fields[n] && !aliases[n] {
						t.Errorf("%s / %s: %q is not a telemetry name", d.UID, p.Title, n)
					}
				}
				for _, m := range fromRE.FindAllStringSubmatch(q.InfluxQL, -1) {
					if m[1] != p.Measurement {
						t.Errorf("%s / %s: reads %q, declared %q", d.UID, p.Title, m[1], p.Measurement)
					}
				}
			}
		}
		b, err := grafana.JSON(d)
		if err != nil {
			t.Fatal(err)
		}
		var back map[string]any
		if err := json.Unmarshal(b, &back); err != nil || back["uid"] != d.UID {
			t.Errorf("%s: JSON does not read back: %v", d.UID, err)
		}
	}
}

// TestProvisioningYAML reads the provisioning files back: each data source
// file names the UID the dashboards use, the provider the folder they are
// copied to.
func TestProvisioningYAML(t *testing.T) {
	files, err := grafana.Files()
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		var doc struct {
			APIVersion  int `yaml:"apiVersion"`
			Datasources []struct {
				UID, Type string
			} `yaml:"datasources"`
			Providers []struct {
				Options struct{ Path string } `yaml:"options"`
			} `yaml:"providers"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		switch {
		case doc.APIVersion != 1:
			t.Errorf("%s: apiVersion %d", name, doc.APIVersion)
		case strings.Contains(name, "datasources") && (len(doc.Datasources) != 1 || doc.Datasources[0].UID != grafana.DataSourceUID ||
			doc.Datasources[0].Type != "influxdb"):
			t.Errorf("%s: data sources %+v", name, doc.Datasources)
		case strings.Contains(name, "dashboards") && (len(doc.Providers) != 1 || doc.Providers[0].Options.Path != grafana.ProvisionedDir):
			t.Errorf("%s: providers %+v", name, doc.Providers)
		}
	}
}
