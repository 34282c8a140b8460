#!/usr/bin/env bash
# Runs every benchmark of the module COUNT times (default 6, the fewest for
# which benchstat gives a 95 % confidence interval) and prints each figure
# as its median ± that interval over the runs, raw results kept in
# bin/bench.txt. The benchmarks of whole systems run with their own
# -benchtime: controller/scale polls farms of 2,000 and 10,000 devices (one
# timed cycle per run after a warm-up cycle, 1x), controller runs the whole
# daemon on real peers (200,000 events end to end; 10,000 devices with
# 5,000 events/s for 70 s; 1x), edge drives the daemon under event load
# (5s); every other package gets 500ms per benchmark. About 20 minutes on
# 2 cores. Peers missing fail the run
# (NGIC_REQUIRE_PEERS=1).
set -uo pipefail
count="${1:-6}"
cd "$(dirname "$0")/.."
out=bin/bench.txt
mkdir -p bin
: >"$out"
export NGIC_REQUIRE_PEERS=1
mod=$(go list -m)
slow=("$mod/controller/scale" "$mod/edge" "$mod/controller")
fast=$(go list ./... | grep -v -x -F -e "${slow[0]}" -e "${slow[1]}" -e "${slow[2]}") || { echo "bench: go list failed" >&2; exit 2; }
status=0
run() { # benchtime packages...
	local bt="$1"
	shift
	go test -run '^$' -bench . -benchmem -benchtime "$bt" -count "$count" -timeout 40m "$@" 2>&1 | tee -a "$out" || status=1
}
# shellcheck disable=SC2086
run 500ms $fast
run 1x "${slow[0]}"
run 5s "${slow[1]}"
run 1x "${slow[2]}"
echo
echo "bench: $count runs of each benchmark; median ± 95 % confidence interval over the runs (benchstat):"
# benchstat, pinned; fetched through the module proxy on first use.
if ! go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da "$out"; then
	echo "bench: benchstat unavailable; raw figures in $out"
fi
exit $status
