# golive: two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/golive
TOOLS := .tools
PRISM_VERSION := 5.14.2
PLAYWRIGHT_VERSION := 1.65.1
# VERSITYGW_VERSION: the S3 gateway the Object Lock tests run against (internal/evidencestore/objectlock_test.go
# pins the same version); after changing it, delete .tools/bin/versitygw so `make tools` builds the new one
VERSITYGW_VERSION := v1.8.0
export GOLIVE_TOOLS := $(CURDIR)/$(TOOLS)

.PHONY: all build build-worker demo demo-prometheus dev test test-deps test-short test-faults fuzz lint bench tools pg clean

all: build

## build: the golive CLI with the embedded dev server and UI
build:
	$(GO) build -o $(BIN) ./cmd/golive

## build-worker: the production binary, without the embedded Temporal server
build-worker:
	$(GO) build -tags nodevserver -o bin/golive-worker ./cmd/golive

## demo: a whole release live (good version, then a bad one that rolls back), its metrics through Prometheus
demo: build pg demo-prometheus
	./$(BIN) demo

## demo-prometheus: install Debian's Prometheus for the demo when it is missing and apt-get is there
## (the demo starts its own on a loopback port: stop the service the package starts)
demo-prometheus:
	@command -v prometheus >/dev/null || ! command -v apt-get >/dev/null || { \
	  echo "installing prometheus (apt-get) for the demo"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; } || \
	    echo "could not install prometheus: the demo reads /stats directly"; \
	  command -v prometheus >/dev/null && \
	    { systemctl stop prometheus || service prometheus stop || pkill -x -u prometheus prometheus || true; } >/dev/null 2>&1; \
	  true; }

## dev: embedded Temporal + UI + worker on 127.0.0.1:7233 / :8233
dev: build
	./$(BIN) dev

## test: every test, against real local servers (PostgreSQL, Prometheus, Prism, Chromium)
test: test-deps
	$(MAKE) tools pg lint
	$(GO) test -count=1 -timeout 20m ./...
	$(MAKE) fuzz

## test-deps: install what the tests need and the Go toolchain does not bring, when it is
## missing and apt-get is there: Prometheus, Chromium, the PostgreSQL client tools (pg_dump,
## pg_restore, psql), ssh-keygen, node and npm, PgBouncer (the pooling check) and pgaudit for
## the local server's version (the audit-logging check). Debian's Prometheus and PgBouncer
## start themselves as services: they are stopped, the tests start their own on loopback ports.
TEST_DEBS := prometheus:prometheus chromium:chromium pg_dump:postgresql-client pg_restore:postgresql-client \
  psql:postgresql-client ssh-keygen:openssh-client node:nodejs npm:npm pgbouncer:pgbouncer
PG_MAJOR := $(shell ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
test-deps:
	@need=$$( { for p in $(TEST_DEBS); do command -v $${p%%:*} >/dev/null || [ -x /usr/sbin/$${p%%:*} ] || echo $${p#*:}; done; \
	  [ -z "$(PG_MAJOR)" ] || ls /usr/lib/postgresql/$(PG_MAJOR)/lib/pgaudit.so >/dev/null 2>&1 || echo postgresql-$(PG_MAJOR)-pgaudit; } | sort -u | tr '\n' ' '); \
	if [ -z "$$need" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then echo "missing for the tests: $$need(install them; no apt-get here)"; exit 0; fi; \
	echo "installing for the tests (apt-get): $$need"; \
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$need >/dev/null; } || \
	  echo "could not install $$need: the tests that need them fail"; \
	case " $$need" in *" prometheus "*) \
	  { systemctl stop prometheus || service prometheus stop || pkill -x -u prometheus prometheus || true; } >/dev/null 2>&1;; esac; \
	case " $$need" in *" pgbouncer "*) \
	  { systemctl stop pgbouncer || service pgbouncer stop || true; } >/dev/null 2>&1;; esac

## test-faults: the kill harness (SIGKILL the worker at every activity) and friends; slow
test-faults: pg
	$(GO) test -count=1 -timeout 20m -tags faults ./internal/faults/

## cluster: the compose stack's Temporal cluster without containers: the real server's frontend, history,
## matching and worker services as processes on loopback (frontend 127.0.0.1:7233), on the local PostgreSQL,
## configured from docker-compose.yml's temporal service (internal/cluster); Ctrl-C stops it
## (CLUSTER_FLAGS=--free-ports beside another cluster; see ./bin/golive-cluster up --help)
CLUSTER_FLAGS ?=
cluster: pg bin/temporal-server bin/temporal-sql-tool
	$(GO) build -o bin/golive-cluster ./cmd/golive-cluster
	./bin/golive-cluster up $(CLUSTER_FLAGS)

