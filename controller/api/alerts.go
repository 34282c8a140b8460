package api

import (
	"net/http"
	"strings"
	"time"
)

func (s *Server) alerts(w http.ResponseWriter, r *http.Request) {
	st := r.URL.Query().Get("state")
	p, ok := pageOf(w, r)
	if !ok || !oneOf(w, "state", st, "", "open", "recent") {
		return
	}
	v := s.visible(r)
	all := s.src.Alerts(st == "recent")
	writeJSON(w, http.StatusOK, collect(p, len(all), func(i int) bool { return v.alert(all[i]) },
		func(i int) string { return all[i].ID }, item(all)))
}

// MaxNote bounds an acknowledgement's note.
const MaxNote = 1000

func (s *Server) ack(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Note string `json:"note"`
	}
	if !s.decodeBody(w, r, &body, true) {
		return
	}
	if len(body.Note) > MaxNote {
		writeError(w, http.StatusBadRequest, "the note is longer than %d bytes", MaxNote)
		return
	}
	id := r.PathValue("id")
	v := s.visible(r)
	visible := false
	for _, a := range s.src.Alerts(true) {
		if a.ID == id {
			visible = v.alert(a)
			break
		}
	}
	if !visible {
		for _, a := range s.src.Alerts(false) {
			if a.ID == id {
				visible = v.alert(a)
				break
			}
		}
	}
	if !visible {
		writeError(w, http.StatusNotFound, "no alert %q", id)
		return
	}
	a, err := s.src.Acknowledge(id, callerOf(r).p.name, body.Note)
	if err != nil {
		writeSourceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) maintenance(w http.ResponseWriter, r *http.Request) {
	out := []Window{}
	v := s.visible(r)
	for _, win := range s.src.Maintenance() {
		if v.all || s.windowVisible(v, win) {
			out = append(out, win)
		}
	}
	writeJSON(w, http.StatusOK, itemsDoc[Window]{Items: out})
}

// windowVisible reports whether a window's subject stands at a visible
// site.
func (s *Server) windowVisible(v visibility, win Window) bool {
	typ, id := subjectParts(win.Subject)
	switch typ {
	case "site":
		return v.site(id)
	case "device":
		dv, ok := s.src.Device(id)
		return ok && v.site(dv.Site)
	case "gateway":
		for _, g := range s.src.Gateways() {
			if g.Name == id {
				return v.site(g.Site)
			}
		}
	}
	return false
}

// subjectParts splits "type:id".
func subjectParts(subject string) (typ, id string) {
	typ, id, _ = strings.Cut(subject, ":")
	return typ, id
}

// MaxReason bounds a window's reason.
const MaxReason = 1000

func (s *Server) addWindow(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Subject string    `json:"subject"`
		Start   time.Time `json:"start"`
		End     time.Time `json:"end"`
		Reason  string    `json:"reason"`
	}
	if !s.decodeBody(w, r, &body, false) {
		return
	}
	switch {
	case body.Start.IsZero() || body.End.IsZero():
		writeError(w, http.StatusBadRequest, "start and end are needed (RFC 3339)")
		return
	case !body.End.After(body.Start):
		writeError(w, http.StatusBadRequest, "end is not after start")
		return
	case len(body.Reason) > MaxReason:
		writeError(w, http.StatusBadRequest, "the reason is longer than %d bytes", MaxReason)
		return
	}
	win := Window{Subject: body.Subject, Start: body.Start, End: body.End, Reason: body.Reason}
	if v := s.visible(r); !v.all && !s.windowVisible(v, win) {
		writeError(w, http.StatusNotFound, "no subject %q in this token's region", body.Subject)
		return
	}
	win, err := s.src.AddMaintenance(win)
	if err != nil {
		writeSourceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, win)
}

func (s *Server) removeWindow(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	v := s.visible(r)
	found := false
	for _, win := range s.src.Maintenance() {
		if win.ID == id {
			found = v.all || s.windowVisible(v, win)
		}
	}
	if !found {
		writeError(w, http.StatusNotFound, "no maintenance window %q", id)
		return
	}
	if err := s.src.RemoveMaintenance(id); err != nil {
		writeSourceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, okDoc{OK: true})
}

// okDoc is the answer of an action that returns nothing else.
type okDoc struct {
	OK bool `json:"ok"`
}

func (s *Server) reload(w http.ResponseWriter, r *http.Request) {
	if callerOf(r).p.region != "" {
		writeError(w, http.StatusForbidden, "a token limited to a region cannot reload the inventory")
		return
	}
	if err := s.src.Reload(); err != nil {
		writeSourceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, okDoc{OK: true})
}
