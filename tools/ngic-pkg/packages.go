package main

// A service is what a package installs to run under systemd: its unit, its
// user (created from its lines of the shipped sysusers file), the folders
// the package creates for it and those a purge removes.
type service struct {
	// Unit is the unit file in the repository, installed under
	// /usr/lib/systemd/system with the same base name.
	Unit string
	// User is the service user; its lines of the sysusers file are
	// installed as /usr/lib/sysusers.d/<User>.conf.
	User string
	// OwnedDirs are folders postinst creates, owned by User, mode 0750,
	// because the unit cannot create them (ProtectSystem=strict).
	OwnedDirs []string
	// PurgeDirs are the service's data, removed only on purge (with
	// OwnedDirs).
	PurgeDirs []string
}

// A file is one file of a package: Src in the repository or, for the
// binaries, the name of a program in the binaries' folder.
type file struct {
	Src, Dst string
	// Binary: Src names a program of the binaries' folder (mode 0755).
	Binary bool
	// Conffile: marked as a conffile (dpkg keeps the administrator's edits).
	Conffile bool
	// Folder: Src is a folder whose regular files go under Dst (not
	// recursively).
	Folder bool
}

// A spec is one Debian package.
type spec struct {
	Name, Description string
	// Arches are the Debian architectures it is built for (nil: all).
	Arches     []string
	Files      []file
	Depends    []string
	Recommends []string
	Service    *service
}

// sysusersFile is the shipped sysusers file, split per service user.
const sysusersFile = "deploy/systemd/ngic.sysusers"

// serviceDepends is what the maintainer scripts of a service need: one
// of systemd-sysusers or adduser to create its user.
var serviceDepends = []string{"systemd | adduser"}

// specs are the packages: ngic-edge (the gateway daemon and its unit),
// ngic-fwtool (commissioning and signing, also wanted alone on an
// engineer's or a release machine) and ngic-controller (the centre, on
// 64-bit hosts only).
var specs = []spec{
	{
		Name: "ngic-edge",
		Description: "ngic field gateway: RFID readers and photo-eyes to MQTT\n" +
			"Reads RFID readers over serial and photo-eyes over GPIO, spools events on disk\n" +
			"and publishes them to MQTT. The service is installed but not started: edit\n" +
			"/etc/ngic/edge.yaml, then systemctl enable --now ngic-edge.",
		Files: []file{
			{Src: "ngic-edge", Dst: "/usr/bin/ngic-edge", Binary: true},
			{Src: "deploy/edge/edge.yaml", Dst: "/etc/ngic/edge.yaml", Conffile: true},
		},
		Depends:    serviceDepends,
		Recommends: []string{"ngic-fwtool"},
		Service: &service{
			Unit:      "deploy/systemd/ngic-edge.service",
			User:      "ngic-edge",
			OwnedDirs: []string{"/opt/ngic-edge"},
			PurgeDirs: []string{"/var/lib/ngic-edge"},
		},
	},
	{
		Name: "ngic-fwtool",
		Description: "ngic gateway commissioning and signed update bundles\n" +
			"ngic-fwtool commission checks a gateway's readers, photo-eyes and broker;\n" +
			"keygen, sign and verify make and check signed update bundles.",
		Files: []file{{Src: "ngic-fwtool", Dst: "/usr/bin/ngic-fwtool", Binary: true}},
	},
	{
		Name: "ngic-controller",
		Description: "ngic controller: SNMP poller, gateway ingest, alerts, API and dashboard\n" +
			"The service is installed but not started: edit /etc/ngic/controller.yaml and\n" +
			"its inventory, then systemctl enable --now ngic-controller.",
		Arches:  []string{"amd64", "arm64"},
		Depends: serviceDepends,
		Files: []file{
			{Src: "ngic-controller", Dst: "/usr/bin/ngic-controller", Binary: true},
			{Src: "deploy/controller/controller.yaml", Dst: "/etc/ngic/controller.yaml", Conffile: true},
			{Src: "deploy/controller/inventory", Dst: "/etc/ngic/inventory", Conffile: true, Folder: true},
		},
		Service: &service{
			Unit:      "deploy/systemd/ngic-controller.service",
			User:      "ngic-controller",
			PurgeDirs: []string{"/var/lib/ngic-controller"},
		},
	},
}

// builtFor reports whether s is built for the Debian architecture arch.
func (s spec) builtFor(arch string) bool {
	if s.Arches == nil {
		return true
	}
	for _, a := range s.Arches {
		if a == arch {
			return true
		}
	}
	return false
}
