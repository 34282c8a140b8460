# ngic — build, run and test.
GO      ?= go
BIN     := bin
PKGS    := ./...
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/ngic/ngic/internal/buildinfo.Version=$(VERSION)
# Debian packages the tests talk to (real peers); qemu-user-static runs the ARM release binaries, adduser
# is what the .deb falls back to without systemd-sysusers.
TEST_DEBS := mosquitto snmpsim snmpd snmp socat chromium fonts-wqy-microhei systemd qemu-user-static adduser gcc

.PHONY: all build run test test-unit deps bench bench-peers fuzz vet clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ngic-edge ./edge
	$(GO) build -tags gosnmp_nodebug -ldflags "$(LDFLAGS)" -o $(BIN)/ngic-controller ./controller
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ngic-fwtool ./firmware-tools
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ngic-demo ./tools/ngic-demo

## run: the whole system on embedded defaults (tools/ngic-demo): the simulator, the controller and its
## dashboard, two gateways on emulated readers and a cabinet door; prints the dashboard's URL and token.
run: build
	./scripts/demo.sh

## deps: install the Debian packages the tests need and influxd 1.8.10 (idempotent; influxd is built once
## with go install, about 80 s, and kept in $(go env GOPATH)/bin).
deps:
	./scripts/install-deps.sh $(TEST_DEBS)
	./scripts/install-influxd.sh

## test: install the peers, then run every test with the race detector.
test: deps build
	$(GO) vet $(PKGS)
	NGIC_REQUIRE_PEERS=1 $(GO) test -race -count=1 -timeout 25m $(PKGS)

## test-unit: tests only, no installs (peer tests skip where a peer is missing).
test-unit:
	$(GO) test -count=1 $(PKGS)

## bench: run every benchmark BENCH_COUNT times and print each figure as its median ± 95 % confidence
## interval over the runs (benchstat); raw results in bin/bench.txt. About 20 minutes on 2 cores.
BENCH_COUNT ?= 6
bench: deps build
	./scripts/bench.sh $(BENCH_COUNT)

## bench-peers: ngic beside the bare tools on the same work, interleaved (BENCH_PEERS_ROUNDS rounds, default
## 5): CPU per varbind of ngic's poll, snmpbulkwalk -Cr50 and snmp_exporter (built at a pinned version into
## bin/peers) on one simulated CMTS, edge pipeline vs bare paho QoS 1 events/s to mosquitto, and the SNMP
## simulator's CPU per request beside a C echo of the same system calls (scripts/peers/udp-echo.c, 1, 8 and 256
## requests in flight); a table of medians, min-max and ratios, also in bin/bench-peers.md.
bench-peers:
	./scripts/bench-peers.sh

## fuzz: a short run of every fuzz target (FUZZTIME each, default 20s); all run, failures listed at the end.
fuzz:
	./scripts/fuzz.sh $${FUZZTIME:-20s}

vet:
	$(GO) vet $(PKGS)

clean:
	rm -rf $(BIN)

## release: static, reproducible ngic-edge and ngic-fwtool for linux/arm64, linux/arm (GOARM=7) and linux/amd64
## (ngic-controller for the 64-bit ones) in bin/release, a signed update bundle of each edge and fwtool binary,
## and the .deb packages of each architecture (tools/ngic-pkg); the key from NGIC_RELEASE_KEY (or
## RELEASE_FLAGS=--no-sign).
.PHONY: release
release:
	VERSION=$(VERSION) ./scripts/release.sh --out $(BIN)/release $(RELEASE_FLAGS)
