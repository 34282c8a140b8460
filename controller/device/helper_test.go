package device

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"

	"github.com/ngic/ngic/internal/testenv"
)

// readSnmprec parses an snmpsim recording (OID|type|value per line) into
// PDUs. Lines whose value does not decode (invalid hex) are skipped and
// counted, as snmpsim itself cannot serve them.
func readSnmprec(t testing.TB, path string) (pdus []gosnmp.SnmpPDU, bad int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		p, err := parseSnmprecLine(sc.Text())
		if err != nil {
			bad++
			continue
		}
		pdus = append(pdus, p)
	}
	return pdus, bad
}

func parseSnmprecLine(line string) (gosnmp.SnmpPDU, error) {
	parts := strings.SplitN(line, "|", 3)
	if len(parts) != 3 {
		return gosnmp.SnmpPDU{}, fmt.Errorf("not OID|type|value")
	}
	oid, typ, val := normOID(parts[0]), parts[1], parts[2]
	p := gosnmp.SnmpPDU{Name: "." + oid}
	hexed := strings.HasSuffix(typ, "x")
	typ = strings.TrimSuffix(strings.TrimSuffix(typ, "x"), "e")
	raw := []byte(val)
	if hexed {
		b, err := hex.DecodeString(val)
		if err != nil {
			return p, err
		}
		raw = b
	}
	num := func() (uint64, error) { return strconv.ParseUint(string(raw), 10, 64) }
	switch typ {
	case "2":
		v, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return p, err
		}
		p.Type, p.Value = gosnmp.Integer, int(v)
	case "4":
		p.Type, p.Value = gosnmp.OctetString, raw
	case "5":
		p.Type, p.Value = gosnmp.Null, nil
	case "6":
		p.Type, p.Value = gosnmp.ObjectIdentifier, "."+normOID(string(raw))
	case "64":
		p.Type, p.Value = gosnmp.IPAddress, string(raw)
	case "65", "66", "67", "70":
		v, err := num()
		if err != nil {
			return p, err
		}
		switch typ {
		case "65":
			p.Type, p.Value = gosnmp.Counter32, uint(v)
		case "66":
			p.Type, p.Value = gosnmp.Gauge32, uint(v)
		case "67":
			p.Type, p.Value = gosnmp.TimeTicks, uint32(v)
		default:
			p.Type, p.Value = gosnmp.Counter64, v
		}
	default:
		return p, fmt.Errorf("type %q", typ)
	}
	return p, nil
}

// fakeClient answers from a list of PDUs, like an agent holding them.
type fakeClient struct {
	target string
	objs   map[string]gosnmp.SnmpPDU
	sorted []string
	walks  [][]string
	err    error
}

func newFakeClient(target string, pdus []gosnmp.SnmpPDU) *fakeClient {
	c := &fakeClient{target: target, objs: map[string]gosnmp.SnmpPDU{}}
	for _, p := range pdus {
		k := normOID(p.Name)
		if _, dup := c.objs[k]; !dup {
			c.sorted = append(c.sorted, k)
		}
		c.objs[k] = p
	}
	sortOIDs(c.sorted)
	return c
}

func (c *fakeClient) Target() string { return c.target }

func (c *fakeClient) Get(_ context.Context, oids []string) ([]gosnmp.SnmpPDU, error) {
	if c.err != nil {
		return nil, c.err
	}
	out := make([]gosnmp.SnmpPDU, len(oids))
	for i, o := range oids {
		if p, ok := c.objs[normOID(o)]; ok {
			out[i] = p
		} else {
			out[i] = gosnmp.SnmpPDU{Name: "." + normOID(o), Type: gosnmp.NoSuchObject}
		}
	}
	return out, nil
}

func (c *fakeClient) Walk(_ context.Context, roots []string) (map[string][]gosnmp.SnmpPDU, []error, error) {
	if c.err != nil {
		return nil, nil, c.err
	}
	c.walks = append(c.walks, roots)
	out := map[string][]gosnmp.SnmpPDU{}
	for _, r := range roots {
		pre := normOID(r) + "."
		for _, k := range c.sorted {
			if strings.HasPrefix(k, pre) {
				out[r] = append(out[r], c.objs[k])
			}
		}
	}
	return out, nil, nil
}

// recordingsDir returns the folder of real recordings (testenv.Recordings).
func recordingsDir(t testing.TB) string {
	t.Helper()
	return testenv.Recordings(t)
}

// recordingNames lists the recordings (file names without .snmprec).
func recordingNames(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.snmprec"))
	if err != nil || len(m) == 0 {
		t.Fatalf("no recordings in %s", dir)
	}
	var out []string
	for _, f := range m {
		out = append(out, strings.TrimSuffix(filepath.Base(f), ".snmprec"))
	}
	return out
}
