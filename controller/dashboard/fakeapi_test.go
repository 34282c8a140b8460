package dashboard_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// fakeAPI answers the API's paths with fixed documents of the shapes
// controller/api/openapi.yaml gives, so the dashboard's views can be
// exercised without a controller. It checks the session cookie and the
// CSRF header as the real API does, and pushes alerts to the open event
// streams on demand.
type fakeAPI struct {
	role    string // the session's role: admin or read
	mu      sync.Mutex
	signed  bool
	acks    []string // alert IDs acknowledged, with their CSRF header checked
	streams []chan string
	mux     *http.ServeMux
}

const (
	fakeToken = "fake-token-0123456789"
	fakeCSRF  = "csrf-0123"
	fakeTime  = "2026-11-29T10:00:00Z"
)

func newFakeAPI(role string) *fakeAPI {
	f := &fakeAPI{role: role, mux: http.NewServeMux()}
	for _, m := range []string{"GET", "POST", "DELETE"} {
		f.mux.HandleFunc(m+" /api/v1/session", f.session)
	}
	f.mux.HandleFunc("GET /api/v1/events", f.events)
	f.mux.HandleFunc("POST /api/v1/alerts/{id}/ack", f.ack)
	docs := fakeDocs()
	f.mux.HandleFunc("GET /api/v1/", f.authed(func(w http.ResponseWriter, r *http.Request) {
		for k, vs := range r.URL.Query() {
			if doc, ok := docs[r.URL.Path+"?"+k+"="+vs[0]]; ok {
				writeJSON(w, doc)
				return
			}
		}
		if doc, ok := docs[r.URL.Path]; ok {
			writeJSON(w, doc)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		writeJSON(w, map[string]string{"error": r.URL.Path + " not found"})
	}))
	return f
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (f *fakeAPI) cookieOK(r *http.Request) bool {
	c, err := r.Cookie("ngic_session")
	return err == nil && c.Value == "s1"
}

func (f *fakeAPI) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !f.cookieOK(r) {
			w.WriteHeader(http.StatusUnauthorized)
			writeJSON(w, map[string]string{"error": "no session"})
			return
		}
		h(w, r)
	}
}

func (f *fakeAPI) sessionDoc(in bool) map[string]any {
	if !in {
		return map[string]any{"signed_in": false, "role": "", "token_name": "", "region": "", "csrf": ""}
	}
	return map[string]any{"signed_in": true, "role": f.role, "token_name": "operator", "region": "", "csrf": fakeCSRF}
}

func (f *fakeAPI) session(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, f.sessionDoc(f.cookieOK(r)))
	case http.MethodPost:
		var body struct{ Token string }
		if json.NewDecoder(r.Body).Decode(&body) != nil || body.Token != fakeToken {
			w.WriteHeader(http.StatusUnauthorized)
			writeJSON(w, map[string]string{"error": "bad token"})
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "ngic_session", Value: "s1", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		writeJSON(w, f.sessionDoc(true))
	case http.MethodDelete:
		if r.Header.Get("X-CSRF-Token") != fakeCSRF {
			w.WriteHeader(http.StatusForbidden)
			writeJSON(w, map[string]string{"error": "csrf"})
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "ngic_session", Value: "", Path: "/", MaxAge: -1})
		writeJSON(w, f.sessionDoc(false))
	}
}

func (f *fakeAPI) ack(w http.ResponseWriter, r *http.Request) {
	if !f.cookieOK(r) || r.Header.Get("X-CSRF-Token") != fakeCSRF {
		w.WriteHeader(http.StatusForbidden)
		writeJSON(w, map[string]string{"error": "csrf"})
		return
	}
	var body struct{ Note string }
	json.NewDecoder(r.Body).Decode(&body)
	id := r.PathValue("id")
	f.mu.Lock()
	f.acks = append(f.acks, id+":"+body.Note)
	f.mu.Unlock()
	a := fakeAlert(id, "olt-1", "firing")
	a["ack"] = map[string]any{"by": "operator", "at": fakeTime, "note": body.Note}
	writeJSON(w, a)
}

// acked returns the acknowledgements received ("ID:note").
func (f *fakeAPI) acked() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.acks...)
}

func (f *fakeAPI) events(w http.ResponseWriter, r *http.Request) {
	if !f.cookieOK(r) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	ch := make(chan string, 8)
	f.mu.Lock()
	f.streams = append(f.streams, ch)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case msg := <-ch:
			fmt.Fprint(w, msg)
			w.(http.Flusher).Flush()
		}
	}
}

// streamCount counts the event streams opened so far.
func (f *fakeAPI) streamCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.streams)
}

