package influx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// A buffer record is the lines of one Write (or of BatchLines of them),
// compressed once, when they are written, so that the buffer holds some
// 40 times fewer bytes and a request is the records' bytes put end to end:
// a gzip stream may be several members one after the other, and InfluxDB
// (Go's gzip reader) reads them as one. Lines are thus never copied
// between the spool and the request, nor compressed again on a retry.
//
//	0x01, uvarint lines, one gzip member (BestSpeed) of the lines
//	0x02, uvarint lines, the lines as they are (NoGzip)
//
// A record that starts with neither (a buffer written before records had a
// header) is plain lines.
const (
	recGzip  = 0x01
	recPlain = 0x02
)

// maxRecordLines bounds the line count a record may claim (every line
// takes at least one byte).
const maxRecordLines = 1 << 40

// errBadRecord is wrapped by decodeRecord's errors.
var errBadRecord = errors.New("influx: buffer record unreadable")

// record is a decoded buffer record.
type record struct {
	gzip  bool   // payload is a gzip member
	lines int    // lines it holds
	data  []byte // the gzip member or the lines
}

// decodeRecord reads a buffer record. It checks the header only: a gzip
// member is not opened (InfluxDB reads it).
func decodeRecord(b []byte) (record, error) {
	if len(b) == 0 {
		return record{}, fmt.Errorf("%w: empty", errBadRecord)
	}
	switch b[0] {
	case recGzip, recPlain:
	default:
		return record{lines: bytes.Count(b, []byte{'\n'}), data: b}, nil // plain lines, no header
	}
	n, k := binary.Uvarint(b[1:])
	switch {
	case k <= 0:
		return record{}, fmt.Errorf("%w: bad line count", errBadRecord)
	case n == 0 || n > maxRecordLines:
		return record{}, fmt.Errorf("%w: line count %d", errBadRecord, n)
	case len(b) == 1+k:
		return record{}, fmt.Errorf("%w: no data", errBadRecord)
	}
	r := record{gzip: b[0] == recGzip, lines: int(n), data: b[1+k:]}
	if r.gzip && (len(r.data) < 18 || r.data[0] != 0x1f || r.data[1] != 0x8b) {
		return record{}, fmt.Errorf("%w: not a gzip member", errBadRecord)
	}
	return r, nil
}

// compressors keeps gzip writers at BestSpeed for reuse: the client
// library's own gzip (UseGZip) makes a new one at the default level for
// every request, through a pipe and a goroutine, at more than twice the
// CPU per line. A writer holds some 800 KiB: they are kept here rather than
// in a sync.Pool, which every garbage collection empties.
var compressors = make(chan *gzip.Writer, 4)

// appendGzip appends one gzip member of p to dst.
func appendGzip(dst, p []byte) []byte {
	buf := bytes.NewBuffer(dst)
	var zw *gzip.Writer
	select {
	case zw = <-compressors:
		zw.Reset(buf)
	default:
		zw, _ = gzip.NewWriterLevel(buf, gzip.BestSpeed) // a valid level: no error
	}
	// Writes to a bytes.Buffer do not fail.
	_, _ = zw.Write(p)
	_ = zw.Close()
	zw.Reset(io.Discard)
	select {
	case compressors <- zw:
	default:
	}
	return buf.Bytes()
}

// encodeRecord returns a new buffer record holding lines (n of them).
func encodeRecord(lines []byte, n int, compress bool) []byte {
	if !compress {
		b := make([]byte, 0, 1+binary.MaxVarintLen64+len(lines))
		b = binary.AppendUvarint(append(b, recPlain), uint64(n))
		return append(b, lines...)
	}
	b := make([]byte, 0, 64+len(lines)/16)
	b = binary.AppendUvarint(append(b, recGzip), uint64(n))
	return appendGzip(b, lines)
}

// appendBody appends the request body of recs to dst: their gzip members
// and plain records compressed when gz, or their lines as they are.
func appendBody(dst []byte, recs []batch, gz bool) []byte {
	for _, r := range recs {
		switch {
		case r.gzip == gz:
			dst = append(dst, r.data...)
		case gz:
			dst = appendGzip(dst, r.data)
		}
	}
	return dst
}
