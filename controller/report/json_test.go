package report

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/ngic/ngic/controller/coverage"
)

func TestJSONGolden(t *testing.T) {
	res, o := sample(true)
	golden(t, "sample.json", write(t, FormatJSON, res, o))
}

// The streamed JSON is byte for byte what encoding/json writes for the
// Document, with or without a comparison, and for an empty result.
func TestJSONIsTheDocument(t *testing.T) {
	withCompare, o := sample(true)
	without, _ := sample(false)
	for _, tc := range []struct {
		name string
		res  *coverage.Result
		o    Options
	}{
		{"compare", withCompare, o},
		{"plain", without, Options{}},
		{"empty", &coverage.Result{}, Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(Document{Result: tc.res, Compare: tc.o.Compare, Source: tc.o.Source}); err != nil {
				t.Fatal(err)
			}
			if got := write(t, FormatJSON, tc.res, tc.o); !bytes.Equal(got, want.Bytes()) {
				t.Errorf("streamed JSON differs from encoding/json's:\ngot  %s\nwant %s", got, want.Bytes())
			}
		})
	}
}

// The members the issue names are there, with their types.
func TestJSONMembers(t *testing.T) {
	res, o := sample(true)
	var doc struct {
		Villages []struct {
			Code       *string          `json:"code"`
			Name       *string          `json:"name"`
			Households *int64           `json:"households"`
			Broadband  *string          `json:"broadband"`
			Evidence   *string          `json:"evidence"`
			DigitalTV  *bool            `json:"digital_tv"`
			Converged  *bool            `json:"converged"`
			Trail      *json.RawMessage `json:"trail"`
		} `json:"villages"`
		Regions []struct {
			Code       *string `json:"code"`
			Level      *string `json:"level"`
			Households *int64  `json:"households"`
			All        *struct {
				Tiers     []json.RawMessage `json:"tiers"`
				DigitalTV *json.RawMessage  `json:"digital_tv"`
				Converged *json.RawMessage  `json:"converged"`
			} `json:"all"`
		} `json:"regions"`
		Gaps    []json.RawMessage `json:"gaps"`
		Compare *coverage.Diff    `json:"compare"`
		Source  string            `json:"source"`
	}
	if err := json.Unmarshal(write(t, FormatJSON, res, o), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Villages) != 3 || len(doc.Regions) != 2 || len(doc.Gaps) != 2 {
		t.Fatalf("%d villages, %d regions, %d gaps; want 3, 2, 2", len(doc.Villages), len(doc.Regions), len(doc.Gaps))
	}
	for i, v := range doc.Villages {
		if v.Code == nil || v.Name == nil || v.Households == nil || v.Broadband == nil || v.Evidence == nil ||
			v.DigitalTV == nil || v.Converged == nil || v.Trail == nil {
			t.Errorf("village %d lacks a member: %+v", i, v)
		}
	}
	if *doc.Villages[1].Name != "<script>alert(1)</script>" || *doc.Villages[0].Name != "上庄村" {
		t.Errorf("names %q, %q not kept", *doc.Villages[0].Name, *doc.Villages[1].Name)
	}
	for i, r := range doc.Regions {
		if r.Code == nil || r.Level == nil || r.Households == nil || r.All == nil || len(r.All.Tiers) != 3 ||
			r.All.DigitalTV == nil || r.All.Converged == nil {
			t.Errorf("region %d lacks a member: %+v", i, r)
		}
	}
	if doc.Compare == nil || len(doc.Compare.Villages) != 1 || doc.Source != o.Source {
		t.Errorf("compare %+v, source %q", doc.Compare, doc.Source)
	}
}