// push sends an event to every open stream.
func (f *fakeAPI) push(event string, data any) {
	b, _ := json.Marshal(data)
	msg := fmt.Sprintf("event: %s\ndata: %s\n\n", event, b)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ch := range f.streams {
		select {
		case ch <- msg:
		default:
		}
	}
}

func fakeAlert(id, device, state string) map[string]any {
	return map[string]any{"v": 1, "id": id, "rule": "device-down", "kind": "device-down", "severity": "critical",
		"state": state, "subject": map[string]any{"type": "device", "id": device, "site": "s-1"},
		"summary": device + " does not answer", "started": fakeTime, "updated": fakeTime}
}

func share(v int, hh int64, s float64) map[string]any {
	return map[string]any{"villages": v, "households": hh, "population": hh * 3, "share_households": s, "share_population": s}
}

func subset(hh int64, served, under float64) map[string]any {
	un := 1 - served - under
	return map[string]any{"villages": 10, "households": hh, "population": hh * 3,
		"tiers": []any{
			map[string]any{"name": "unserved", "villages": 3, "households": 30, "population": 90, "share_households": un, "share_population": un},
			map[string]any{"name": "underserved", "villages": 3, "households": 30, "population": 90, "share_households": under, "share_population": under},
			map[string]any{"name": "served", "villages": 4, "households": 40, "population": 120, "share_households": served, "share_population": served},
		},
		"measured": share(5, 50, .5), "declared": share(2, 20, .2), "override": share(1, 10, .1), "no_evidence": share(2, 20, .2),
		"digital_tv": share(6, 60, .6), "analogue_tv": share(1, 10, .1), "converged": share(3, 30, .3), "voice": share(5, 50, .5),
		"outage": share(1, 10, .1), "stale": share(0, 0, 0), "subscribers_online": 40.5, "next_gen_subscribers": 30,
		"next_gen_share": .74, "take_up": .405, "digital_progress": .857}
}

func region(code, name, level, parent string, lat, lon float64) map[string]any {
	return map[string]any{"code": code, "name": name, "level": level, "parent": parent, "villages": 10,
		"households": 12345, "population": 37035, "all": subset(12345, .4567, .3), "priority": subset(100, .1, .2),
		"children": 2, "lat": lat, "lon": lon, "bbox": []float64{lon - .5, lat - .5, lon + .5, lat + .5}}
}

func page(items ...any) map[string]any {
	if items == nil {
		items = []any{}
	}
	return map[string]any{"items": items, "next_cursor": nil, "total": len(items)}
}

