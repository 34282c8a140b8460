#!/usr/bin/env bash
# Measures ngic beside the bare tools doing the same work, interleaved round
# by round (BENCH_PEERS_ROUNDS, default 5), and prints a Markdown table of
# medians, min-max and ratios, kept in bin/bench-peers.md:
#   - SNMP: CPU per varbind of ngic's whole poll and IF-MIB walk and of
#     net-snmp's snmpbulkwalk -Cr50 walking IF-MIB, and CPU per device poll
#     of ngic's poll and of snmpbulkwalk walking the poll's own columns
#     (controller/scale BenchmarkSideBySide),
#     and of Prometheus's snmp_exporter (if_mib module, built at a pinned
#     version from the Go module proxy into bin/peers) scraping the same
#     recording from the project's simulator;
#   - edge: events/s, CPU and allocations per event of the edge pipeline
#     (edge/gateway BenchmarkPipelineToMosquitto, in the edge's default
#     batches) and of a bare paho QoS 1 publisher (tools/ngic-benchpeers)
#     with the same window, publishing an event a message and publishing
#     the same batches, all to the one mosquitto started here
#     (NGIC_BENCH_BROKER);
#   - simulator: CPU per request of the project's SNMP simulator
#     (ngic-controller simulate, built into bin/peers) and of a C echo doing
#     only the same system calls (scripts/peers/udp-echo.c, compiled with
#     cc -O2 into bin/peers), both driven by the project's load generator
#     with 1, 8 and 256 requests in flight, and their requests/s.
# Installs the Debian packages it needs (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${BENCH_PEERS_ROUNDS:-5}"
scrapes=10 # snmp_exporter scrapes a round
sim_duration=2s # each load on the simulator and on the C echo, a round
exporter_version="${SNMP_EXPORTER_VERSION:-v0.29.0}"
peers=bin/peers
./scripts/install-deps.sh mosquitto snmp
command -v cc >/dev/null || ./scripts/install-deps.sh gcc
mkdir -p "$peers"
peers_abs="$(pwd)/$peers"

# snmp_exporter, pinned, built once from its module source and kept (the
# stamp says which version). Built in its own module, with its own go.sum:
# go install @version would also ask the proxy for the module's version
# list, which it may refuse.
exporter_src="$(go env GOMODCACHE)/github.com/prometheus/snmp_exporter@$exporter_version"
if [ ! -x "$peers/snmp_exporter" ] || [ "$(cat "$peers/snmp_exporter.version" 2>/dev/null)" != "$exporter_version" ]; then
	echo "bench-peers: building snmp_exporter $exporter_version" >&2
	[ -d "$exporter_src" ] || (cd / && go mod download "github.com/prometheus/snmp_exporter@$exporter_version")
	(cd "$exporter_src" && go build -mod=readonly -trimpath -o "$peers_abs/snmp_exporter" .)
	echo "$exporter_version" >"$peers/snmp_exporter.version"
fi
shipped="$exporter_src/snmp.yml"
[ -f "$shipped" ] || { echo "bench-peers: no $shipped" >&2; exit 1; }

echo "bench-peers: building the tools and tests" >&2
go build -o "$peers/ngic-benchpeers" ./tools/ngic-benchpeers
go build -o "$peers/farmsim" ./controller/scale/internal/farmsim
go test -c -tags gosnmp_nodebug -o "$peers/scale.test" ./controller/scale # as the controller is built
go test -c -o "$peers/gateway.test" ./edge/gateway
go build -tags gosnmp_nodebug -o "$peers/ngic-controller" ./controller # as `make build` builds it
cc -O2 -o "$peers/udp-echo" scripts/peers/udp-echo.c

