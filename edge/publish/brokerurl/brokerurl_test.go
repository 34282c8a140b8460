package brokerurl

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"tcp://h:1883", "tcp://h:1883"},
		{"tcp://user:pass@h:1883", "tcp://REDACTED@h:1883"},
		{"ssl://user@h:8883/x?y#z", "ssl://REDACTED@h:8883/x?REDACTED"},
		{"tcp://us@er:p@ss@h:1883", "tcp://REDACTED@h:1883"}, // the last @ ends the user information
		{"tcp://u:p%zz@h:1883", "tcp://REDACTED@h:1883"},     // not a valid URL
		{"TCP://u:p@[::1]:1883", "TCP://REDACTED@[::1]:1883"},
		{" tcp://u:p w@h:1883", " tcp://REDACTED@h:1883"},
		// A password holding '/', '?' or '#' ends the authority early.
		{"tcp://u:pa/ss@h:1883", "tcp://REDACTED@h:1883"},
		{"tcp://u:1234/ss@h:1883", "tcp://REDACTED@h:1883"},
		{"tcp://u:pa?ss@h:1883", "tcp://REDACTED@h:1883"},
		{"tcp://u:pa#ss@h:1883", "tcp://REDACTED@h:1883"},
		{"tcp:u:pass@h:1883", "REDACTED@h:1883"}, // no "://": all before the last @
		{"u:pass@h:1883", "REDACTED@h:1883"},
		{"ws://h:80/mqtt?password=pass", "ws://h:80/mqtt?REDACTED"},
		{"ws://h:80/mqtt#pass", "ws://h:80/mqtt?REDACTED"},
		{"embedded", "embedded"},
		{"", ""},
	} {
		got := Redact(tc.in)
		if got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if HasUserinfo(tc.in) != strings.Contains(tc.in, "@") {
			t.Errorf("HasUserinfo(%q) = %v", tc.in, HasUserinfo(tc.in))
		}
		if strings.Contains(got, "pass") {
			t.Errorf("Redact(%q) = %q shows the secret", tc.in, got)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		url     string
		withTLS bool
		want    string // "" when valid
	}{
		{"tcp://h:1883", false, ""},
		{"mqtt://h:1883", false, ""},
		{"ws://h:80/mqtt", false, ""},
		{"ssl://h:8883", true, ""},
		{"TLS://h:8883", true, ""},
		{"mqtts://h:8883", false, ""}, // TLS with the system's roots
		{"wss://h/mqtt", true, ""},
		{"tcp://h:1883", true, "plaintext"},
		{"mqtt://h:1883", true, "plaintext"},
		{"ws://h:80", true, "plaintext"},
		{"tcp://u:s3cr3t@h:1883", false, "credentials"},
		{"tcp://u:s3cr3t%zz@h:1883", false, "credentials"},
		{"tcp://:s3cr3t@h:1883", false, "credentials"},
		{"TCP://u:s3cr3t@h:1883", false, "credentials"},
		{"tcp://u:s3cr3t@[::1]:1883", false, "credentials"},
		{"tcp://u:s3 cr3t@h:1883", false, "credentials"},
		// A '/', '?' or '#' in the password ends the authority: its '@'
		// lands in the path, and the rest parses (or fails) as a host.
		{"tcp://u:s3cr3t/x@h:1883", false, "credentials"},
		{"tcp://u:1234/s3cr3t@h:1883", false, "credentials"},
		{"tcp://u:s3cr3t?x@h:1883", false, "credentials"},
		{"tcp://u:s3cr3t#x@h:1883", false, "credentials"},
		{"tcp:u:s3cr3t@h:1883", false, "credentials"},
		{"ws://h:80/mqtt?password=s3cr3t", false, "query"},
		{"tcp://h:1883#s3cr3t", false, "query"},
		{"http://h:80", false, "scheme"},
		{"h:1883", false, "scheme"},
		{"tcp://", false, "no host"},
		{"tcp://h:port", false, "invalid port"},
	} {
		err := Check(tc.url, tc.withTLS)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Check(%q, %v): %v", tc.url, tc.withTLS, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Check(%q, %v) = %v, want %q", tc.url, tc.withTLS, err, tc.want)
		case err != nil && strings.Contains(err.Error(), "s3cr3t"):
			t.Errorf("Check(%q): the secret is in the error: %v", tc.url, err)
		}
	}
	for u, want := range map[string]bool{"ssl://h": true, "TLS://h": true, "mqtts://h": true, "wss://h": true,
		"tcp://h": false, "mqtt://h": false, "ws://h": false, "embedded": false} {
		if IsTLS(u) != want {
			t.Errorf("IsTLS(%q) = %v", u, !want)
		}
	}
}
