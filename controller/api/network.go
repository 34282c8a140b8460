package api

import (
	"net/http"
	"time"

	"github.com/ngic/ngic/controller/alerts"
	"github.com/ngic/ngic/controller/ingest"
	"github.com/ngic/ngic/controller/inventory"
	"github.com/ngic/ngic/controller/poller"
	"github.com/ngic/ngic/telemetry"
)

// visibility tells what a request's token may see: everything, or the
// sites in its region's subtree (and what stands at them).
type visibility struct {
	all   bool
	sites map[string]bool
}

func (s *Server) visibility(r *http.Request, ix *index) visibility {
	limit := callerOf(r).p.region
	if limit == "" {
		return visibility{all: true}
	}
	v := visibility{sites: map[string]bool{}}
	if ix == nil {
		return v
	}
	for _, st := range s.src.Sites() {
		if ix.within(st.Region, limit) {
			v.sites[st.ID] = true
		}
	}
	return v
}

// site reports whether the site id is visible.
func (v visibility) site(id string) bool { return v.all || v.sites[id] }

// alert reports whether an alert's subject is visible.
func (v visibility) alert(a telemetry.Alert) bool {
	site := a.Subject.Site
	if a.Subject.Type == alerts.SubjectSite {
		site = a.Subject.ID
	}
	return v.site(site)
}

// siteDoc is a site of the inventory with its devices' and gateways'
// counts.
type siteDoc struct {
	ID              string  `json:"id"`
	Name            string  `json:"name"`
	Region          string  `json:"region"`
	Kind            string  `json:"kind"`
	Lat             float64 `json:"lat"`
	Lon             float64 `json:"lon"`
	Devices         int     `json:"devices"`
	DevicesDown     int     `json:"devices_down"`
	Gateways        int     `json:"gateways"`
	GatewaysOffline int     `json:"gateways_offline"`
}

// siteCounts counts each site's devices and gateways.
func (s *Server) siteCounts() map[string]*siteDoc {
	m := map[string]*siteDoc{}
	at := func(id string) *siteDoc {
		d := m[id]
		if d == nil {
			d = &siteDoc{}
			m[id] = d
		}
		return d
	}
	for _, dv := range s.src.Devices() {
		d := at(dv.Site)
		d.Devices++
		if dv.State == poller.StateDown || dv.State == poller.StateAuthFailed {
			d.DevicesDown++
		}
	}
	for _, g := range s.src.Gateways() {
		d := at(g.Site)
		d.Gateways++
		if g.State == ingest.StateOffline {
			d.GatewaysOffline++
		}
	}
	return m
}

func newSiteDoc(st inventory.Site, counts map[string]*siteDoc) siteDoc {
	d := siteDoc{}
	if c := counts[st.ID]; c != nil {
		d = *c
	}
	d.ID, d.Name, d.Region, d.Kind, d.Lat, d.Lon = st.ID, st.Name, st.Region, st.Kind, st.Lat, st.Lon
	return d
}

func (s *Server) sites(w http.ResponseWriter, r *http.Request) {
	ix := s.acquireIndex()
	defer ix.release()
	root := callerOf(r).p.region
	if asked := r.URL.Query().Get("region"); asked != "" {
		if ix == nil {
			writeNoIndex(w)
			return
		}
		var ok bool
		if root, ok = s.scope(w, r, ix, asked); !ok {
			return
		}
	}
	p, ok := pageOf(w, r)
	if !ok {
		return
	}
	counts := s.siteCounts()
	all := s.src.Sites()
	keep := func(i int) bool { return root == "" || (ix != nil && ix.within(all[i].Region, root)) }
	conv := func(i int) siteDoc { return newSiteDoc(all[i], counts) }
	writeJSON(w, http.StatusOK, collect(p, len(all), keep, func(i int) string { return all[i].ID }, conv))
}

// siteDetail is a site with what stands and happens there.
type siteDetail struct {
	siteDoc
	DeviceList  []Device              `json:"device_list"`
	GatewayList []gatewayDoc          `json:"gateway_list"`
	Doors       []ingest.DoorState    `json:"doors"`
	Passages    []ingest.PassageState `json:"passages"`
	Readers     []readerDoc           `json:"readers"`
	TagsPresent int                   `json:"tags_present"`
}

// readerDoc is the tags present on one reader.
type readerDoc struct {
	Gateway string              `json:"gateway"`
	Reader  string              `json:"reader"`
	Tags    []ingest.PresentTag `json:"tags"`
}

