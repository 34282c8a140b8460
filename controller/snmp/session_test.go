package snmp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/ngic/ngic/internal/testenv"
)

// ifTable is IF-MIB::ifTable.
const ifTable = "1.3.6.1.2.1.2.2"

// walkRecordings are recordings that hold an ifTable.
var walkRecordings = []string{"motorola_sb5101e", "cisco_c2950-ios", "zte_c320", "huawei_ma5603t", "netsnmp_linux-full-walk"}

// plainBulkWalk is the reference: gosnmp's own BulkWalkAll.
func plainBulkWalk(t *testing.T, port int, community, root string) []gosnmp.SnmpPDU {
	t.Helper()
	g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(port), Version: gosnmp.Version2c, Community: community,
		Timeout: 5 * time.Second, Retries: 1, Context: context.Background(), MaxRepetitions: 10}
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	defer g.Conn.Close()
	r, err := g.BulkWalkAll(root)
	if err != nil {
		t.Fatalf("reference walk %s: %v", community, err)
	}
	return r
}

func dialT(t testing.TB, cfg Config) *Session {
	t.Helper()
	s, err := Dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestV2cWalkMatchesBulkWalkAll(t *testing.T) {
	sim := testenv.StartSnmpsim(t, testenv.Recordings(t), walkRecordings...)
	for _, rec := range walkRecordings {
		t.Run(rec, func(t *testing.T) {
			want := plainBulkWalk(t, sim.Port, rec, ifTable)
			if len(want) == 0 {
				t.Fatalf("recording %s has no ifTable", rec)
			}
			// Small MaxRepetitions and MaxOIDsPerRequest force many requests.
			s := dialT(t, Config{Target: sim.Addr, Version: "2c", Community: rec, MaxRepetitions: 7, Timeout: 5 * time.Second})
			objs, warns, err := s.Walk(context.Background(), []string{ifTable})
			if err != nil {
				t.Fatal(err)
			}
			if len(warns) != 0 {
				t.Fatalf("warnings: %v", warns)
			}
			comparePDUs(t, objs[ifTable], want)
		})
	}
}

func comparePDUs(t *testing.T, got, want []gosnmp.SnmpPDU) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d objects, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Name != want[i].Name || got[i].Type != want[i].Type || fmt.Sprint(got[i].Value) != fmt.Sprint(want[i].Value) {
			t.Fatalf("object %d: got %s %v %v, want %s %v %v", i, got[i].Name, got[i].Type, got[i].Value, want[i].Name, want[i].Type, want[i].Value)
		}
	}
}

func TestV2cWalkSeveralColumnsPerRequest(t *testing.T) {
	const rec = "cisco_c2950-ios"
	sim := testenv.StartSnmpsim(t, testenv.Recordings(t), rec)
	cols := []string{"1.3.6.1.2.1.2.2.1.2", ".1.3.6.1.2.1.2.2.1.3", "1.3.6.1.2.1.2.2.1.10", "1.3.6.1.2.1.31.1.1.1.6", "1.3.6.1.2.1.99999"}
	s := dialT(t, Config{Target: sim.Addr, Version: "2c", Community: rec, MaxOIDsPerRequest: 2, MaxRepetitions: 5})
	objs, warns, err := s.Walk(context.Background(), cols)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Fatalf("warnings: %v", warns)
	}
	for _, c := range cols {
		want := plainBulkWalk(t, sim.Port, rec, normOID(c))
		comparePDUs(t, objs[c], want)
	}
	if len(objs["1.3.6.1.2.1.99999"]) != 0 {
		t.Fatalf("absent root returned objects")
	}
}

func TestV2cGet(t *testing.T) {
	recs := []string{"motorola_sb5101e", "zte_c320"}
	sim := testenv.StartSnmpsim(t, testenv.Recordings(t), recs...)
	for _, rec := range recs {
		// Many OIDs in batches of 3, one absent.
		oids := []string{"1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.1.99.0", "1.3.6.1.2.1.1.5.0"}
		s := dialT(t, Config{Target: sim.Addr, Version: "2c", Community: rec, MaxOIDsPerRequest: 3})
		got, err := s.Get(context.Background(), oids)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(oids) {
			t.Fatalf("%s: %d results for %d OIDs", rec, len(got), len(oids))
		}
		for i, o := range oids {
			if got[i].Name != normOID(o) {
				t.Fatalf("%s: result %d is %s, want %s", rec, i, got[i].Name, normOID(o))
			}
		}
		if got[3].Type != gosnmp.NoSuchObject && got[3].Type != gosnmp.NoSuchInstance {
			t.Fatalf("%s: absent object has type %v", rec, got[3].Type)
		}
		if got[2].Type != gosnmp.TimeTicks {
			t.Fatalf("%s: sysUpTime has type %v", rec, got[2].Type)
		}
	}
}

func TestUnknownCommunityTimesOut(t *testing.T) {
	sim := testenv.StartSnmpsim(t, testenv.Recordings(t), "motorola_sb5101e")
	s := dialT(t, Config{Target: sim.Addr, Version: "2c", Community: "no-such-community", Timeout: 300 * time.Millisecond, Retries: -1})
	_, err := s.Get(context.Background(), []string{"1.3.6.1.2.1.1.1.0"})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	// One line, the package prefix once, the target left to the caller.
	if strings.Contains(err.Error(), sim.Addr) || strings.Count(err.Error(), "snmp: ") != 1 || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error %q: want one line, \"snmp: \" once, no target", err)
	}
	if errors.Is(err, ErrRefused) {
		t.Fatalf("silence classified as refused: %v", err)
	}
	_, _, err = s.Walk(context.Background(), []string{ifTable})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("walk err = %v, want ErrTimeout", err)
	}
}

func TestRefusedPort(t *testing.T) {
	// Nothing listens on UDP port 1 of the loopback: ICMP port unreachable.
	s := dialT(t, Config{Target: "127.0.0.1:1", Version: "2c", Community: "public", Timeout: 2 * time.Second, Retries: 1})
	_, err := s.Get(context.Background(), []string{"1.3.6.1.2.1.1.1.0"})
	if !errors.Is(err, ErrRefused) || !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrRefused (and ErrTimeout)", err)
	}
	if !strings.Contains(err.Error(), "refused") || strings.Contains(err.Error(), "no answer") {
		t.Fatalf("error %q should say refused, not no answer", err)
	}
}
