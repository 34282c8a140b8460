package snmp

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"
)

// Defaults applied by Validate to zero fields of a Config.
const (
	DefaultTimeout           = 2 * time.Second
	DefaultRetries           = 1
	MaxRetries               = 10
	DefaultMaxRepetitions    = 25
	MaxMaxRepetitions        = 100
	DefaultMaxCallsPerWalk   = 2000
	DefaultMaxOIDsPerRequest = 20
	DefaultMaxRowsPerRoot    = 65536
	DefaultMaxBytesPerWalk   = 64 << 20
	DefaultPort              = 161
)

// V3 holds the SNMPv3 user-based security settings of a device.
type V3 struct {
	// User is the USM user name; required for version "3".
	User string
	// AuthProto is "", "MD5", "SHA", "SHA-224", "SHA-256", "SHA-384" or
	// "SHA-512". Empty means noAuthNoPriv.
	AuthProto string
	// AuthPass is the authentication passphrase (at least 8 characters).
	AuthPass string
	// PrivProto is "", "DES", "AES", "AES-192", "AES-256", "AES-192-C" or
	// "AES-256-C" (the Reeder key extension). Empty means no privacy.
	PrivProto string
	// PrivPass is the privacy passphrase (at least 8 characters).
	PrivPass string
	// ContextName is the SNMPv3 context, usually empty.
	ContextName string
}

// Config says how to reach one device.
type Config struct {
	// Target is host:port; the port defaults to 161.
	Target string
	// Version is "1", "2c" or "3".
	Version string
	// Community is the v1/v2c community.
	Community string
	// V3 holds the v3 security settings.
	V3 V3
	// Timeout bounds one request (default 2s).
	Timeout time.Duration
	// Retries is how many times a request is resent after a timeout
	// (default 1, at most MaxRetries; a negative value means none). gosnmp
	// allocates per request in proportion to it, so it is bounded.
	Retries int
	// MaxRepetitions is the GETBULK max-repetitions (default 25, at most 100).
	MaxRepetitions uint32
	// MaxCallsPerWalk caps the requests one Walk call sends (default 2000).
	MaxCallsPerWalk int
	// MaxOIDsPerRequest caps the OIDs of one GET and the columns of one
	// GETBULK or GETNEXT (default 20).
	MaxOIDsPerRequest int
	// MaxRowsPerRoot caps the objects one Walk keeps per root (default
	// 65536): for a column root that is the table's rows. A root that
	// reaches it is cut with a truncation warning.
	MaxRowsPerRoot int
	// MaxBytesPerWalk caps the memory the objects one Walk keeps may take
	// (names, values and their bookkeeping, estimated; default 64 MiB), so
	// that an agent answering endless tables of long values cannot exhaust
	// the poller's memory before the row bound. Reaching it cuts every
	// unfinished root with a truncation warning.
	MaxBytesPerWalk int64
}

var authProtos = map[string]gosnmp.SnmpV3AuthProtocol{
	"": gosnmp.NoAuth, "MD5": gosnmp.MD5, "SHA": gosnmp.SHA, "SHA-224": gosnmp.SHA224,
	"SHA-256": gosnmp.SHA256, "SHA-384": gosnmp.SHA384, "SHA-512": gosnmp.SHA512,
}

var privProtos = map[string]gosnmp.SnmpV3PrivProtocol{
	"": gosnmp.NoPriv, "DES": gosnmp.DES, "AES": gosnmp.AES, "AES-192": gosnmp.AES192,
	"AES-256": gosnmp.AES256, "AES-192-C": gosnmp.AES192C, "AES-256-C": gosnmp.AES256C,
}

// normProto upper-cases a protocol name and accepts "SHA256" for "SHA-256".
func normProto(p string) string {
	p = strings.ToUpper(strings.TrimSpace(p))
	switch p {
	case "SHA1":
		return "SHA"
	case "SHA224", "SHA256", "SHA384", "SHA512":
		return p[:3] + "-" + p[3:]
	case "AES128":
		return "AES"
	case "AES192", "AES256":
		return p[:3] + "-" + p[3:]
	case "AES192C", "AES256C":
		return p[:3] + "-" + p[3:6] + "-C"
	}
	return p
}

