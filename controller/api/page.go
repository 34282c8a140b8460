package api

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// pageDoc is a page of a list.
type pageDoc[T any] struct {
	Items []T `json:"items"`
	// NextCursor is the cursor of the next page, nil on the last.
	NextCursor *string `json:"next_cursor"`
	// Total counts the items matching the filters over every page.
	Total int `json:"total"`
}

// pageReq is a request's page: where it starts and how long it is.
type pageReq struct{ off, limit int }

// cursorPrefix marks the cursors of this version of the API.
const cursorPrefix = "o1:"

// pageOf reads limit and cursor; a bad one answers 400.
func pageOf(w http.ResponseWriter, r *http.Request) (pageReq, bool) {
	p := pageReq{limit: DefaultLimit}
	q := r.URL.Query()
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			writeError(w, http.StatusBadRequest, "limit %q is not within 1..%d", s, MaxLimit)
			return p, false
		}
		p.limit = n
	}
	if c := q.Get("cursor"); c != "" {
		off, err := decodeCursor(c)
		if err != nil {
			writeError(w, http.StatusBadRequest, "cursor %q is not one this API gave", c)
			return p, false
		}
		p.off = off
	}
	return p, true
}

// decodeCursor reads a cursor made by encodeCursor.
func decodeCursor(c string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, err
	}
	s, ok := strings.CutPrefix(string(b), cursorPrefix)
	if !ok {
		return 0, errors.New("not a cursor")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, errors.New("not a cursor")
	}
	return n, nil
}

// encodeCursor makes the cursor of the page starting at off.
func encodeCursor(off int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.Itoa(off)))
}

// takes reports whether the k-th matching item (from 0) is on the page.
func (p pageReq) takes(k int) bool { return k >= p.off && k < p.off+p.limit }

// finish makes the page of items (those taken) among total matches.
func finish[T any](p pageReq, items []T, total int) pageDoc[T] {
	if items == nil {
		items = []T{}
	}
	d := pageDoc[T]{Items: items, Total: total}
	if p.off+p.limit < total {
		c := encodeCursor(p.off + p.limit)
		d.NextCursor = &c
	}
	return d
}

// paginate returns the page of a whole list.
func paginate[T any](p pageReq, all []T) pageDoc[T] {
	lo, hi := min(p.off, len(all)), min(p.off+p.limit, len(all))
	return finish(p, all[lo:hi:hi], len(all))
}

// collect makes the page of the items 0..n-1 that keep keeps, each made
// by conv (only those on the page are).
func collect[U any](p pageReq, n int, keep func(i int) bool, conv func(i int) U) pageDoc[U] {
	var items []U
	total := 0
	for i := range n {
		if !keep(i) {
			continue
		}
		if p.takes(total) {
			items = append(items, conv(i))
		}
		total++
	}
	return finish(p, items, total)
}

// item returns the function giving all[i], for collect.
func item[T any](all []T) func(int) T { return func(i int) T { return all[i] } }