// fakeDocs maps each GET path (a ServeMux pattern) to its document.
func fakeDocs() map[string]any {
	prov := region("630000000000", "青海示范省", "province", "", 36.5, 101.7)
	county := region("630100000000", "东川县", "county", "630000000000", 36.6, 101.8)
	town := region("630101000000", "河口镇", "township", "630100000000", 36.61, 101.78)
	withPath := func(r map[string]any, path ...any) map[string]any {
		c := map[string]any{}
		for k, v := range r {
			c[k] = v
		}
		c["path"] = path
		return c
	}
	step := func(r map[string]any) map[string]any {
		return map[string]any{"code": r["code"], "name": r["name"], "level": r["level"]}
	}
	village := map[string]any{"code": "630101001000", "name": "上庄村", "parent": "630101000000", "households": 400,
		"population": 1300, "lat": 36.621, "lon": 101.779, "priority": false, "broadband": "served", "tier": 2,
		"evidence": "measured", "down_mbps": 100, "up_mbps": 20, "technology": "gpon", "stale": false, "outage": false,
		"subscribers_online": 43, "next_gen_subscribers": 43, "take_up": .1075, "digital_tv": true, "tv": "digital",
		"tv_evidence": "measured", "voice": true, "voice_evidence": "measured", "converged": true, "network": "hekou-ftth"}
	withTrail := map[string]any{}
	for k, v := range village {
		withTrail[k] = v
	}
	withTrail["trail"] = []any{map[string]any{"service": "data", "source": "measured", "line": 2, "device": "olt-1",
		"port": "GPON0/2", "technology": "gpon", "figure": "onts_online", "value": 43, "unit": "subscribers",
		"down_mbps": 100, "up_mbps": 20, "class": "served", "polled_at": fakeTime, "state": "up", "used": true}}
	device := map[string]any{"id": "olt-1", "site": "s-1", "target": "127.0.0.1:161", "state": "up", "since": fakeTime,
		"class": "olt", "last_poll": fakeTime, "last_success": fakeTime, "polls": 10, "failures": 0}
	gateway := map[string]any{"name": "gw-1", "site": "s-1", "state": "online", "since": fakeTime, "last_seen": fakeTime,
		"tags_present": 2, "missing": 0, "readers": []any{map[string]any{"name": "r1", "protocol": "em4100"}}}
	site := map[string]any{"id": "s-1", "name": "河口镇端局", "region": "630101000000", "kind": "central office",
		"lat": 36.615, "lon": 101.78, "devices": 1, "devices_down": 0, "gateways": 1, "gateways_offline": 0,
		"device_list": []any{device}, "gateway_list": []any{gateway},
		"doors":    []any{map[string]any{"gateway": "gw-1", "sensor": "door-1", "state": "closed", "since": fakeTime, "seq": 3}},
		"passages": []any{}, "tags_present": 1,
		"readers": []any{map[string]any{"gateway": "gw-1", "reader": "r1", "tags": []any{
			map[string]any{"id": "E2000017", "protocol": "em4100", "first_seen": fakeTime, "time": fakeTime, "seq": 4}}}}}
	series := []any{}
	for i := range 5 {
		t := time.Date(2026, 11, 25+i, 0, 0, 0, 0, time.UTC)
		f := float64(i) / 10
		series = append(series, map[string]any{"time": t, "converged_share": .2 + f, "digital_tv_share": .4 + f,
			"digital_progress": .5 + f, "next_gen_share": .3 + f,
			"tiers": map[string]float64{"unserved": .5 - f, "underserved": .3, "served": .2 + f}})
	}
	mapOf := func(r map[string]any, points ...any) map[string]any {
		return map[string]any{"region": r["code"], "level": r["level"], "bbox": r["bbox"], "points": points}
	}
	regionPoint := map[string]any{"kind": "region", "code": "630100000000", "name": "东川县", "lat": 36.6, "lon": 101.8,
		"households": 12345, "class_shares": map[string]float64{"unserved": .25, "underserved": .3, "served": .45}}
	villagePoint := map[string]any{"kind": "village", "code": "630101001000", "name": "上庄村", "lat": 36.621,
		"lon": 101.779, "households": 400, "class": "served"}
	return map[string]any{
		"/api/v1/summary": map[string]any{"computed": fakeTime, "regions": []any{prov},
			"tiers":   []any{map[string]any{"name": "unserved", "down_mbps": 0, "up_mbps": 0}, map[string]any{"name": "underserved", "down_mbps": 25, "up_mbps": 3}, map[string]any{"name": "served", "down_mbps": 100, "up_mbps": 20}},
			"devices": map[string]int{"up": 1}, "gateways": map[string]int{"online": 1}, "alerts_open": 1},
		"/api/v1/regions":                     map[string]any{"items": []any{prov}},
		"/api/v1/regions/630000000000":        withPath(prov),
		"/api/v1/regions/630100000000":        withPath(county, step(prov)),
		"/api/v1/regions/630101000000":        withPath(town, step(prov), step(county)),
		"/api/v1/map":                         mapOf(prov, regionPoint),
		"/api/v1/map?region=630101000000":     mapOf(town, villagePoint),
		"/api/v1/regions?parent=630101000000": map[string]any{"items": []any{}},
		"/api/v1/regions?parent=630000000000": map[string]any{"items": []any{county}},
		"/api/v1/regions?parent=630100000000": map[string]any{"items": []any{town}},
		"/api/v1/convergence":                 map[string]any{"region": "", "series": series},
		"/api/v1/villages":                    page(village),
		"/api/v1/villages/630101001000":       withTrail,
		"/api/v1/gaps": page(map[string]any{"code": "630101001000", "name": "上庄村", "households": 400, "population": 1300,
			"priority": true, "broadband": "unserved", "evidence": "none", "nearest_site": "s-1",
			"nearest_site_name": "河口镇端局", "nearest_site_class": "served", "distance_km": 3.2}),
		"/api/v1/devices":       page(device),
		"/api/v1/devices/olt-1": device,
		"/api/v1/gateways":      page(gateway),
		"/api/v1/sites/s-1":     site,
		"/api/v1/alerts":        page(fakeAlert("a-1", "olt-1", "firing")),
		"/api/v1/boundaries": map[string]any{"type": "FeatureCollection", "features": []any{
			map[string]any{"type": "Feature", "properties": map[string]any{"code": "630100000000"},
				"geometry": map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{101.3, 36.2}, {102.2, 36.2}, {102.2, 37}, {101.3, 37}, {101.3, 36.2}}}}}}},
	}
}
