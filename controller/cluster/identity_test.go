package cluster

import "testing"

func TestParseShard(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Shard
		ok   bool
	}{
		{"0/1", Shard{0, 1}, true},
		{"2/3", Shard{2, 3}, true},
		{"3/3", Shard{}, false},
		{"-1/3", Shard{}, false},
		{"1/0", Shard{}, false},
		{"1", Shard{}, false},
		{"a/3", Shard{}, false},
		{"1/2000", Shard{}, false},
	} {
		got, err := ParseShard(c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("ParseShard(%q) = %v, %v; want %v, ok %v", c.in, got, err, c.want, c.ok)
		}
		if c.ok && got.String() != c.in {
			t.Errorf("%v spelled %q, read from %q", got, got.String(), c.in)
		}
	}
}

func TestOrdinalFromHostname(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"ngic-controller-0", 0, true},
		{"ngic-controller-12", 12, true},
		{"ngic-controller-2.ngic-controller.ngic.svc.cluster.local", 2, true},
		{"ngic-controller", 0, false},
		{"controller-", 0, false},
		{"-3", 0, false},
		{"ngic-controller-01", 0, false},
		{"ngic-controller-+1", 0, false},
		{"ngic-controller-5000", 0, false},
	} {
		got, err := OrdinalFromHostname(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("OrdinalFromHostname(%q) = %d, %v; want %d, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestIdentify(t *testing.T) {
	if sh, err := Identify("1/4", 3, "x-2"); err != nil || sh != (Shard{1, 4}) {
		t.Fatalf("the shard flag wins over the hostname: %v, %v", sh, err)
	}
	if sh, err := Identify("", 3, "ngic-controller-2"); err != nil || sh != (Shard{2, 3}) {
		t.Fatalf("from the hostname: %v, %v", sh, err)
	}
	if _, err := Identify("", 3, "ngic-controller-3"); err == nil {
		t.Fatal("ordinal 3 of 3 replicas accepted")
	}
	if _, err := Identify("", 3, "laptop"); err == nil {
		t.Fatal("a hostname without an ordinal accepted")
	}
}

// TestShardUser: each connection of each replica has a user name of its
// own, derived from the configured one; no configured user, no user.
func TestShardUser(t *testing.T) {
	seen := map[string]bool{"ngic-controller": true}
	for i := range 12 {
		sh := Shard{Ordinal: i, Replicas: 12}
		for _, conn := range []string{"", ConnMembers, ConnState} {
			u := sh.User("ngic-controller", conn)
			if seen[u] {
				t.Errorf("replica %d, connection %q: user %q given twice", i, conn, u)
			}
			seen[u] = true
			if sh.User("", conn) != "" {
				t.Errorf("replica %d, connection %q: a user without a configured one", i, conn)
			}
		}
	}
	if got := (Shard{Ordinal: 2, Replicas: 3}).User("ngic-controller", ConnState); got != "ngic-controller-2-state" {
		t.Errorf("replica 2's state connection: %q, want ngic-controller-2-state (the shipped ACL's name)", got)
	}
}
