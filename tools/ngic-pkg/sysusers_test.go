package main

import (
	"os"
	"strings"
	"testing"
)

// sysusersSample is a sysusers.d file of two services.
const sysusersSample = `# header
u ngic-edge       - "ngic edge gateway" /var/lib/ngic-edge
u ngic-controller - "ngic controller"   /var/lib/ngic-controller
m ngic-edge dialout
m ngic-edge gpio
`

func TestSplitSysusers(t *testing.T) {
	for _, tc := range []struct {
		user, home, groups, lines string
	}{
		{"ngic-edge", "/var/lib/ngic-edge", "dialout gpio",
			"u ngic-edge       - \"ngic edge gateway\" /var/lib/ngic-edge\nm ngic-edge dialout\nm ngic-edge gpio\n"},
		{"ngic-controller", "/var/lib/ngic-controller", "",
			"u ngic-controller - \"ngic controller\"   /var/lib/ngic-controller\n"},
	} {
		u, err := splitSysusers([]byte(sysusersSample), "ngic.sysusers", tc.user)
		if err != nil {
			t.Fatal(err)
		}
		if u.Home != tc.home || strings.Join(u.Groups, " ") != tc.groups {
			t.Errorf("%s: home %q groups %v", tc.user, u.Home, u.Groups)
		}
		_, body, _ := strings.Cut(string(u.Conf), "\n")
		if !strings.HasPrefix(string(u.Conf), "# ") || body != tc.lines {
			t.Errorf("%s: conf\n%s\nwant a comment line, then\n%s", tc.user, u.Conf, tc.lines)
		}
	}
	for _, bad := range []string{
		"m ngic-edge dialout\n",                // no u line
		"u ngic-edge - \"unterminated\n",       // quote
		"g ngic-edge -\n",                      // type not handled
		"u ngic-edge -\nu ngic-edge -\n",       // twice
		"u ngic-edge - - /home\nm ngic-edge\n", // m without a group
		"u\n",                                  // no name
	} {
		if _, err := splitSysusers([]byte(bad), "f", "ngic-edge"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestShippedSysusers splits the shipped file for each service the
// packages install.
func TestShippedSysusers(t *testing.T) {
	b, err := os.ReadFile("../../" + sysusersFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		if s.Service == nil {
			continue
		}
		if _, err := splitSysusers(b, "ngic.sysusers", s.Service.User); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
		if _, err := maintainerScripts(s, sysUser{Home: "-"}); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
	}
}

// FuzzSplitSysusers: any file either fails or yields a user whose file
// holds only its own lines.
func FuzzSplitSysusers(f *testing.F) {
	f.Add([]byte(sysusersSample))
	f.Add([]byte("u ngic-edge\t-\t\"a b\"\n"))
	f.Add([]byte("u ngic-edge - \""))
	f.Fuzz(func(t *testing.T, conf []byte) {
		u, err := splitSysusers(conf, "f", "ngic-edge")
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(u.Conf), "\n")[1:] {
			if line == "" {
				continue
			}
			fs, err := sysusersFields(strings.TrimSpace(line))
			if err != nil || len(fs) < 2 || fs[1] != "ngic-edge" {
				t.Fatalf("line %q of %q", line, u.Conf)
			}
		}
	})
}
