# gp2gp: GP2GP patient record transfer as event-driven services on NATS
# JetStream. This Makefile is the only entry point; every target works on a
# machine with nothing but Go installed.
#
# Targets:
#   make help     list the targets
#   make run      start the dev stack: embedded NATS with JetStream and every
#                 service in one process (Ctrl-C stops it; data stays in
#                 ./.devstack)
#   make transfer start another transfer on the running dev stack and print
#                 its timeline (NHS=<dev patient's NHS number>, optional)
#   make test     run every test of every module, with the race detector
#   make build    build the service binaries into bin/
#   make lint     gofmt, go vet, tidy go.mod files, generated code up to date,
#                 no production binary links nats-server
#   make proto    regenerate the Go code of the bus contracts in proto/
#   make bench    benchmarks against raw baselines, printed as ratios
#   make fuzz     run every fuzz target for FUZZ_TIME and keep new corpus
#                 entries in testdata/fuzz
#   make images   build a container image of each service with docker
#                 (deploy/docker/Dockerfile; needs a running Docker engine)
#   make chaos    fault injection: the services and a nats-server as OS
#                 processes on the loopback, transfers while random ones are
#                 SIGKILLed and restarted; checks states, duplicates on the
#                 wire, documents, dead letters; prints a summary (~2-3 min)
#   make soak     the same processes without kills at 10 transfers/s for
#                 SOAK_DURATION: memory, goroutines, latency (~5 min)
#   make clean    remove bin/ and the dev stack's data
#
# Knobs (environment or make VAR=value):
#   GP2GP_SPEC_DIR  the shared spec directory; conformance tests skip without it
#   TEST_FLAGS      flags for go test (default: -race -count=1 -timeout 10m)
#   BENCH_COUNT     runs per benchmark for make bench (default 5)
#   BENCH_TIME      -benchtime for make bench (default 3000x)
#   FUZZ_TIME       how long make fuzz runs each target (default 60s)
#   CHAOS_TRANSFERS transfers of make chaos (default 60)
#   CHAOS_KILLS     SIGKILLs make chaos injects (default 12)
#   CHAOS_DURATION  cap on a run once the processes are up (default 150s;
#                   soak: SOAK_DURATION + 90s)
#   CHAOS_SEED      seed of the kill times and targets (default: the clock)
#   CHAOS_TARGETS   processes make chaos may kill, comma-separated (default
#                   all: nats,requester,sender,receiver,acknowledger,mireporter)
#   CHAOS_LARGE_EVERY, CHAOS_LARGE_SIZE  every n-th transfer a large record
#                   with a document of that many bytes (default 5, 4194304;
#                   soak 20, 1048576)
#   CHAOS_SPLIT_THRESHOLD  the sender's GP2GP_SPLIT_THRESHOLD (default its
#                   own, 4500000; soak 500000)
#   CHAOS_REFUSE_EVERY  every n-th transfer's record cannot be produced, so
#                   the sender refuses it with 10 (default 10; soak 0)
#   CHAOS_POISON    poison registrations injected (default 3)
#   CHAOS_KEEP      true: keep the work directory (binaries, store, logs)
#   SOAK_DURATION   how long make soak registers patients (default 3m)
#   SOAK_RATE       registrations per second of make soak (default 10)
#   IMAGE_REPO      repository prefix of make images (default gp2gp: gp2gp/<svc>)
#   IMAGE_TAG       tag of make images (default: the git short commit)

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Every module of the workspace, as ./dir/... patterns.
MODULE_DIRS := $(shell go list -m -f '{{.Dir}}' | sed "s|^$(CURDIR)/||")
PACKAGES := $(addprefix ./,$(addsuffix /...,$(MODULE_DIRS)))
# Every command: services/<svc>/cmd/<svc>.
COMMANDS := $(wildcard services/*/cmd/*)

TEST_FLAGS ?= -race -count=1 -timeout 10m
# HEAVY_TESTS move hundreds of megabytes through the broker; under the race
# detector they would take many minutes, so they run in a pass without it.
HEAVY_TESTS ?= ^(TestHundredMegabyteDocument|TestLargeRecordEndToEnd)$$

# Tests run in their package directories: make the spec path absolute.
ifdef GP2GP_SPEC_DIR
export GP2GP_SPEC_DIR := $(abspath $(GP2GP_SPEC_DIR))
endif

.PHONY: help run transfer test build lint proto bench fuzz chaos soak images clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

run: ## start the dev stack (embedded NATS + every service)
	go run ./services/devstack/cmd/devstack

transfer: ## another transfer on the running dev stack (NHS=…)
	go run ./services/devstack/cmd/devstack register $(NHS)

test: ## run every test of every module with -race, then the heavy ones without
	go test $(TEST_FLAGS) $(PACKAGES)
	go test -count=1 -timeout 10m -run '$(HEAVY_TESTS)' ./services/devstack/

build: ## build the service binaries into bin/
	@mkdir -p bin
	go build -trimpath -o bin/ $(addprefix ./,$(COMMANDS))

lint: ## gofmt, go vet, tidy modules, generated code, dependency rules
	@unformatted="$$(gofmt -l $(MODULE_DIRS))"; \
	if [[ -n "$$unformatted" ]]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go vet $(PACKAGES)
	@for d in $(MODULE_DIRS); do \
		(cd "$$d" && GOWORK=off go mod tidy -diff >/dev/null) || { echo "$$d: go.mod/go.sum not tidy (run go mod tidy there)"; exit 1; }; \
	done
	scripts/proto-check.sh
	scripts/check-deps.sh

proto: ## regenerate Go code from proto/**/*.proto
	scripts/proto.sh

bench: ## benchmarks against raw baselines, as ratios
	scripts/bench.sh

fuzz: ## run every fuzz target, keep new corpus entries
	scripts/fuzz.sh

chaos: ## kill services and NATS during transfers, then check (CHAOS_*)
	go run ./services/chaos/cmd/chaos chaos

soak: ## 10 transfers/s for SOAK_DURATION: memory, goroutines, latency
	go run ./services/chaos/cmd/chaos soak

# Images: the production commands, one Dockerfile (ARG SERVICE); the
# deploy tests check this list against the Dockerfile's.
IMAGE_REPO ?= gp2gp
IMAGE_TAG ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo dev)
IMAGE_SERVICES := requester sender receiver acknowledger mireporter gp2gpctl

images: ## build every service's container image (docker)
	@docker info >/dev/null 2>&1 || { echo "make images: no Docker engine answers (docker info failed); start one, or set DOCKER_HOST" >&2; exit 1; }
	@revision="$$(git rev-parse HEAD 2>/dev/null || echo unknown)"; \
	for svc in $(IMAGE_SERVICES); do \
		echo "building $(IMAGE_REPO)/$$svc:$(IMAGE_TAG)"; \
		docker build -f deploy/docker/Dockerfile --build-arg SERVICE="$$svc" \
			--build-arg VERSION="$(IMAGE_TAG)" --build-arg REVISION="$$revision" \
			-t "$(IMAGE_REPO)/$$svc:$(IMAGE_TAG)" . ; \
	done

clean: ## remove build output and dev stack data
	rm -rf bin .devstack
