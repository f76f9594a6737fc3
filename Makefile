# profiled — see README.md. Every target works on a fresh machine with Go.
GO       ?= go
BIN      := bin/profiled
TESTBIN  := bin/profiled-test
PKGS     := ./...
FUZZTIME ?= 20s

.PHONY: run build test vet bench fuzz image clean

ARGS     ?=

# No flag of its own: flags outrank the environment, and PROFILED_CONFIG
# (default config.yaml), PROFILED_ADDR and PROFILED_DATA must choose.
run: build ## start the service on ./config.yaml, data under ./data/, port 8080 (ARGS='-addr :9090' for more flags)
	./$(BIN) serve $(ARGS)

# Development builds are static (CGO_ENABLED=0) as the release binary is,
# so an image built from whatever bin/profiled holds runs FROM scratch;
# make image adds -trimpath and strips symbols.
build: ## build bin/profiled
	CGO_ENABLED=0 $(GO) build -buildvcs=auto -o $(BIN) .

# The HTTP suites of both APIs (server, egain) run twice: on bbolt, and
# beside it, from the same test binary, on PostgreSQL (PROFILED_TEST_POSTGRES
# names the server; without one reachable the PostgreSQL tests skip, saying
# so, except under CI=true). PROFILED_TEST_STORE=bbolt or =postgres runs one.
test: ## every test: unit, HTTP, store, fuzz seeds, example bodies; HTTP suites on both stores
	$(GO) vet $(PKGS)
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	@# Tests wait on fsyncs, processes and the database more than they
	@# compute: 8 at a time instead of one per core (measured on 2 cores:
	@# the server suite 15.5 s -> 11.1 s).
	@# Three packages at once, not four: four opened more PostgreSQL
	@# sessions together than the server's max_connections (100), and
	@# tests met 53300 refusals (measured: 34 in one run at -p 4, none in
	@# three at -p 3, for the same wall time).
	@# The binary the end-to-end tests start is linked once, here, for
	@# every package (PROFILED_TEST_BIN).
	$(GO) build -o $(TESTBIN) .
	PROFILED_TEST_BIN=$(abspath $(TESTBIN)) $(GO) test -count=1 -p 3 -parallel 8 -timeout 15m $(PKGS)

vet:
	$(GO) vet $(PKGS)

BENCH_SIZES ?= 10000,1000000
BENCH_FLAGS ?=
bench: ## build, micro-benchmarks, then the end-to-end harness (docs/performance.md); prints tables, never fails
	-$(MAKE) --no-print-directory build
	-$(GO) test -run '^$$' -bench . -skip Hostile -benchmem -benchtime 2000x ./internal/jsonw ./schema ./store ./profile/... ./importer ./egain ./server
	-$(GO) test -run '^$$' -bench Hostile -benchmem -benchtime 20x ./schema ./server
	-$(GO) run ./cmd/bench -bin $(BIN) -config config.yaml -sizes $(BENCH_SIZES) -out docs/performance.md $(BENCH_FLAGS)

fuzz: ## run every fuzz target for FUZZTIME each
	@set -e; for pkg in $$($(GO) list ./...); do \
		targets=$$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); \
		for target in $$targets; do \
			echo "== $$pkg $$target"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

image: ## static binary and a FROM scratch image
	CGO_ENABLED=0 $(GO) build -buildvcs=auto -trimpath -ldflags '-s -w' -o $(BIN) .
	docker build -t profiled:latest .

clean:
	rm -rf bin data
