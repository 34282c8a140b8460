// Package brokerurl checks and shows MQTT broker URLs: the schemes paho
// accepts, which of them use TLS, and user information (credentials) that
// must never be in a URL nor shown.
//
// Its errors name the URL (never its user information) and are meant to be
// wrapped by the caller, which names the setting or option at fault.
package brokerurl

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Schemes of broker URLs, by whether they use TLS.
var (
	plainSchemes = []string{"tcp", "mqtt", "ws"}
	tlsSchemes   = []string{"ssl", "tls", "mqtts", "wss"}
)

// Check checks a broker URL: a known scheme, a host, no credentials
// in it, and TLS settings only for a TLS scheme (withTLS tells whether any
// are given). Its errors never contain the URL's user information.
func Check(broker string, withTLS bool) error {
	if HasUserinfo(broker) {
		return fmt.Errorf("broker URL %s carries credentials (user:password@); give the username and password separately",
			Redact(broker))
	}
	u, err := url.Parse(broker)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("broker URL %q: %v", broker, err)
	}
	var isTLS bool
	switch {
	case slices.Contains(plainSchemes, u.Scheme):
	case slices.Contains(tlsSchemes, u.Scheme):
		isTLS = true
	default:
		return fmt.Errorf("broker URL %q: scheme %q is not one of %s", broker, u.Scheme,
			strings.Join(slices.Concat(plainSchemes, tlsSchemes), ", "))
	}
	if u.Host == "" {
		return fmt.Errorf("broker URL %q has no host", broker)
	}
	if withTLS && !isTLS {
		return fmt.Errorf("broker URL %q is plaintext (%s://) but TLS settings are given: they would be ignored and everything sent in the clear; use %s",
			broker, u.Scheme, strings.Join(tlsSchemes, "://, ")+"://")
	}
	return nil
}

// IsTLS tells whether a broker URL's scheme uses TLS.
func IsTLS(broker string) bool {
	scheme, _, ok := strings.Cut(broker, "://")
	return ok && slices.Contains(tlsSchemes, strings.ToLower(scheme))
}

// authority returns where the authority (user info, host and port) of a
// URL starts and ends in s, or ok false when s has no "scheme://".
func authority(s string) (start, end int, ok bool) {
	i := strings.Index(s, "://")
	if i < 0 {
		return 0, 0, false
	}
	start = i + 3
	end = len(s)
	if j := strings.IndexAny(s[start:], "/?#"); j >= 0 {
		end = start + j
	}
	return start, end, true
}

// HasUserinfo tells whether a URL (parsable or not) carries user
// information (user@ or user:password@) before its host.
func HasUserinfo(s string) bool {
	start, end, ok := authority(s)
	return ok && strings.Contains(s[start:end], "@")
}

// Redact returns the URL s with any user information replaced by "REDACTED@",
// for showing a URL in logs, errors and status pages. It works on text that
// does not parse as a URL too.
func Redact(s string) string {
	start, end, ok := authority(s)
	if !ok {
		return s
	}
	at := strings.LastIndex(s[start:end], "@")
	if at < 0 {
		return s
	}
	return s[:start] + "REDACTED@" + s[start+at+1:]
}