func (s *Server) site(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	v := s.visible(r)
	var found *inventory.Site
	for _, st := range s.src.Sites() {
		if st.ID == id {
			found = &st
			break
		}
	}
	if found == nil || !v.site(id) {
		writeError(w, http.StatusNotFound, "no site %q", id)
		return
	}
	d := siteDetail{siteDoc: newSiteDoc(*found, s.siteCounts()), DeviceList: []Device{}, GatewayList: []gatewayDoc{},
		Doors: []ingest.DoorState{}, Passages: []ingest.PassageState{}, Readers: []readerDoc{}}
	for _, dv := range s.src.Devices() {
		if dv.Site == id {
			d.DeviceList = append(d.DeviceList, dv)
		}
	}
	for _, g := range s.src.Gateways() {
		if g.Site == id {
			d.GatewayList = append(d.GatewayList, newGatewayDoc(g, false))
		}
	}
	for _, ss := range s.src.SiteStates() {
		if ss.Site != id {
			continue
		}
		d.Doors = append(d.Doors, ss.Doors...)
		d.Passages = append(d.Passages, ss.Passages...)
		for _, rd := range ss.Readers {
			tags := rd.Tags
			if tags == nil {
				tags = []ingest.PresentTag{}
			}
			d.Readers = append(d.Readers, readerDoc{Gateway: rd.Gateway, Reader: rd.Reader, Tags: tags})
			d.TagsPresent += len(rd.Tags)
		}
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) devices(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	site, state, class := q.Get("site"), q.Get("state"), q.Get("class")
	p, ok := pageOf(w, r)
	if !ok || !oneOf(w, "state", state, "", string(poller.StateUp), string(poller.StateDown),
		string(poller.StateAuthFailed), string(poller.StateUnknown)) {
		return
	}
	v := s.visible(r)
	all := s.src.Devices()
	keep := func(i int) bool {
		dv := &all[i]
		return v.site(dv.Site) && (site == "" || dv.Site == site) && (state == "" || string(dv.State) == state) &&
			(class == "" || dv.Class == class)
	}
	writeJSON(w, http.StatusOK, collect(p, len(all), keep, func(i int) string { return all[i].ID }, item(all)))
}

func (s *Server) device(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	dv, ok := s.src.Device(id)
	if !ok || !s.visible(r).site(dv.Site) {
		writeError(w, http.StatusNotFound, "no device %q", id)
		return
	}
	writeJSON(w, http.StatusOK, dv)
}

// gatewayDoc is a gateway's state; lists carry its readers too (a few
// each), the gateway itself adds sensors, health and counts.
type gatewayDoc struct {
	Name        string                 `json:"name"`
	Site        string                 `json:"site"`
	State       string                 `json:"state"`
	Cause       string                 `json:"cause,omitempty"`
	Since       time.Time              `json:"since"`
	LastSeen    time.Time              `json:"last_seen"`
	Version     string                 `json:"version,omitempty"`
	TagsPresent int                    `json:"tags_present"`
	Missing     uint64                 `json:"missing"`
	Readers     []telemetry.ReaderInfo `json:"readers,omitempty"`
	Sensors     []telemetry.SensorInfo `json:"sensors,omitempty"`
	Health      *telemetry.Health      `json:"health,omitempty"`
	Counts      *ingest.Counts         `json:"counts,omitempty"`
}

func newGatewayDoc(g ingest.GatewayState, full bool) gatewayDoc {
	d := gatewayDoc{Name: g.Name, Site: g.Site, State: g.State, Cause: g.Cause, Since: g.Since, LastSeen: g.LastSeen,
		Version: g.Version, TagsPresent: g.TagsPresent, Missing: g.Missing, Readers: g.Readers}
	if full {
		c := g.Counts
		d.Sensors, d.Health, d.Counts = g.Sensors, g.Health, &c
	}
	return d
}

func (s *Server) gateways(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	site, state := q.Get("site"), q.Get("state")
	p, ok := pageOf(w, r)
	if !ok || !oneOf(w, "state", state, "", ingest.StateOnline, ingest.StateOffline, ingest.StateUnknown) {
		return
	}
	v := s.visible(r)
	all := s.src.Gateways()
	keep := func(i int) bool {
		g := &all[i]
		return v.site(g.Site) && (site == "" || g.Site == site) && (state == "" || g.State == state)
	}
	conv := func(i int) gatewayDoc { return newGatewayDoc(all[i], false) }
	writeJSON(w, http.StatusOK, collect(p, len(all), keep, func(i int) string { return all[i].Name }, conv))
}

func (s *Server) gateway(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	v := s.visible(r)
	for _, g := range s.src.Gateways() {
		if g.Name == name && v.site(g.Site) {
			writeJSON(w, http.StatusOK, newGatewayDoc(g, true))
			return
		}
	}
	writeError(w, http.StatusNotFound, "no gateway %q", name)
}
