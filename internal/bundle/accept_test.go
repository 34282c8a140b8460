package bundle

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

func TestAcceptable(t *testing.T) {
	m := &Manifest{Name: "ngic-edge", Version: "1.2.0", OS: "linux", Arch: "arm", ARM: "7", MinVersion: "1.0.0",
		Files: []File{{Path: "a", Size: 1000}, {Path: "b", Size: 24}}}
	ok := Target{Name: "ngic-edge", Version: "1.1.0", OS: "linux", Arch: "arm", ARM: "7", FreeBytes: 1024}
	cases := []struct {
		name string
		edit func(*Target)
		want Reason
		msg  string
	}{
		{"accepted", func(*Target) {}, "", ""},
		{"downgrade", func(t *Target) { t.Version = "1.3.0" }, ReasonDowngrade, "bundle 1.2.0 is older than the running 1.3.0"},
		{"release after its pre-release", func(t *Target) { t.Version = "1.2.0-rc.1" }, "", ""},
		{"same", func(t *Target) { t.Version = "v1.2.0" }, ReasonSameVersion, "is the running version"},
		{"arch", func(t *Target) { t.Arch = "arm64"; t.ARM = "" }, ReasonOtherPlatform, "linux/arm, this is linux/arm64"},
		{"os", func(t *Target) { t.OS = "darwin" }, ReasonOtherPlatform, "this is darwin/arm"},
		{"goarm 6", func(t *Target) { t.ARM = "6" }, ReasonOtherPlatform, "needs GOARM 7"},
		{"goarm unknown", func(t *Target) { t.ARM = "" }, ReasonOtherPlatform, "needs GOARM 7"},
		{"too large", func(t *Target) { t.FreeBytes = 1023 }, ReasonTooLarge, "need 1024 bytes, 1023 are free"},
		{"below minimum", func(t *Target) { t.Version = "0.9.5" }, ReasonBelowMinimum, "replaces 1.0.0 or newer, this runs 0.9.5"},
		{"other product", func(t *Target) { t.Name = "ngic-fwtool" }, ReasonOtherProduct, `bundle is "ngic-edge"`},
		{"bad running version", func(t *Target) { t.Version = "dev" }, ReasonBadTarget, "running version"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := ok
			c.edit(&tg)
			err := Acceptable(m, tg)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var re *RefusedError
			if !errors.As(err, &re) || re.Reason != c.want || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("err = %v, want %s with %q", err, c.want, c.msg)
			}
		})
	}
}

func TestVersionCompare(t *testing.T) {
	// Each is older than the next (semver.org's precedence example).
	order := []string{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
		"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0"}
	for i := range order {
		for j := range order {
			a, err := ParseVersion(order[i])
			if err != nil {
				t.Fatal(err)
			}
			b, _ := ParseVersion(order[j])
			want := cmpInt(uint64(i), uint64(j))
			if got := a.Compare(b); got != want {
				t.Errorf("%s vs %s: %d, want %d", order[i], order[j], got, want)
			}
		}
	}
	a, _ := ParseVersion("1.0.0+build.5")
	b, _ := ParseVersion("v1.0.0")
	if a.Compare(b) != 0 {
		t.Error("build metadata counted")
	}
	for _, bad := range []string{"", "1", "1.2", "01.2.3", "1.2.3-", "1.2.3-01", "1.2.3-a..b", "1.2.3+", "1.2.x", "1.2.3.4", "-1.2.3"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestRunning(t *testing.T) {
	tg, err := Running("ngic-edge", "1.0.0", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if tg.OS != runtime.GOOS || tg.Arch != runtime.GOARCH || tg.FreeBytes == 0 {
		t.Fatalf("%+v", tg)
	}
	if _, err := Running("x", "1.0.0", "does/not/exist"); err == nil || !strings.Contains(err.Error(), "free space of does/not/exist") {
		t.Fatalf("err = %v", err)
	}
}