// Validate fills defaults into zero fields and reports the first wrong
// field by name.
func (c *Config) Validate() error {
	if c.Target == "" {
		return fmt.Errorf("snmp: config: Target is empty")
	}
	if _, _, err := splitTarget(c.Target); err != nil {
		return fmt.Errorf("snmp: config: Target %q: %w", c.Target, err)
	}
	switch c.Version {
	case "1", "2c":
		if c.Community == "" {
			return fmt.Errorf("snmp: config %s: Community is empty for version %s", c.Target, c.Version)
		}
	case "3":
		if c.V3.User == "" {
			return fmt.Errorf("snmp: config %s: V3.User is empty", c.Target)
		}
		a, ok := authProtos[normProto(c.V3.AuthProto)]
		if !ok {
			return fmt.Errorf("snmp: config %s: V3.AuthProto %q is not one of MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512", c.Target, c.V3.AuthProto)
		}
		p, ok := privProtos[normProto(c.V3.PrivProto)]
		if !ok {
			return fmt.Errorf("snmp: config %s: V3.PrivProto %q is not one of DES, AES, AES-192, AES-256, AES-192-C, AES-256-C", c.Target, c.V3.PrivProto)
		}
		if a != gosnmp.NoAuth && len(c.V3.AuthPass) < 8 {
			return fmt.Errorf("snmp: config %s: V3.AuthPass must have at least 8 characters", c.Target)
		}
		if p != gosnmp.NoPriv {
			if a == gosnmp.NoAuth {
				return fmt.Errorf("snmp: config %s: V3.PrivProto %q needs a V3.AuthProto", c.Target, c.V3.PrivProto)
			}
			if len(c.V3.PrivPass) < 8 {
				return fmt.Errorf("snmp: config %s: V3.PrivPass must have at least 8 characters", c.Target)
			}
		}
	case "":
		return fmt.Errorf("snmp: config %s: Version is empty (want 1, 2c or 3)", c.Target)
	default:
		return fmt.Errorf("snmp: config %s: Version %q is not 1, 2c or 3", c.Target, c.Version)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("snmp: config %s: Timeout %v is negative", c.Target, c.Timeout)
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Retries > MaxRetries {
		return fmt.Errorf("snmp: config %s: Retries %d is above %d", c.Target, c.Retries, MaxRetries)
	}
	if c.Retries == 0 {
		c.Retries = DefaultRetries
	} else if c.Retries < 0 {
		c.Retries = 0
	}
	if c.MaxRepetitions == 0 {
		c.MaxRepetitions = DefaultMaxRepetitions
	}
	if c.MaxRepetitions > MaxMaxRepetitions {
		c.MaxRepetitions = MaxMaxRepetitions
	}
	if c.MaxCallsPerWalk < 0 {
		return fmt.Errorf("snmp: config %s: MaxCallsPerWalk %d is negative", c.Target, c.MaxCallsPerWalk)
	}
	if c.MaxCallsPerWalk == 0 {
		c.MaxCallsPerWalk = DefaultMaxCallsPerWalk
	}
	if c.MaxOIDsPerRequest < 0 {
		return fmt.Errorf("snmp: config %s: MaxOIDsPerRequest %d is negative", c.Target, c.MaxOIDsPerRequest)
	}
	if c.MaxOIDsPerRequest == 0 {
		c.MaxOIDsPerRequest = DefaultMaxOIDsPerRequest
	}
	if c.MaxRowsPerRoot < 0 {
		return fmt.Errorf("snmp: config %s: MaxRowsPerRoot %d is negative", c.Target, c.MaxRowsPerRoot)
	}
	if c.MaxRowsPerRoot == 0 {
		c.MaxRowsPerRoot = DefaultMaxRowsPerRoot
	}
	if c.MaxBytesPerWalk < 0 {
		return fmt.Errorf("snmp: config %s: MaxBytesPerWalk %d is negative", c.Target, c.MaxBytesPerWalk)
	}
	if c.MaxBytesPerWalk == 0 {
		c.MaxBytesPerWalk = DefaultMaxBytesPerWalk
	}
	return nil
}

// splitTarget splits host[:port], defaulting the port to 161.
func splitTarget(t string) (string, uint16, error) {
	host, port, err := net.SplitHostPort(t)
	if err != nil {
		// No port: a bare host name or IPv4/IPv6 address.
		if strings.Count(t, ":") > 1 && !strings.HasPrefix(t, "[") {
			return t, DefaultPort, nil
		}
		if strings.Contains(t, ":") {
			return "", 0, err
		}
		return t, DefaultPort, nil
	}
	if host == "" {
		return "", 0, fmt.Errorf("host is empty")
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return "", 0, fmt.Errorf("port %q is not a number in 1..65535", port)
	}
	return host, uint16(p), nil
}

// ValidAuthProto tells whether Validate accepts p as V3.AuthProto ("" is
// noAuth; case and "SHA256"-style spellings are accepted).
func ValidAuthProto(p string) bool { _, ok := authProtos[normProto(p)]; return ok }

// ValidPrivProto tells whether Validate accepts p as V3.PrivProto ("" is
// no privacy).
func ValidPrivProto(p string) bool { _, ok := privProtos[normProto(p)]; return ok }

// NoAuth tells whether the authentication protocol p means noAuth.
func NoAuth(p string) bool { return authProtos[normProto(p)] == gosnmp.NoAuth }

// NoPriv tells whether the privacy protocol p means no privacy.
func NoPriv(p string) bool { return privProtos[normProto(p)] == gosnmp.NoPriv }