# One mosquitto for the bare publisher and the pipeline, on a free port,
# gone on exit.
tmp="$(mktemp -d)"
mosq_pid=""
cleanup() {
	if [ -n "$mosq_pid" ]; then kill "$mosq_pid" 2>/dev/null || true; wait "$mosq_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
port="$("$peers/ngic-benchpeers" freeport)"
{
	echo "listener $port 127.0.0.1"
	echo "allow_anonymous true"
	echo "persistence false"
	echo "max_queued_messages 0"
	echo "max_inflight_messages 0"
	echo "max_queued_bytes 0"
	echo "log_dest none"
	if [ "$(id -u)" -eq 0 ]; then echo "user root"; fi
} >"$tmp/mosquitto.conf"
mosquitto -c "$tmp/mosquitto.conf" >"$tmp/mosquitto.log" 2>&1 &
mosq_pid=$!
for _ in $(seq 150); do
	if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
	sleep 0.1
done
(echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "bench-peers: mosquitto not listening on $port" >&2; exit 1; }

load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
started="$(date -u +%Y-%m-%dT%H:%MZ)"
"$peers/ngic-benchpeers" run -rounds "$rounds" -exporter "$peers/snmp_exporter" -exporter-snmp-yml "$shipped" \
	-scale-test "$peers_abs/scale.test" -gateway-test "$peers_abs/gateway.test" \
	-scrapes "$scrapes" -broker "tcp://127.0.0.1:$port" \
	-controller "$peers/ngic-controller" -echo "$peers/udp-echo" -sim-duration "$sim_duration" >"$tmp/table.md"
load_end="$(cut -d' ' -f1-3 /proc/loadavg)"

first() { "$@" 2>&1 | head -n1; }
{
	echo "ngic beside the bare tools, $rounds interleaved rounds, $started, $(nproc) cores;"
	echo "load average (1, 5, 15 min) at start $load_start, at end $load_end."
	echo
	cat "$tmp/table.md"
	echo
	echo "Versions: snmp_exporter $exporter_version; net-snmp $(first snmpbulkwalk --version | sed 's/^NET-SNMP version: //');"
	echo "$(first mosquitto -h | sed 's/ *(build.*//'); $(first cc --version); $(go version | cut -d' ' -f3-)."
	echo "CPU per varbind: ngic from its own process (getrusage), snmpbulkwalk from its child rusage, net of its"
	echo "start-up (the mean of 8 runs an iteration that walk nothing) per run. Per varbind is the fair unit: both"
	echo "sides get GETBULK answers of the agent's message size, and the whole poll's figure includes the document"
	echo "built. snmpbulkwalk walks one subtree a run, so the poll's own columns take a run each: that is compared"
	echo "per device poll, start-up included (net of one start-up a column, what is left is below their noise)."
	echo "snmp_exporter from /proc/<pid>/stat over $scrapes scrapes a round (10 ms ticks). Ratios"
	echo "are taken within each round, then their median and min-max. The pipeline and the bare publisher publish"
	echo "to the same mosquitto process, paho QoS 1, clean session, the same window (in events) and payload size;"
	echo "the pipeline sends a reader's consecutive spooled events in batches (mqtt.batch_events 64,"
	echo "mqtt.batch_bytes 16 KiB: 49 of these events a message), the bare publisher once an event a message"
	echo "(what a plain paho publisher does) and once in the same batches. The pipeline also smooths, encodes,"
	echo "spools every event with fsync (grouped) and deletes it on PUBACK; the bare publisher keeps nothing"
	echo "and its payloads and batches are built before the clock starts. CPU and allocations per event are"
	echo "the whole process's (getrusage, runtime.MemStats) while the events flow."
	echo "The simulator rows set ngic-controller simulate beside a C echo (scripts/peers/udp-echo.c): the same"
	echo "system calls (a blocking recvmmsg that returns once one datagram is there, sendmmsg, batch 64), each"
	echo "GETBULK sent back as it came with its PDU tag made a Response's, no SNMP work. It is the floor of the"
	echo "socket path for a server that sleeps while it waits; its answers hold the request's one varbind, the"
	echo "simulator's whole GETBULK answers. Each round, for each in-flight count, the project's load generator"
	echo "(what simulate --load runs: GETBULKs of 25 repetitions of ifTable to each recording of testdata/snmprec"
	echo "in turn, batched), in the tool's own process, drives one server for $sim_duration and then the other, the first"
	echo "alternating round by round. A server's CPU is its own process's, read before and after each run from"
	echo "/proc/<pid>/task/*/schedstat (each thread's time on CPU, in ns; a thread that ended would leave the sum,"
	echo "and neither server ends one), divided by the requests answered."
} | tee bin/bench-peers.md
