package main

import (
	"bytes"
	"fmt"
	"strings"
)

// sysUser is one service user as a sysusers.d file declares it: its own
// lines of the file, and what adduser needs where systemd-sysusers is
// absent.
type sysUser struct {
	// Conf is a sysusers.d file of the lines naming the user.
	Conf []byte
	// Home is the home folder of the u line ("-": none).
	Home string
	// Groups are the groups of its m lines.
	Groups []string
}

// splitSysusers returns the user's part of a sysusers.d file: its u line
// and its m lines under a comment naming the file they come from. It fails
// when the file has no u line for the user or a line it cannot read.
func splitSysusers(conf []byte, from, user string) (sysUser, error) {
	var u sysUser
	var out bytes.Buffer
	fmt.Fprintf(&out, "# The user of the %s service, for systemd-sysusers: its lines of %s.\n", user, from)
	for n, line := range strings.Split(string(conf), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' {
			continue
		}
		f, err := sysusersFields(t)
		if err != nil {
			return u, fmt.Errorf("sysusers line %d: %w", n+1, err)
		}
		if len(f) < 2 {
			return u, fmt.Errorf("sysusers line %d: %q: want a type and a name", n+1, t)
		}
		if f[1] != user {
			continue
		}
		switch f[0] {
		case "u", "u!":
			if u.Home != "" {
				return u, fmt.Errorf("sysusers line %d: second u line for %s", n+1, user)
			}
			u.Home = "-"
			if len(f) > 4 {
				u.Home = f[4]
			}
		case "m":
			if len(f) < 3 {
				return u, fmt.Errorf("sysusers line %d: m line without a group", n+1)
			}
			u.Groups = append(u.Groups, f[2])
		default:
			return u, fmt.Errorf("sysusers line %d: type %q for %s not handled", n+1, f[0], user)
		}
		out.WriteString(line + "\n")
	}
	if u.Home == "" {
		return u, fmt.Errorf("sysusers: no u line for %s", user)
	}
	u.Conf = out.Bytes()
	return u, nil
}

// sysusersFields splits a sysusers.d line into its fields: separated by
// white space, a field in double quotes may hold spaces.
func sysusersFields(line string) ([]string, error) {
	var f []string
	for line = strings.TrimLeft(line, " \t"); line != ""; line = strings.TrimLeft(line, " \t") {
		if line[0] == '"' {
			end := strings.IndexByte(line[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote in %q", line)
			}
			f = append(f, line[1:end+1])
			line = line[end+2:]
			continue
		}
		end := strings.IndexAny(line, " \t")
		if end < 0 {
			end = len(line)
		}
		f = append(f, line[:end])
		line = line[end:]
	}
	return f, nil
}
