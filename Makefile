# strata: `make run` serves with the default config, `make test` runs every test.
# Both set up what is missing first (apt packages, npm deps, build) and are
# quick when nothing is.
SHELL := /bin/bash
.DEFAULT_GOAL := build

# zstd and busybox-static make the stream tests' layers; python3-fusepy their
# slow disk; docker-registry and skopeo serve the pulls of the benchmark and
# the end-to-end tests; systemd's systemd-analyze checks the shipped unit.
APT_PACKAGES := containerd golang-go golang-github-containerd-containerd-dev attr zstd busybox-static python3-fusepy \
  docker-registry skopeo systemd
CONFIG ?= config/strata.toml
GOPATH_DIR := $(CURDIR)/out/gopath
SOURCES := $(shell find src proto native-bench -type f) tsconfig.json
TEST_SOURCES := $(shell find test native-bench -name '*.ts') tsconfig.test.json

.PHONY: run test build setup apt-packages unit conformance e2e bench clean

run: build
	node dist/cli.js serve --config $(CONFIG)

test: apt-packages build out/.tests-built
	$(MAKE) --no-print-directory unit conformance e2e

build: node_modules/.installed build/Release/strata_syscalls.node dist/cli.js

setup: apt-packages build

apt-packages:
	@missing=$$(for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# The native addon (src/native/*.c); npm ci builds it too.
build/Release/strata_syscalls.node: node_modules/.installed binding.gyp $(wildcard src/native/*.c src/native/*.h)
	npm run install

dist/cli.js: node_modules/.installed $(SOURCES)
	npm run build

out/.tests-built: node_modules/.installed $(SOURCES) $(TEST_SOURCES)
	npm run build:test
	touch $@

# --expose-gc lets the stream tests collect garbage, so a file handle left to
# the collector shows up as Node's "Closing file descriptor" warning.
unit: build
	node --test --expose-gc --test-reporter=spec dist/

# containerd's own snapshotter and content suites, through its proxy clients.
conformance: build
	mkdir -p $(GOPATH_DIR)/src/strata
	ln -sfn $(CURDIR)/test/conformance $(GOPATH_DIR)/src/strata/conformance
	cd $(GOPATH_DIR)/src/strata/conformance && \
	  GO111MODULE=off GOPATH=$(GOPATH_DIR):/usr/share/gocode GOFLAGS= \
	  STRATA_CLI=$(CURDIR)/dist/cli.js go test -count=1 -parallel 4 -timeout 15m -v .

e2e: build out/.tests-built
	node --test --test-reporter=spec --test-concurrency=1 out/test/e2e/

# The full benchmark suite (an hour or more); `make test` runs only its --quick smoke.
bench: apt-packages build
	node dist/cli.js bench $(BENCH_FLAGS)

clean:
	rm -rf dist build out
