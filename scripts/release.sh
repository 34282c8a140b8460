#!/usr/bin/env bash
# Release builds: cross-compiles ngic-edge and ngic-fwtool for each target
# (static, CGO_ENABLED=0, reproducible: -trimpath, no VCS stamp, empty build
# id, the version in -ldflags), then signs an update bundle of each binary.
#
#   scripts/release.sh [--key FILE | --no-sign] [--out DIR] [--targets "OS/ARCH[/GOARM] ..."] [--unstripped]
#
# --key defaults to $NGIC_RELEASE_KEY (a private key from `ngic-fwtool keygen`);
# without a key the script stops unless --no-sign is given. VERSION (the
# environment) must be a semantic version; otherwise 0.0.0-dev+<commit> is used.
# Output, for each target T (e.g. linux-armv7):
#   DIR/T/ngic-edge, DIR/T/ngic-fwtool      the binaries
#   DIR/ngic-edge_VERSION_T.bdl, ...        the signed bundles (file bin/<program>)
set -euo pipefail
cd "$(dirname "$0")/.."

key="${NGIC_RELEASE_KEY:-}"
out=bin/release
targets="linux/arm64 linux/arm/7 linux/amd64"
sign=1
strip="-s -w"
programs="ngic-edge:./edge ngic-fwtool:./firmware-tools"
while [ $# -gt 0 ]; do
	case "$1" in
	--key) key="$2"; shift 2 ;;
	--out) out="$2"; shift 2 ;;
	--targets) targets="$2"; shift 2 ;;
	--no-sign) sign=0; shift ;;
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

mkdir -p "$out"
if [ "$sign" = 1 ]; then
	fwtool="$out/.host/ngic-fwtool"
	go build -trimpath -o "$fwtool" ./firmware-tools
fi
for target in $targets; do
	IFS=/ read -r goos goarch goarm <<<"$target"
	name="${goos}-${goarch}${goarm:+v$goarm}"
	mkdir -p "$out/$name"
	for p in $programs; do
		prog="${p%%:*}"
		pkg="${p#*:}"
		CGO_ENABLED=0 GOOS="$goos" GOARCH="$goarch" GOARM="$goarm" \
			go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$out/$name/$prog" "$pkg"
		size=$(stat -c %s "$out/$name/$prog")
		echo "release: $out/$name/$prog $size bytes"
		if [ "$sign" = 1 ]; then
			"$fwtool" sign --key "$key" --name "$prog" --version "$version" --os "$goos" --arch "$goarch" \
				${goarm:+--arm "$goarm"} --out "$out/${prog}_${version}_${name}.bdl" "$out/$name/$prog=bin/$prog"
		fi
	done
done
