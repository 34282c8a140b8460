package api

import (
	"net/http"
	"strings"

	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/report"
)

// reportTypes are the content types of the report formats.
var reportTypes = map[report.Format]string{
	report.FormatJSON:    "application/json",
	report.FormatCSV:     "text/csv; charset=utf-8",
	report.FormatGeoJSON: "application/geo+json",
	report.FormatHTML:    "text/html; charset=utf-8",
}

func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	name, ok := strings.CutPrefix(file, "coverage.")
	f, err := report.ParseFormat(name)
	if !ok || err != nil || reportTypes[f] == "" || string(f) != name { // the names exactly: one file, one name
		writeError(w, http.StatusNotFound, "no report %q: coverage.json, .csv, .geojson or .html", file)
		return
	}
	ix, root, ok := s.regionScope(w, r)
	if !ok {
		return
	}
	defer ix.release()
	res := ix.subtree(root)
	opts := report.Options{Source: "the controller's coverage computed at " + res.Computed.UTC().Format(timeFormat)}
	w.Header().Set("Content-Type", reportTypes[f])
	w.Header().Set("Content-Disposition", `attachment; filename="`+file+`"`)
	tw := &trackWriter{w: w}
	if err := report.Write(tw, f, res, opts); err != nil && !tw.wrote {
		w.Header().Del("Content-Disposition")
		writeError(w, http.StatusServiceUnavailable, "report: %v", err)
	} // an error once written cuts the answer short: the client sees it incomplete
}

// trackWriter streams a report (a nation's is hundreds of megabytes) and
// tells whether anything was written.
type trackWriter struct {
	w     http.ResponseWriter
	wrote bool
}

func (t *trackWriter) Write(p []byte) (int, error) {
	t.wrote = t.wrote || len(p) > 0
	return t.w.Write(p)
}

// subtree returns the result restricted to root's subtree ("" for all):
// its regions (root included), villages and gaps.
func (ix *index) subtree(root string) *coverage.Result {
	if root == "" {
		return ix.res
	}
	res := &coverage.Result{Computed: ix.res.Computed, Tiers: ix.res.Tiers}
	for i := range ix.res.Regions {
		if ix.within(ix.res.Regions[i].Code, root) {
			res.Regions = append(res.Regions, ix.res.Regions[i])
		}
	}
	span := ix.villageSpan(root)
	in := make(map[int32]bool, len(span))
	for _, v := range span {
		in[v] = true
	}
	for i := range ix.res.Villages {
		if in[int32(i)] {
			res.Villages = append(res.Villages, ix.res.Villages[i])
		}
	}
	for i := range ix.res.Gaps {
		if ix.inSpan(ix.gapVillage[i], root) {
			res.Gaps = append(res.Gaps, ix.res.Gaps[i])
		}
	}
	return res
}
