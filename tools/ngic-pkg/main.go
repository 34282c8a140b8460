// Command ngic-pkg builds ngic's Debian packages with nFPM (used as a
// library: only this tool links it, never a shipped program):
//
//	ngic-pkg --arch armhf --version 1.7.0 --bin bin/release/linux-armv7 --out bin/release
//
// For the architecture given it writes ngic-edge (the gateway daemon, its
// hardened unit, its sysusers lines, /etc/ngic/edge.yaml as a conffile),
// ngic-fwtool, and on amd64 and arm64 ngic-controller, each named
// NAME_VERSION_ARCH.deb. Every file and archive member carries the time of
// --mtime (default: SOURCE_DATE_EPOCH, else the last commit's time), so two
// builds of the same tree are the same bytes. It prints the path of each
// package written.
//
// This file is wiring only: flags.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

func main() {
	var o buildOpts
	var mtime int64
	flag.StringVar(&o.Arch, "arch", "", "Debian architecture: amd64, arm64 or armhf")
	flag.StringVar(&o.Version, "version", "", "package version (semantic)")
	flag.StringVar(&o.Bins, "bin", "", "folder of the binaries built for --arch")
	flag.StringVar(&o.Out, "out", ".", "folder to write the packages to")
	flag.StringVar(&o.Repo, "repo", ".", "the repository's root")
	flag.Int64Var(&mtime, "mtime", -1, "Unix time of every file (default: SOURCE_DATE_EPOCH, else the last commit's time)")
	flag.Parse()
	if err := run(o, mtime); err != nil {
		fmt.Fprintln(os.Stderr, "ngic-pkg:", err)
		os.Exit(1)
	}
}

func run(o buildOpts, mtime int64) error {
	if o.Arch == "" || o.Version == "" || o.Bins == "" || flag.NArg() > 0 {
		return fmt.Errorf("give --arch, --version and --bin, and no arguments")
	}
	t, err := sourceTime(mtime, o.Repo)
	if err != nil {
		return err
	}
	o.MTime = t
	stage, err := os.MkdirTemp("", "ngic-pkg-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	o.Stage = stage
	for _, s := range specs {
		if !s.builtFor(o.Arch) {
			continue
		}
		p, err := buildDeb(s, o)
		if err != nil {
			return err
		}
		fmt.Println(p)
	}
	return nil
}

// sourceTime is the packages' time: --mtime, SOURCE_DATE_EPOCH, or the
// time of the repository's last commit.
func sourceTime(flagged int64, repo string) (time.Time, error) {
	if flagged >= 0 {
		return time.Unix(flagged, 0).UTC(), nil
	}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", s, err)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	b, err := exec.Command("git", "-C", repo, "log", "-1", "--format=%ct").Output()
	if err != nil {
		return time.Time{}, fmt.Errorf("no --mtime nor SOURCE_DATE_EPOCH, and git log: %w", err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("git log time %q: %w", b, err)
	}
	return time.Unix(n, 0).UTC(), nil
}
