package snmp

import (
	"strings"
	"testing"
	"time"
)

func TestCounterDelta(t *testing.T) {
	const max32 = 1<<32 - 1
	cases := []struct {
		name      string
		prev, cur uint64
		bits      int
		want      uint64
		ok        bool
	}{
		{"32 grows", 100, 250, 32, 150, true},
		{"32 unchanged", 7, 7, 32, 0, true},
		{"32 wraps once", max32 - 9, 5, 32, 15, true},
		{"32 wraps from max to 0", max32, 0, 32, 1, true},
		{"32 value too big", 1 << 32, 5, 32, 0, false},
		{"64 grows", 1 << 40, 1<<40 + 12345, 64, 12345, true},
		{"64 goes back: reset, not wrap", 1 << 40, 10, 64, 0, false},
		{"bad width", 1, 2, 16, 0, false},
	}
	for _, c := range cases {
		got, ok := CounterDelta(c.prev, c.cur, c.bits)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: CounterDelta(%d, %d, %d) = %d, %v; want %d, %v", c.name, c.prev, c.cur, c.bits, got, ok, c.want, c.ok)
		}
	}
}

func TestDiscontinuity(t *testing.T) {
	cases := []struct {
		name                             string
		prevUp, curUp, prevDisc, curDisc uint32
		skip                             bool
	}{
		{"steady", 1000, 7000, 0, 0, false},
		{"agent rebooted", 900000, 300, 0, 0, true},
		{"counters reset on interface", 1000, 7000, 0, 6500, true},
		{"discontinuity unchanged", 1000, 7000, 500, 500, false},
	}
	for _, c := range cases {
		if got := Discontinuity(c.prevUp, c.curUp, c.prevDisc, c.curDisc); got != c.skip {
			t.Errorf("%s: Discontinuity = %v, want %v", c.name, got, c.skip)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{Target: "192.0.2.1", Version: "2c", Community: "public"}
	c := good
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Timeout != 2*time.Second || c.Retries != 1 || c.MaxRepetitions != 25 || c.MaxCallsPerWalk != 2000 || c.MaxOIDsPerRequest != 20 {
		t.Fatalf("defaults not filled: %+v", c)
	}
	c = good
	c.MaxRepetitions = 500
	if err := c.Validate(); err != nil || c.MaxRepetitions != 100 {
		t.Fatalf("MaxRepetitions not bounded: %v %d", err, c.MaxRepetitions)
	}
	v3 := func(v V3) Config { return Config{Target: "192.0.2.1:1161", Version: "3", V3: v} }
	bad := []struct {
		cfg  Config
		want string
	}{
		{Config{Version: "2c", Community: "x"}, "Target"},
		{Config{Target: "192.0.2.1:notaport", Version: "2c", Community: "x"}, "port"},
		{Config{Target: "192.0.2.1", Version: "2"}, "Version"},
		{Config{Target: "192.0.2.1", Version: "2c"}, "Community"},
		{v3(V3{}), "V3.User"},
		{v3(V3{User: "u", AuthProto: "SHA-999", AuthPass: "12345678"}), "V3.AuthProto"},
		{v3(V3{User: "u", AuthProto: "SHA-256", AuthPass: "short"}), "V3.AuthPass"},
		{v3(V3{User: "u", AuthProto: "SHA-256", AuthPass: "12345678", PrivProto: "AES-512", PrivPass: "12345678"}), "V3.PrivProto"},
		{v3(V3{User: "u", PrivProto: "AES", PrivPass: "12345678"}), "V3.AuthProto"},
		{v3(V3{User: "u", AuthProto: "SHA-256", AuthPass: "12345678", PrivProto: "AES"}), "V3.PrivPass"},
		{Config{Target: "192.0.2.1", Version: "2c", Community: "x", Timeout: -1}, "Timeout"},
		// gosnmp allocates 4 bytes per retry for every request: 2^31-1
		// retries took 8 GB for a poll of a healthy agent.
		{Config{Target: "192.0.2.1", Version: "2c", Community: "x", Retries: MaxRetries + 1}, "Retries"},
		{Config{Target: "192.0.2.1", Version: "2c", Community: "x", Retries: 1<<31 - 1}, "Retries"},
	}
	for _, b := range bad {
		err := b.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), b.want) || !strings.HasPrefix(err.Error(), "snmp: ") {
			t.Errorf("Validate(%+v) = %v, want an error naming %s", b.cfg, err, b.want)
		}
	}
	for _, p := range []string{"sha256", "SHA-512", "md5", "SHA"} {
		c := v3(V3{User: "u", AuthProto: p, AuthPass: "12345678", PrivProto: "aes256c", PrivPass: "12345678"})
		if err := c.Validate(); err != nil {
			t.Errorf("protocol %s: %v", p, err)
		}
	}
}
