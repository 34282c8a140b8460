package testenv

import "testing"

func TestStatusKB(t *testing.T) {
	hwm, err := StatusKB("VmHWM")
	if err != nil || hwm <= 0 {
		t.Fatalf("VmHWM %v kB, %v", hwm, err)
	}
	if rss, err := StatusKB("VmRSS"); err != nil || rss <= 0 {
		t.Fatalf("VmRSS %v kB, %v", rss, err)
	}
	if _, err := StatusKB("NoSuchField"); err == nil {
		t.Fatal("a field /proc/self/status lacks: no error")
	}
	if _, err := StatusKB("Name"); err == nil {
		t.Fatal("a field not in kB: no error")
	}
}

func TestCPUTime(t *testing.T) {
	u0, s0 := CPUTime()
	x := 0
	for i := range 50_000_000 {
		x ^= i
	}
	u1, s1 := CPUTime()
	if u1+s1 <= u0+s0 || u1 < u0 || s1 < s0 {
		t.Fatalf("CPU time %v+%v then %v+%v after work (%d)", u0, s0, u1, s1, x)
	}
}
