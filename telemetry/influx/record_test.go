package influx

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ngic/ngic/internal/spool"
)

// recordTable is buffer records byte by byte, with what they decode to.
var recordTable = []struct {
	name  string
	b     []byte
	lines int
	gzip  bool
	ok    bool
}{
	{"plain, no header (an older buffer)", []byte("m f=1i 1\nm f=2i 2\n"), 2, false, true},
	{"plain with header", []byte{
		0x02,                                         // plain
		0x01,                                         // uvarint: 1 line
		'm', ' ', 'f', '=', '1', 'i', ' ', '1', '\n', // the line
	}, 1, false, true},
	{"gzip", append([]byte{
		0x01, // gzip
		0x02, // uvarint: 2 lines
	}, appendGzip(nil, []byte("m f=1i 1\nm f=2i 2\n"))...), 2, true, true},
	{"empty", []byte{}, 0, false, false},
	{"header only", []byte{0x01}, 0, false, false},
	{"unterminated uvarint", []byte{0x02, 0x80}, 0, false, false},
	{"zero lines", []byte{0x02, 0x00, 'm', '\n'}, 0, false, false},
	{"no data", []byte{0x02, 0x01}, 0, false, false},
	{"gzip header missing", []byte{0x01, 0x01, 'm', ' ', 'f', '=', '1', 'i', ' ', '1', '\n', 0, 0, 0, 0, 0, 0, 0, 0}, 0, false, false},
	{"too many lines", []byte{0x02, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 'm', '\n'}, 0, false, false},
}

func TestDecodeRecord(t *testing.T) {
	for _, c := range recordTable {
		r, err := decodeRecord(c.b)
		if (err == nil) != c.ok || (err == nil && (r.lines != c.lines || r.gzip != c.gzip)) {
			t.Errorf("%s: %+v, %v; want %d lines, gzip %v, ok %v", c.name, r, err, c.lines, c.gzip, c.ok)
		}
	}
}

// TestEncodeRecord: what encodeRecord writes decodes to the same lines.
func TestEncodeRecord(t *testing.T) {
	lines := pollLines(t, nil, 0, 3)
	for _, gz := range []bool{false, true} {
		r, err := decodeRecord(encodeRecord(lines, 3, gz))
		if err != nil || r.lines != 3 || r.gzip != gz {
			t.Fatalf("gzip %v: %+v, %v", gz, r, err)
		}
		if got := gunzipIf(t, r.data, gz); !bytes.Equal(got, lines) {
			t.Fatalf("gzip %v: %q, want %q", gz, got, lines)
		}
	}
}

func gunzipIf(t testing.TB, b []byte, gz bool) []byte {
	t.Helper()
	if !gz {
		return b
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzDecodeRecord: any bytes read back from the buffer decode or fail
// cleanly, and a decoded record claims lines it could hold.
func FuzzDecodeRecord(f *testing.F) {
	for _, c := range recordTable {
		f.Add(c.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			return
		}
		if r.lines < 0 || (r.gzip || b[0] == recPlain) && (r.lines == 0 || len(r.data) == 0) {
			t.Fatalf("%x: %+v", b, r)
		}
	})
}

// TestMixedBuffer: a buffer holding plain records without a header (as an
// older writer left them), gzip records and plain records with a header
// is sent oldest first, in gzip requests unless NoGzip is set and no
// record is gzipped; an unreadable record is set aside, counted lost.
func TestMixedBuffer(t *testing.T) {
	var mu sync.Mutex
	var got bytes.Buffer
	var encodings []string
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		enc := r.Header.Get("Content-Encoding")
		mu.Lock()
		got.Write(gunzipIf(t, b, enc == "gzip"))
		encodings = append(encodings, enc)
		mu.Unlock()
		rw.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	for _, c := range []struct {
		noGzip, gzipped bool // the writer's option, how a record was written
		enc             string
	}{{false, true, "gzip"}, {true, false, ""}, {true, true, "gzip"}} {
		noGzip := c.noGzip
		mu.Lock()
		got.Reset()
		encodings = nil
		mu.Unlock()
		path := filepath.Join(t.TempDir(), "influx.spool")
		sp, err := spool.Open(path, spool.Options{})
		if err != nil {
			t.Fatal(err)
		}
		l0, l1, l2 := pollLines(t, nil, 0, 2), pollLines(t, nil, 2, 2), pollLines(t, nil, 4, 2)
		recs := [][]byte{l0, {0x02, 0x80}, encodeRecord(l1, 2, c.gzipped), encodeRecord(l2, 2, false)}
		if _, err := sp.Append(recs...); err != nil {
			t.Fatal(err)
		}
		sp.Close()
		w := start(t, Options{URL: srv.URL, Bucket: "b", BufferPath: path, NoGzip: noGzip, FlushInterval: 10 * time.Millisecond})
		drained(t, w, 10*time.Second)
		st := w.Stats()
		mu.Lock()
		want := append(append(append([]byte{}, l0...), l1...), l2...)
		if !bytes.Equal(got.Bytes(), want) || st.Written != 6 || st.Lost[spool.ReasonUnreadable] != 1 {
			t.Errorf("NoGzip %v: received %q (stats %+v); want %q and one record unreadable", noGzip, got.Bytes(), st, want)
		}
		for _, e := range encodings {
			if e != c.enc {
				t.Errorf("NoGzip %v: Content-Encoding %q", noGzip, e)
			}
		}
		mu.Unlock()
	}
}
