#!/usr/bin/env bash
# Installs InfluxDB's influxd 1.8.10 into $(go env GOPATH)/bin with go
# install (about 80 s the first time), skipping when the influxd there
# already reports 1.8.10: that binary is the cache between runs.
# internal/testenv.StartInfluxd looks for it there and on PATH.
set -euo pipefail
want=1.8.10
bin="$(go env GOPATH)/bin/influxd"
if [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -q "InfluxDB v$want "; then
	echo "deps: influxd $want present: $bin"
	exit 0
fi
echo "deps: installing influxd $want (go install, about 80 s)"
start=$(date +%s)
# Run outside the module so its go.mod and toolchain line play no part.
cd "$(mktemp -d)"
# GOFLAGS is set explicitly: a -mod or -tags inherited from the caller would
# break the build of influxd's own module. The version is stamped the way
# InfluxData's release builds do: without it influxd reports "vunknown",
# both to `influxd version` (the check above) and in /ping's
# X-Influxdb-Version header, which clients read.
GOFLAGS=-buildvcs=false go install -ldflags "-X main.version=$want -X main.branch=1.8" \
	"github.com/influxdata/influxdb/cmd/influxd@v$want"
"$bin" version
echo "deps: installed influxd $want in $(($(date +%s) - start)) s"
