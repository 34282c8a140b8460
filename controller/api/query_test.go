package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ngic/ngic/controller/api"
	"github.com/ngic/ngic/controller/api/apitest"
)

// Each route takes the query parameters openapi.yaml gives it, no more,
// no fewer.
func TestQueryParamsAreTheSpecs(t *testing.T) {
	s, _ := serve(t, newFake(t), api.Options{}, "")
	_, router := apitest.Spec(t)
	for _, rt := range s.Routes() {
		method, path, _ := strings.Cut(rt, " ")
		req, _ := http.NewRequest(method, samplePath(path), nil)
		route, _, err := router.FindRoute(req)
		if err != nil {
			t.Fatal(err)
		}
		var spec []string
		for _, p := range route.Operation.Parameters {
			if p.Value.In == "query" {
				spec = append(spec, p.Value.Name)
			}
		}
		got := s.Params(rt)
		slices.Sort(spec)
		slices.Sort(got)
		if !slices.Equal(got, spec) {
			t.Errorf("%s takes %v, openapi.yaml says %v", rt, got, spec)
		}
	}
}

// Hostile query values are answered 400 with a message naming the
// parameter, never 500 and never a page of everything.
func TestHostileQueries(t *testing.T) {
	_, c := serve(t, newFake(t), api.Options{}, adminToken)
	for _, tc := range []struct{ path, want string }{
		{"/api/v1/villages?limit=-1", "limit"},
		{"/api/v1/villages?limit=0", "limit"},
		{"/api/v1/villages?limit=1001", "limit"},
		{"/api/v1/villages?limit=99999999999999999999999", "limit"},
		{"/api/v1/villages?limit=1e3", "limit"},
		{"/api/v1/villages?limit=%20", "limit"},
		{"/api/v1/villages?limit=10&limit=20", "limit"},
		{"/api/v1/villages?cursor=garbage", "cursor"},
		{"/api/v1/villages?cursor=" + strings.Repeat("A", 300), "cursor"},
		{"/api/v1/villages?cursor=bzE6LTU", "cursor"},                            // "o1:-5"
		{"/api/v1/villages?cursor=bzE6OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ", "cursor"}, // "o1:9999999999999999999999"
		{"/api/v1/villages?class=%3Cimg%20src%3Dx%3E", "class"},
		{"/api/v1/villages?evidence=everything", "evidence"},
		{"/api/v1/villages?priority=maybe", "priority"},
		{"/api/v1/villages?limt=5", "limt"},
		{"/api/v1/villages?region=%00", "region"},
		{"/api/v1/villages?region=a%zz", "query"},
		{"/api/v1/devices?state=sideways", "state"},
		{"/api/v1/devices?site=" + strings.Repeat("s", 300), "site"},
		{"/api/v1/gateways?state=1", "state"},
		{"/api/v1/alerts?state=all", "state"},
		{"/api/v1/alerts?limit=-5", "limit"},
		{"/api/v1/gaps?cursor=%FF", "cursor"},
		{"/api/v1/summary?x=1", "x"},
		{"/api/v1/sites?limit=abc", "limit"},
	} {
		r := c.Get(tc.path)
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), tc.want) {
			t.Errorf("GET %s: %d %s; want 400 naming %s", tc.path, r.Status, r.Body, tc.want)
		}
	}
}

// devicePage is a page of /api/v1/devices.
type devicePage struct {
	Items      []api.Device `json:"items"`
	NextCursor *string      `json:"next_cursor"`
	Total      int          `json:"total"`
}

// ids lists a page's device ids.
func (p devicePage) ids() []string {
	var out []string
	for _, d := range p.Items {
		out = append(out, d.ID)
	}
	return out
}

// A cursor goes on after the last item of its page wherever it stands
// now: devices inserted or removed before it neither repeat nor skip one;
// when that item itself is gone, the next page starts at the old offset.
func TestCursorStableUnderInserts(t *testing.T) {
	src := newFake(t)
	_, c := serve(t, src, api.Options{}, readToken)
	var first, next devicePage
	c.GetJSON("/api/v1/devices?limit=3", &first)
	if first.NextCursor == nil || len(first.Items) != 3 {
		t.Fatalf("first page %+v", first)
	}
	all := src.Devices()
	src.mu.Lock()
	extra := all[5]
	extra.ID = "inserted-first"
	src.devices = append([]api.Device{extra}, src.devices...)
	src.mu.Unlock()
	c.GetJSON("/api/v1/devices?limit=3&cursor="+url.QueryEscape(*first.NextCursor), &next)
	if got, want := next.ids(), []string{all[3].ID, all[4].ID, all[5].ID}; !slices.Equal(got, want) {
		t.Fatalf("after an insert before the cursor: page %v, want %v", got, want)
	}
	src.mu.Lock()
	src.devices = slices.Delete(src.devices, 0, 2) // the inserted one and the first page's first
	src.mu.Unlock()
	var again devicePage
	c.GetJSON("/api/v1/devices?limit=3&cursor="+url.QueryEscape(*first.NextCursor), &again)
	if got, want := again.ids(), []string{all[3].ID, all[4].ID, all[5].ID}; !slices.Equal(got, want) {
		t.Fatalf("after a removal before the cursor: page %v, want %v", got, want)
	}
	src.mu.Lock()
	src.devices = slices.DeleteFunc(src.devices, func(d api.Device) bool { return d.ID == all[2].ID })
	src.mu.Unlock()
	c.GetJSON("/api/v1/devices?limit=3&cursor="+url.QueryEscape(*first.NextCursor), &again)
	if got, want := again.ids(), []string{all[5].ID, all[6].ID, all[7].ID}; !slices.Equal(got, want) {
		t.Fatalf("the cursor's item gone: page %v, want %v (from the old offset 3)", got, want)
	}
}