## cluster-down: stop what `make cluster` left running, drop its databases, remove .golive/cluster
cluster-down: bin/temporal-server bin/temporal-sql-tool
	$(GO) build -o bin/golive-cluster ./cmd/golive-cluster
	./bin/golive-cluster down

## test-cluster: releases on that cluster across 3 production workers, a steady round and a round with a
## worker and the history service killed mid-run (GOLIVE_CLUSTER_RELEASES per round, default 60); then a
## rolling upgrade: half as many releases started on workers of an older golive (GOLIVE_UPGRADE_FROM, a
## commit, default da8c5d1^, before guided-failure) finish after each worker in turn is replaced by this build
test-cluster: pg bin/temporal-server bin/temporal-sql-tool
	$(GO) test -count=1 -timeout 40m -tags cluster -run '^TestCluster' -v ./worker/

## bench-cluster: the same with 1,000 releases per round, 500 through the upgrade (long, about an hour a round on
## 2 cores: not part of `make bench`; GOLIVE_CLUSTER_ROUNDS=steady runs the first round only)
bench-cluster: pg bin/temporal-server bin/temporal-sql-tool
	GOLIVE_CLUSTER_RELEASES=1000 $(GO) test -count=1 -timeout 150m -tags cluster -run '^TestCluster' -v ./worker/

## bench-overhead-cluster: BenchmarkOrchestrationOverhead on that cluster, default dynamic config and transfer queue unthrottled (~5 min)
bench-overhead-cluster: pg bin/temporal-server bin/temporal-sql-tool
	$(GO) test -count=1 -timeout 40m -tags cluster -run '^$$' -bench OrchestrationOverheadOnCluster -benchtime 1x ./worker/

bin/temporal-server: go.mod go.sum
	$(GO) build -o $@ go.temporal.io/server/cmd/server

bin/temporal-sql-tool: go.mod go.sum
	$(GO) build -o $@ go.temporal.io/server/cmd/tools/sql

.PHONY: cluster cluster-down test-cluster bench-cluster bench-overhead-cluster

## fuzz: each fuzz target for a short budget (seed corpora in testdata/fuzz). The budgets are counts,
## not durations: a duration ends the run with "context deadline exceeded" when it expires while a
## new input is being minimised on a loaded machine, which is the clock failing, not the code.
fuzz:
	$(GO) test ./internal/spec -run '^$$' -fuzz FuzzParse -fuzztime 20000x -fuzzminimizetime 200x
	$(GO) test ./workflows -run '^$$' -fuzz FuzzInputPayloads -fuzztime 15000x -fuzzminimizetime 200x
	$(GO) test ./internal/analysis -run '^$$' -fuzz FuzzParse -fuzztime 100000x -fuzzminimizetime 200x

## test-short: unit tests only
test-short:
	$(GO) test -short -count=1 ./...

## lint: go vet, Temporal's workflowcheck on the workflow code, and go.mod/go.sum tidy
lint:
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy (the diff is above)"; exit 1; }
	$(GO) vet ./...
	$(GO) run go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0 -config workflowcheck.config.yaml ./workflows/...

## bench: benchmarks that print figures (history size, orchestration overhead ratio, ...), then
## test-cluster (not in .ci/run: its ~11 minutes would take a cold-cache CI run past 40 minutes)
bench: tools pg
	$(GO) test -run '^$$' -bench . -benchtime 1x -count 1 -timeout 60m ./...
	$(MAKE) test-cluster

## tools: the test tools that are not golive's dependencies: Prism and playwright-core from npm, and
## versitygw (a real S3 server that enforces Object Lock) built with go install, outside golive's go.mod
tools: $(TOOLS)/node_modules/.bin/prism $(TOOLS)/node_modules/playwright-core/package.json $(TOOLS)/bin/versitygw

$(TOOLS)/node_modules/.bin/prism:
	mkdir -p $(TOOLS)
	npm install --no-audit --no-fund --prefix $(TOOLS) @stoplight/prism-cli@$(PRISM_VERSION)

$(TOOLS)/node_modules/playwright-core/package.json:
	mkdir -p $(TOOLS)
	npm install --no-audit --no-fund --prefix $(TOOLS) playwright-core@$(PLAYWRIGHT_VERSION)

$(TOOLS)/bin/versitygw:
	GOBIN=$(GOLIVE_TOOLS)/bin $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

## pg: make sure the local PostgreSQL answers (starts the Debian cluster if it is down)
pg:
	@pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || true

clean:
	rm -rf bin .golive
