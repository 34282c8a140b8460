package main

import (
	"bytes"
	"embed"
	"fmt"
	"path"
	"strings"
	"text/template"
)

//go:embed scripts/*.tmpl
var scriptFS embed.FS

var scriptTmpl = template.Must(template.ParseFS(scriptFS, "scripts/*.tmpl"))

// scriptData fills the maintainer script templates of one package.
type scriptData struct {
	Name, Unit, User, Home, Sysusers string
	Groups, OwnedDirs, PurgeDirs     []string
}

// maintainerScripts returns the postinst, prerm and postrm of a package
// with a service, keyed by hook.
func maintainerScripts(s spec, u sysUser) (map[string][]byte, error) {
	d := scriptData{
		Name:      s.Name,
		Unit:      path.Base(s.Service.Unit),
		User:      s.Service.User,
		Home:      u.Home,
		Sysusers:  sysusersPath(s.Service.User),
		Groups:    u.Groups,
		OwnedDirs: s.Service.OwnedDirs,
		PurgeDirs: append(append([]string{}, s.Service.OwnedDirs...), s.Service.PurgeDirs...),
	}
	if d.Home == "-" {
		d.Home = "/nonexistent"
	}
	for _, v := range append([]string{d.Name, d.Unit, d.User, d.Home}, append(d.Groups, d.PurgeDirs...)...) {
		if strings.ContainsAny(v, " \t\n'\"$`\\;&|<>*?()") {
			return nil, fmt.Errorf("%s: %q cannot go into a shell script unquoted", s.Name, v)
		}
	}
	out := map[string][]byte{}
	for _, hook := range []string{"postinst", "prerm", "postrm"} {
		var b bytes.Buffer
		if err := scriptTmpl.ExecuteTemplate(&b, hook+".tmpl", d); err != nil {
			return nil, fmt.Errorf("%s %s: %w", s.Name, hook, err)
		}
		out[hook] = b.Bytes()
	}
	return out, nil
}

// sysusersPath is where a package installs its user's sysusers.d lines.
func sysusersPath(user string) string { return "/usr/lib/sysusers.d/" + user + ".conf" }
