# strata: `make run` serves with the default config, `make test` runs every test.
# Both set up what is missing first (apt packages, npm deps, build) and are
# quick when nothing is.
SHELL := /bin/bash
.DEFAULT_GOAL := build

# What serving and the README's five-minute try need: containerd (with runc)
# to serve, and busybox-static for the example image.
RUN_PACKAGES := containerd busybox-static
# What the tests need besides: Go and containerd's source for the conformance
# suites and the bench's reference applier, attr and zstd and python3-fusepy
# for the stream tests, docker-registry and skopeo for the pulls,
# systemd's systemd-analyze for the shipped unit, chromium to open the HTML
# pages strata writes (test/support/browser.ts), and btrfs-progs for the
# bench's btrfs snapshotter (mkfs.btrfs on a loop file).
TEST_PACKAGES := golang-go golang-github-containerd-containerd-dev attr zstd python3-fusepy docker-registry skopeo systemd chromium btrfs-progs
CONFIG ?= config/strata.toml
GOPATH_DIR := $(CURDIR)/out/gopath
SOURCES := $(shell find src proto native-bench -type f) tsconfig.json
TEST_SOURCES := $(shell find test native-bench -name '*.ts') tsconfig.test.json

.PHONY: run test build setup run-packages test-packages unit conformance e2e bench example-image clean

run: setup
	node dist/cli.js serve --config $(CONFIG)

test: run-packages test-packages build out/.tests-built
	$(MAKE) --no-print-directory unit conformance e2e

build: node_modules/.installed build/Release/strata_syscalls.node dist/cli.js

setup: run-packages build

# Installs, with apt, those of the packages that are missing.
define install-missing
	@missing=$$(for p in $(1); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
endef

run-packages:
	$(call install-missing,$(RUN_PACKAGES))

test-packages:
	$(call install-missing,$(TEST_PACKAGES))

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# The native addon (src/native/*.c). npm ci builds it (the package's install
# script), so a fresh install is only an order, not a reason to build again.
build/Release/strata_syscalls.node: binding.gyp $(wildcard src/native/*.c src/native/*.h) | node_modules/.installed
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
bench: run-packages test-packages build
	node dist/cli.js bench $(BENCH_FLAGS)

# A runnable image for trying strata with no registry: Debian's static
# busybox as a one-layer OCI archive, which `ctr images import` names
# docker.io/library/busybox:strata-try.
EXAMPLE := out/example
example-image: $(EXAMPLE)/busybox.oci.tar

$(EXAMPLE)/busybox.oci.tar: | run-packages
	rm -rf $(EXAMPLE) && mkdir -p $(EXAMPLE)/rootfs/bin $(EXAMPLE)/rootfs/tmp $(EXAMPLE)/oci/blobs/sha256
	cp /bin/busybox $(EXAMPLE)/rootfs/bin/busybox
	for tool in sh echo cat ls sleep; do ln -s busybox $(EXAMPLE)/rootfs/bin/$$tool; done
	chmod 1777 $(EXAMPLE)/rootfs/tmp
	tar --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -C $(EXAMPLE)/rootfs -cf $(EXAMPLE)/layer.tar .
	cd $(EXAMPLE) && set -e && \
	  blob() { local sum; sum=$$(sha256sum "$$1" | cut -d' ' -f1); mv "$$1" oci/blobs/sha256/$$sum; \
	    echo "{\"mediaType\":\"$$2\",\"digest\":\"sha256:$$sum\",\"size\":$$(stat -c %s oci/blobs/sha256/$$sum)$$3}"; }; \
	  arch=$$(dpkg --print-architecture); \
	  diffid=$$(sha256sum layer.tar | cut -d' ' -f1); gzip -9n layer.tar; \
	  layer=$$(blob layer.tar.gz application/vnd.oci.image.layer.v1.tar+gzip); \
	  printf '{"architecture":"%s","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' $$arch $$diffid > config.json; \
	  config=$$(blob config.json application/vnd.oci.image.config.v1+json); \
	  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":%s,"layers":[%s]}' "$$config" "$$layer" > manifest.json; \
	  manifest=$$(blob manifest.json application/vnd.oci.image.manifest.v1+json \
	    ",\"platform\":{\"architecture\":\"$$arch\",\"os\":\"linux\"},\"annotations\":{\"io.containerd.image.name\":\"docker.io/library/busybox:strata-try\",\"org.opencontainers.image.ref.name\":\"strata-try\"}"); \
	  echo "{\"schemaVersion\":2,\"manifests\":[$$manifest]}" > oci/index.json; \
	  echo '{"imageLayoutVersion":"1.0.0"}' > oci/oci-layout
	tar --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -C $(EXAMPLE)/oci -cf $@ oci-layout index.json blobs
	@echo "$@: docker.io/library/busybox:strata-try"

clean:
	rm -rf dist build out
