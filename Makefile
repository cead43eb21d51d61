# Build, lint, test and fuzz entry points; .ci/run calls `make test`.

GO  ?= go
NPM ?= npm

# Node project with the real Engine.IO clients used by the interop tests.
# It sits under testdata/ so that the go tool ignores it and its node_modules.
NODE_DIR   := internal/interop/testdata
NODE_STAMP := $(NODE_DIR)/node_modules/.stamp
# Node servers under test in the side-by-side benchmark (socket.io, and the
# republished uWebSockets.js build, whose native binaries ship in the package).
BENCH_NODE_DIR   := bench/node
BENCH_NODE_STAMP := $(BENCH_NODE_DIR)/node_modules/.stamp
BENCH_BIN        := bin/bench
# Extra flags for the benchmark runner, e.g. BENCH_FLAGS="-reps 1 -scenarios echo".
BENCH_FLAGS      ?=

# staticcheck is built from the Go module proxy at a pinned version, so no
# separate install step is needed on a fresh machine.
STATICCHECK_VERSION ?= v0.8.2

GO_TEST_TIMEOUT ?= 20m

# Each fuzz target's budget in `make fuzz` (and so in `make test`): a count
# of executions (2-7 s per target here), not a duration. Go 1.26's fuzz
# coordinator can fail a duration run at its deadline with "context
# deadline exceeded" and no crasher (go.dev/issue/75804, fixed in 1.27); a
# count has no deadline to race.
FUZZTIME ?= 100000x
# pkgpath:FuzzName pairs; -fuzz accepts a single package and target per run.
FUZZ_TARGETS ?= \
	./engineio/packet:FuzzDecodeText \
	./engineio/packet:FuzzDecodePayload \
	./engineio/packet:FuzzDecodePayloadV3 \
	./engineio/packet:FuzzDecodeTextV3 \
	./internal/websocket:FuzzReader \
	./internal/websocket:FuzzNegotiateDeflate \
	./parser:FuzzDecode \
	./parser:FuzzEventName \
	./parser:FuzzPlaceholders \
	./parser:FuzzValidJSON \
	./parser/msgpack:FuzzDecode \
	./parser/msgpack:FuzzEncode \
	./adapter/redisadapter:FuzzDecode

DEMO_PORT ?= 8080

.PHONY: all node-deps server-deps lint fmt-check vet staticcheck test fuzz demo bench bench-build bench-smoke go-bench clean

all: test

# npm ci only when node_modules is missing or older than the lock file: the
# stamp is created last, so an interrupted install is redone next time.
# --ignore-scripts: the clients need no install scripts, so run none.
node-deps: $(NODE_STAMP) $(BENCH_NODE_STAMP)

$(NODE_STAMP): $(NODE_DIR)/package-lock.json $(NODE_DIR)/package.json
	$(NPM) ci --prefix $(NODE_DIR) --ignore-scripts --no-audit --no-fund
	touch $@

# The Redis adapter's tests run a real redis-server, and the scale-out
# example's test a real nginx. Install them from Debian's packages when
# they are missing and we may (root with apt-get); otherwise those tests
# skip locally (and fail in CI, whose .ci/run installs them).
server-deps:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing$$missing"; \
			timeout 300 apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq $$missing >/dev/null; \
		else echo "missing$$missing: the tests that need them will skip"; fi; \
	fi

$(BENCH_NODE_STAMP): $(BENCH_NODE_DIR)/package-lock.json $(BENCH_NODE_DIR)/package.json
	$(NPM) ci --prefix $(BENCH_NODE_DIR) --ignore-scripts --no-audit --no-fund
	touch $@

lint: fmt-check vet staticcheck

# `gofmt -l .` would walk into testdata/node_modules, so list the Go files
# with find, pruning node_modules and .git (works without git too).
fmt-check:
	@files=$$(find . \( -name node_modules -o -name .git \) -prune -o -name '*.go' -type f -print | xargs -r gofmt -l); \
	if [ -n "$$files" ]; then echo "gofmt needed on:"; echo "$$files"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# go test output is left untouched so CI logs show the ok/FAIL lines.
test: node-deps server-deps lint
	$(GO) test -race -count=1 -timeout $(GO_TEST_TIMEOUT) ./...
	# With one CPU, broadcasts skip the sessions' queues
	# (engineio.Session.WriteShared) and go out through io_uring, or, where
	# the kernel refuses io_uring, from the broadcasting goroutine: run the
	# servers' tests both ways.
	GOMAXPROCS=1 $(GO) test -race -count=1 -timeout $(GO_TEST_TIMEOUT) . ./engineio ./internal/interop
	GOMAXPROCS=1 DYNAMICIO_IO_URING=off $(GO) test -race -count=1 -timeout $(GO_TEST_TIMEOUT) . ./engineio ./internal/interop
	$(MAKE) fuzz

# A short fuzz run per target: catches regressions on the seed corpus
# (testdata/fuzz) plus whatever a few seconds of mutation finds. go test only
# warns when -fuzz matches nothing, so check with -list first that the
# target exists: a renamed target must not silently stop being fuzzed.
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -list "^$$name$$" $$pkg | grep -qx "$$name" || \
			{ echo "fuzz target $$name not found in $$pkg"; exit 1; }; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg; \
	done

# Demo server on loopback: a chat of dynamic rooms, with the browser build
# of socket.io-client and the status page.
demo: node-deps
	$(GO) run ./cmd/dynamicio -addr 127.0.0.1:$(DEMO_PORT) -client-dir $(NODE_DIR)/node_modules/socket.io-client/dist

# The side-by-side benchmark (cmd/dynamicio-bench): our server, Node's
# socket.io on ws and on uWebSockets.js, and a plain WebSocket server, each
# pinned to cpu 1 with the load generator on cpu 0. About 15 minutes;
# writes bench/results/results.{md,json,png}.
bench: node-deps bench-build
	$(BENCH_BIN)/dynamicio-bench -out bench/results $(BENCH_FLAGS)

# A few seconds per server: every server, one tiny pass of every scenario
# (go test ./cmd/dynamicio-bench runs the same in `make test`).
bench-smoke: node-deps bench-build
	$(BENCH_BIN)/dynamicio-bench -smoke -reps 1 -out $(BENCH_BIN)/smoke $(BENCH_FLAGS)

bench-build:
	$(GO) build -o $(BENCH_BIN)/dynamicio ./bench/server/dynamicio
	$(GO) build -o $(BENCH_BIN)/rawws ./bench/server/rawws
	$(GO) build -o $(BENCH_BIN)/dynamicio-bench ./cmd/dynamicio-bench

# The Go microbenchmarks of every package.
go-bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf $(NODE_DIR)/node_modules $(BENCH_NODE_DIR)/node_modules bin dist coverage.out
	rm -f bench/results/*.tmp
