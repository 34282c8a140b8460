#!/usr/bin/env bash
# Release builds: cross-compiles ngic-edge and ngic-fwtool for each target,
# and ngic-controller for the 64-bit ones (static, CGO_ENABLED=0,
# reproducible: -trimpath, no VCS stamp, empty build id, the version in
# -ldflags), signs an update bundle of ngic-edge and ngic-fwtool, and builds
# the Debian packages of each target (tools/ngic-pkg: ngic-edge, ngic-fwtool,
# ngic-controller; files dated SOURCE_DATE_EPOCH, else the last commit).
#
#   scripts/release.sh [--key FILE | --no-sign] [--no-deb] [--out DIR] [--targets "OS/ARCH[/GOARM] ..."]
#                      [--only PROGRAM] [--unstripped]
#
# --only builds that one program (e.g. ngic-edge, for a measurement), and
# no package.
#
# --key defaults to $NGIC_RELEASE_KEY (a private key from `ngic-fwtool keygen`);
# without a key the script stops unless --no-sign is given. VERSION (the
# environment) must be a semantic version; otherwise 0.0.0-dev+<commit> is used.
# Output, for each target T (e.g. linux-armv7):
#   DIR/T/ngic-edge, DIR/T/ngic-fwtool      the binaries
#   DIR/T/ngic-controller                   (linux-amd64, linux-arm64)
#   DIR/ngic-edge_VERSION_T.bdl, ...        the signed bundles (file bin/<program>)
#   DIR/ngic-edge_DEBVERSION_DEBARCH.deb, ... the packages (DEBARCH: amd64,
#                                           arm64, armhf; a pre-release -rc.1 is ~rc.1)
set -euo pipefail
cd "$(dirname "$0")/.."

key="${NGIC_RELEASE_KEY:-}"
out=bin/release
targets="linux/arm64 linux/arm/7 linux/amd64"
sign=1
deb=1
only=""
strip="-s -w"
while [ $# -gt 0 ]; do
	case "$1" in
	--key) key="$2"; shift 2 ;;
	--out) out="$2"; shift 2 ;;
	--targets) targets="$2"; shift 2 ;;
	--no-sign) sign=0; shift ;;
	--no-deb) deb=0; shift ;;
	--only) only="$2"; deb=0; shift 2 ;;
	--unstripped) strip=""; shift ;;
	*) echo "release: unknown argument $1" >&2; exit 2 ;;
	esac
done
if [ "$sign" = 1 ] && [ -z "$key" ]; then
	echo "release: no signing key: give --key FILE or NGIC_RELEASE_KEY, or --no-sign" >&2
	exit 2
fi

version="${VERSION:-}"
semver='^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$'
if ! [[ "$version" =~ $semver ]]; then
	commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
	echo "release: VERSION '${version}' is not a semantic version; using 0.0.0-dev+${commit}" >&2
	version="0.0.0-dev+${commit}"
fi
ldflags="${strip} -buildid= -X github.com/ngic/ngic/internal/buildinfo.Version=${version}"

# ngic-edge and ngic-fwtool run on gateways with little flash, so two things
# they never need are left out of them (ngic-edge for linux/arm v7: 12.78 MB
# with neither, 12.26 MB without HTTP/2, 11.80 MB with both):
# - net/http's HTTP/2 (tag nethttpomithttp2): their HTTP is a status server
#   on loopback and bundle downloads, which HTTP/1.1 serves as well;
# - inlining, in the packages they run only at start-up, per metrics scrape,
#   per TLS handshake or in the lab (the embedded broker): inlining copies
#   code into every caller, and these paths are never hot. The event path
#   (drivers, smoothing, spool, bbolt, the MQTT client) stays inlined.
gateway_flags=(-tags nethttpomithttp2)
for p in 'google.golang.org/protobuf/...' 'github.com/prometheus/...' 'periph.io/...' 'github.com/mochi-mqtt/...' \
	'github.com/spf13/...' 'go.yaml.in/...' 'net/http' 'crypto/x509' 'encoding/asn1' 'text/template/...' \
	'github.com/gorilla/...' 'golang.org/x/net/...'; do
	gateway_flags+=("-gcflags=$p=-l")
done

mkdir -p "$out"
if [ "$sign" = 1 ]; then
	fwtool="$out/.host/ngic-fwtool"
	go build -trimpath -o "$fwtool" ./firmware-tools
fi
if [ "$deb" = 1 ]; then
	pkgtool="$out/.host/ngic-pkg"
	go build -trimpath -o "$pkgtool" ./tools/ngic-pkg
fi
for target in $targets; do
	IFS=/ read -r goos goarch goarm <<<"$target"
	name="${goos}-${goarch}${goarm:+v$goarm}"
	mkdir -p "$out/$name"
	programs="ngic-edge:./edge ngic-fwtool:./firmware-tools"
	case "$goarch" in
	amd64 | arm64) programs="$programs ngic-controller:./controller" ;;
	esac
	for p in $programs; do
		prog="${p%%:*}"
		pkg="${p#*:}"
		if [ -n "$only" ] && [ "$prog" != "$only" ]; then continue; fi
		# The controller leaves out gosnmp's debug logging (tag
		# gosnmp_nodebug), which it never turns on: about one allocation a
		# varbind decoded.
		flags=(-tags gosnmp_nodebug)
		if [ "$prog" != ngic-controller ]; then flags=("${gateway_flags[@]}"); fi
		CGO_ENABLED=0 GOOS="$goos" GOARCH="$goarch" GOARM="$goarm" \
			go build -trimpath -buildvcs=false "${flags[@]}" -ldflags "$ldflags" -o "$out/$name/$prog" "$pkg"
		size=$(stat -c %s "$out/$name/$prog")
		echo "release: $out/$name/$prog $size bytes"
		if [ "$sign" = 1 ] && [ "$prog" != ngic-controller ]; then
			"$fwtool" sign --key "$key" --name "$prog" --version "$version" --os "$goos" --arch "$goarch" \
				${goarm:+--arm "$goarm"} --out "$out/${prog}_${version}_${name}.bdl" "$out/$name/$prog=bin/$prog"
		fi
	done
	if [ "$deb" = 1 ]; then
		case "$goarch" in
		arm) debarch=armhf ;;
		*) debarch="$goarch" ;;
		esac
		"$pkgtool" --arch "$debarch" --version "$version" --bin "$out/$name" --out "$out" |
			while read -r f; do echo "release: $f $(stat -c %s "$f") bytes"; done
	fi
done
