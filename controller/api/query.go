package api

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxParamLength bounds a query parameter's value.
const MaxParamLength = 256

// checkQuery answers 400, naming the parameter, a query that does not
// parse, a parameter the route does not take (a misspelt filter would
// otherwise be ignored and list everything), one given twice, and a
// value too long, not UTF-8 or holding control characters.
func checkQuery(params []string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery == "" {
			h(w, r)
			return
		}
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			writeError(w, http.StatusBadRequest, "the query does not parse: %v", err)
			return
		}
		for k, vs := range q {
			switch {
			case !slices.Contains(params, k):
				takes := "no parameter"
				if len(params) > 0 {
					takes = strings.Join(params, ", ")
				}
				writeError(w, http.StatusBadRequest, "parameter %q is not one of %s (it takes %s)", k, r.URL.Path, takes)
				return
			case len(vs) > 1:
				writeError(w, http.StatusBadRequest, "parameter %s is given %d times", k, len(vs))
				return
			case len(vs[0]) > MaxParamLength:
				writeError(w, http.StatusBadRequest, "parameter %s is longer than %d bytes", k, MaxParamLength)
				return
			case !utf8.ValidString(vs[0]) || strings.ContainsFunc(vs[0], unicode.IsControl):
				writeError(w, http.StatusBadRequest, "parameter %s holds control characters or is not UTF-8", k)
				return
			}
		}
		h(w, r)
	}
}
