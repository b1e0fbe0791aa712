# Paddock — build, test and run targets. Every target works on a fresh
# Debian bookworm machine as root: `deps` installs what the build needs.

SWIFT      ?= swift
APT_PKGS   := libseccomp-dev libyaml-dev libsqlite3-dev pkg-config
PC_MODULES := libseccomp yaml-0.1 sqlite3
BIN        := .build/debug

.PHONY: deps build test run bench lint clean

## deps: install the system libraries (idempotent, silent when present)
deps:
	@if ! pkg-config --exists $(PC_MODULES) 2>/dev/null; then \
		echo "make deps: installing $(APT_PKGS)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq >/dev/null && \
		apt-get install -y -qq --no-install-recommends $(APT_PKGS) >/dev/null; \
	fi
	@pkg-config --exists $(PC_MODULES) || { echo "make deps: $(PC_MODULES) still missing" >&2; exit 1; }

## build: debug build of every target
build: deps
	$(SWIFT) build

## test: the whole test suite (this is what CI runs)
test: deps
	$(SWIFT) build
	$(SWIFT) test

## run: the embedded default — for now, validate every example plugin
run: build
	@status=0; for dir in examples/*/; do \
		$(BIN)/paddock validate "$$dir" || status=1; \
	done; exit $$status

## bench: benchmarks (none yet)
bench:
	@echo "make bench: nothing is benchmarked yet (the sandbox and RPC issues add the first benchmarks)"

## lint: swift-format in lint mode
lint:
	$(SWIFT) format lint -r Sources Tests

## clean: remove build products
clean:
	rm -rf .build .build-*
