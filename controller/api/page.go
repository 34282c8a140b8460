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

// pageReq is a request's page: where it starts, how long it is, and the
// key of the item before it (the last of the previous page).
type pageReq struct {
	off, limit int
	after      string
}

// cursorPrefix marks the cursors of this version of the API: "c2:OFFSET:KEY"
// in base64url, KEY being the identifier of the previous page's last item.
const cursorPrefix = "c2:"

// maxOffset bounds a cursor's offset (so that offset and limit never
// overflow).
const maxOffset = 1 << 31

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
		off, after, err := decodeCursor(c)
		if err != nil {
			writeError(w, http.StatusBadRequest, "cursor %q is not one this API gave", c)
			return p, false
		}
		p.off, p.after = off, after
	}
	return p, true
}

// decodeCursor reads a cursor made by encodeCursor.
func decodeCursor(c string) (int, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", err
	}
	s, ok := strings.CutPrefix(string(b), cursorPrefix)
	if !ok {
		return 0, "", errors.New("not a cursor")
	}
	num, key, ok := strings.Cut(s, ":")
	n, err := strconv.Atoi(num)
	if !ok || err != nil || n < 1 || n > maxOffset || key == "" {
		return 0, "", errors.New("not a cursor")
	}
	return n, key, nil
}

// encodeCursor makes the cursor of the page starting at off, after the
// item of key.
func encodeCursor(off int, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.Itoa(off) + ":" + key))
}

// collect makes the page of the items 0..n-1 that keep keeps, each made
// by conv (only those on the page are) and known by key. A page asked
// with a cursor starts after the item the cursor names, wherever it
// stands now: items inserted or removed before it neither repeat nor skip
// one. When that item is gone, the page starts at the cursor's offset.
func collect[U any](p pageReq, n int, keep func(i int) bool, key func(i int) string, conv func(i int) U) pageDoc[U] {
	d, before := pageFrom(p, p.off, n, keep, key, conv)
	if p.after != "" && before != p.after { // the list changed before the page
		if k, found := position(n, keep, key, p.after); found {
			d, _ = pageFrom(p, k+1, n, keep, key, conv)
		}
	}
	return d
}

// pageFrom makes the page starting at the kept item of rank start, and
// returns the key of the item before it ("" at the first).
func pageFrom[U any](p pageReq, start, n int, keep func(i int) bool, key func(i int) string,
	conv func(i int) U) (pageDoc[U], string) {
	items := []U{}
	total, last, before := 0, "", ""
	for i := range n {
		if !keep(i) {
			continue
		}
		switch {
		case total == start-1:
			before = key(i)
		case total >= start && total < start+p.limit:
			items = append(items, conv(i))
			last = key(i)
		}
		total++
	}
	d := pageDoc[U]{Items: items, Total: total}
	if start+p.limit < total {
		c := encodeCursor(start+p.limit, last)
		d.NextCursor = &c
	}
	return d, before
}

// position returns the rank among the kept items of the one known by want.
func position(n int, keep func(i int) bool, key func(i int) string, want string) (int, bool) {
	k := 0
	for i := range n {
		if !keep(i) {
			continue
		}
		if key(i) == want {
			return k, true
		}
		k++
	}
	return 0, false
}

// item returns the function giving all[i], for collect.
func item[T any](all []T) func(int) T { return func(i int) T { return all[i] } }
