package main

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
)

// buildOpts says what to package and where.
type buildOpts struct {
	// Repo is the repository's root (deploy/ is read from there).
	Repo string
	// Bins is the folder of the binaries built for Arch.
	Bins string
	// Arch is the Debian architecture: amd64, arm64, armhf.
	Arch string
	// Version is the version (semantic; a pre-release becomes ~pre).
	Version string
	// MTime is the time of every file and archive member.
	MTime time.Time
	// Out is the folder the .deb goes to.
	Out string
	// Stage is a scratch folder for the files derived from deploy/.
	Stage string
}

// Maintainer and Homepage go into every package's control file.
const (
	maintainer = "ngic maintainers <ngic@example.net>"
	homepage   = "https://github.com/ngic/ngic"
)

// buildDeb writes the .deb of s for o.Arch into o.Out and returns its path.
func buildDeb(s spec, o buildOpts) (string, error) {
	var contents files.Contents
	for _, f := range s.Files {
		c, err := fileContents(f, o)
		if err != nil {
			return "", fmt.Errorf("%s: %w", s.Name, err)
		}
		contents = append(contents, c...)
	}
	var scripts nfpm.Scripts
	if s.Service != nil {
		c, sc, err := serviceContents(s, o)
		if err != nil {
			return "", fmt.Errorf("%s: %w", s.Name, err)
		}
		contents = append(contents, c...)
		scripts = sc
	}
	info := &nfpm.Info{
		Name:        s.Name,
		Arch:        o.Arch,
		Platform:    "linux",
		Version:     o.Version,
		Section:     "net",
		Priority:    "optional",
		Maintainer:  maintainer,
		Description: s.Description,
		Homepage:    homepage,
		License:     "Apache-2.0",
		MTime:       o.MTime,
		Overridables: nfpm.Overridables{
			Depends:    s.Depends,
			Recommends: s.Recommends,
			Contents:   contents,
			Umask:      0o022,
			Scripts:    scripts,
			Deb:        nfpm.Deb{Arch: o.Arch, Compression: "xz"},
		},
	}
	info = nfpm.WithDefaults(info)
	packager, err := nfpm.Get("deb")
	if err != nil {
		return "", err
	}
	out := filepath.Join(o.Out, packager.ConventionalFileName(info))
	var b bytes.Buffer
	if err := packager.Package(info, &b); err != nil {
		return "", fmt.Errorf("%s: %w", s.Name, err)
	}
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		return "", err
	}
	return out, nil
}

// fileContents returns the package entries of one file of a spec.
func fileContents(f file, o buildOpts) (files.Contents, error) {
	typ := files.TypeFile
	if f.Conffile {
		typ = files.TypeConfig
	}
	if f.Binary {
		return files.Contents{entry(filepath.Join(o.Bins, f.Src), f.Dst, typ, 0o755, o.MTime)}, nil
	}
	src := filepath.Join(o.Repo, f.Src)
	if !f.Folder {
		return files.Contents{entry(src, f.Dst, typ, 0o644, o.MTime)}, nil
	}
	des, err := os.ReadDir(src)
	if err != nil {
		return nil, err
	}
	var cs files.Contents
	for _, de := range des {
		if de.Type().IsRegular() {
			cs = append(cs, entry(filepath.Join(src, de.Name()), path.Join(f.Dst, de.Name()), typ, 0o644, o.MTime))
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Destination < cs[j].Destination })
	return cs, nil
}

// serviceContents returns the unit and sysusers entries of a service and
// its maintainer scripts, written under o.Stage.
func serviceContents(s spec, o buildOpts) (files.Contents, nfpm.Scripts, error) {
	var none nfpm.Scripts
	dir := filepath.Join(o.Stage, s.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, none, err
	}
	unit, err := os.ReadFile(filepath.Join(o.Repo, s.Service.Unit))
	if err != nil {
		return nil, none, err
	}
	conf, err := os.ReadFile(filepath.Join(o.Repo, sysusersFile))
	if err != nil {
		return nil, none, err
	}
	u, err := splitSysusers(conf, path.Base(sysusersFile), s.Service.User)
	if err != nil {
		return nil, none, fmt.Errorf("%s: %w", sysusersFile, err)
	}
	sc, err := maintainerScripts(s, u)
	if err != nil {
		return nil, none, err
	}
	unitName := path.Base(s.Service.Unit)
	staged := map[string][]byte{unitName: packagedUnit(unit), "sysusers.conf": u.Conf}
	for hook, b := range sc {
		staged[hook] = b
	}
	for name, b := range staged {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return nil, none, err
		}
	}
	cs := files.Contents{
		entry(filepath.Join(dir, unitName), "/usr/lib/systemd/system/"+unitName, files.TypeFile, 0o644, o.MTime),
		entry(filepath.Join(dir, "sysusers.conf"), sysusersPath(s.Service.User), files.TypeFile, 0o644, o.MTime),
	}
	scripts := nfpm.Scripts{
		PostInstall: filepath.Join(dir, "postinst"),
		PreRemove:   filepath.Join(dir, "prerm"),
		PostRemove:  filepath.Join(dir, "postrm"),
	}
	return cs, scripts, nil
}

// packagedUnit is the unit as packaged: a package installs its programs
// in /usr/bin, never /usr/local/bin, so a unit written for a hand install
// there is pointed at /usr/bin.
func packagedUnit(unit []byte) []byte {
	return bytes.ReplaceAll(unit, []byte("/usr/local/bin/"), []byte("/usr/bin/"))
}

// entry is one file of a package, owned by root, with a fixed mode and time.
func entry(src, dst, typ string, mode os.FileMode, mtime time.Time) *files.Content {
	return &files.Content{
		Source:      src,
		Destination: dst,
		Type:        typ,
		FileInfo:    &files.ContentFileInfo{Owner: "root", Group: "root", Mode: mode, MTime: mtime},
	}
}
