# Paddock — build, test and run targets. Every target works on a fresh
# Debian bookworm machine as root: `deps` installs what the build needs.

SWIFT      ?= swift
APT_PKGS   := libseccomp-dev libyaml-dev libsqlite3-dev zlib1g-dev pkg-config gcc libc6-dev python3 python3-venv curl util-linux \
              passt iproute2
PC_MODULES := libseccomp yaml-0.1 sqlite3 zlib
# Tools the tests run for real: a C compiler for the sandbox probe, Debian's
# python3 (a plugin under a dropped uid cannot read a pyenv shim), setpriv;
# pasta (passt) connects plugins with network permission, ip makes test hosts.
TOOLS      := /usr/bin/cc /usr/bin/python3 /usr/bin/setpriv /usr/bin/curl /usr/bin/pasta /usr/sbin/ip
BIN        := .build/debug
RELEASE    := .build/release
PROFILE    := sandbox-profiles/default.yaml
# bwrap with the view paddock-sandbox builds: the same read-only binds, a
# minimal /dev, a fresh /proc, tmpfs for /data and /tmp, every namespace.
BWRAP_VIEW := --die-with-parent --new-session --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib \
	--symlink usr/lib64 /lib64 --ro-bind /etc/ld.so.cache /etc/ld.so.cache --ro-bind /etc/localtime /etc/localtime \
	--ro-bind /etc/ssl /etc/ssl --ro-bind-try /etc/ca-certificates /etc/ca-certificates --dev /dev --proc /proc \
	--tmpfs /tmp --tmpfs /data --ro-bind $(CURDIR)/examples/text-tools /plugin --chdir /plugin
BWRAP      := /usr/bin/bwrap --unshare-all $(BWRAP_VIEW)
# schemathesis (from PyPI) for the API conformance run, in a venv of its own.
VENV       := .build/api-venv

.PHONY: deps build test api-test run demo bench fuzz lint clean

## deps: install the system libraries (idempotent, silent when present)
deps:
	@missing=0; for tool in $(TOOLS); do [ -x $$tool ] || missing=1; done; \
	if [ $$missing = 1 ] || ! pkg-config --exists $(PC_MODULES) 2>/dev/null; then \
		echo "make deps: installing $(APT_PKGS)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq >/dev/null && \
		apt-get install -y -qq --no-install-recommends $(APT_PKGS) >/dev/null 2>&1; \
	fi
	@pkg-config --exists $(PC_MODULES) || { echo "make deps: $(PC_MODULES) still missing" >&2; exit 1; }

## build: debug build of every target
build: deps
	$(SWIFT) build

## test: the whole test suite (this is what CI runs)
test: deps
	$(SWIFT) build
	# Serially: the tests spawn real sandboxed processes and measure deadlines;
	# on two cores, parallel suites starve each other.
	$(SWIFT) test --no-parallel
	$(MAKE) api-test

## api-test: schemathesis against docs/openapi.yaml and a live gateway with
## the examples: no 5xx, and every response fits the description
api-test: deps
	@[ -x $(VENV)/bin/st ] || { /usr/bin/python3 -m venv $(VENV) && $(VENV)/bin/pip install -q schemathesis==4.32.5; }
	$(SWIFT) build --product paddock-gateway
	Tests/api/schemathesis.sh $(BIN) $(VENV)

## run: Paddock's main job: `paddock up` starts paddockd and paddock-gateway
## on 127.0.0.1:8080 with the examples installed and active, prints an admin
## key and a curl line to try; Ctrl-C stops both
run: build
	$(BIN)/paddock up --data .paddock --listen 127.0.0.1:8080

## demo: the embedded default, no daemon: validate every example, then run
## each under the sandbox with `paddock run` and print the results (the
## weather plugin talks to a stand-in weather service on 127.0.0.1)
demo: build
	@status=0; for dir in examples/*/; do \
		$(BIN)/paddock validate "$$dir" || status=1; \
	done; exit $$status
	@echo "== text-tools"
	$(BIN)/paddock run examples/text-tools --tool word_count --params '{"text": "the quick brown fox"}'
	$(BIN)/paddock run examples/text-tools --tool slugify --params '{"text": "Hello, Paddock World!"}'
	$(BIN)/paddock run examples/text-tools --tool json_path --params '{"document": {"a": [{"b": 42}]}, "path": "a[0].b"}'
	$(BIN)/paddock run examples/text-tools --tool split_words --params '{"text": "streamed one word at a time"}' --stream
	@echo "== echo-swift (native, PaddockPluginKit, strict profile)"
	$(BIN)/paddock run examples/echo-swift --tool count --params '{"n": 3}' --stream
	$(BIN)/paddock run examples/echo-swift --endpoint /hello --query name=Paddock
	@echo "== weather-forecast"
	@set -e; fifo=$$(mktemp -u); mkfifo $$fifo; \
		/usr/bin/python3 examples/weather-forecast/dev/fake_upstream.py > $$fifo & upstream=$$!; \
		trap 'kill $$upstream 2>/dev/null; rm -f '$$fifo EXIT; \
		read port < $$fifo; settings="--setting api_base=http://127.0.0.1:$$port --setting api_key=- --allow-host-port $$port"; \
		echo test-key | $(BIN)/paddock run examples/weather-forecast --tool current_weather --params '{"city": "Berlin"}' $$settings; \
		echo test-key | $(BIN)/paddock run examples/weather-forecast --endpoint /weather --query city=Paris $$settings
	@echo "== notes (host storage under a 16 KB quota, kept in a scratch --data between runs)"
	@set -e; data=$$(mktemp -d); trap 'rm -rf '$$data EXIT; \
		$(BIN)/paddock run examples/notes --data $$data --tool save_note --params '{"title": "Groceries", "text": "eggs, flour, milk"}'; \
		$(BIN)/paddock run examples/notes --data $$data --tool save_note --params '{"title": "Paddock", "text": "run untrusted plugins safely"}'; \
		$(BIN)/paddock run examples/notes --data $$data --tool search_notes --params '{"query": "flour"}'
	@echo "== mini-llm (a deterministic offline model plugin)"
	$(BIN)/paddock run examples/mini-llm --model mini-chat --prompt "what is 6 * 7"
	$(BIN)/paddock run examples/mini-llm --model mini-markov --prompt "the sandbox" --params '{"max_tokens": 12}'

## bench: spawn-to-exit of /bin/true and python3, bare, under paddock-sandbox
## and under bwrap, interleaved in one run; medians and ratios to bare exec.
## RPC round trips to a sandboxed Python plugin against a raw socketpair
## ping-pong, and spawn-to-ready against python3 -c pass, unpinned and pinned.
## Quota-checked storage sets against raw SQLite upserts, same durability.
## Echo tool latency while a second plugin floods its stderr, against without.
## Gateway requests/s and p50/p99 (wrk) for an echo tool on a Python and a
## Swift plugin against the same echo as Flask behind nginx and as a bare
## Hummingbird server, with the issue's target ratios (req/s ratios).
bench: deps
	@command -v bwrap >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null 2>&1; }
	$(SWIFT) build -c release --product paddock-sandbox
	$(SWIFT) build -c release --product paddock-bench
	$(SWIFT) build -c release --product echo-swift
	@echo "== sandbox: spawn to exit, $$(nproc) CPUs, $$(uname -r): paddock-sandbox (own root, pid, mount, net, IPC, UTS, cgroup namespaces, disk tmpfs, landlock and seccomp as in $(PROFILE)) against bwrap --unshare-all with the same binds"
	@$(RELEASE)/paddock-bench spawn --rounds 300 \
		"true=/bin/true" \
		"sandbox=$(RELEASE)/paddock-sandbox --profile $(PROFILE) --bind $(CURDIR)/examples/text-tools /plugin -- /bin/true" \
		"bwrap=$(BWRAP) /bin/true"
	@$(RELEASE)/paddock-bench spawn --rounds 100 \
		"python3=/usr/bin/python3 -c pass" \
		"sandbox=$(RELEASE)/paddock-sandbox --profile $(PROFILE) --bind $(CURDIR)/examples/text-tools /plugin -- /usr/bin/python3 -c pass" \
		"bwrap=$(BWRAP) /usr/bin/python3 -c pass"
	@echo "== with network permission: pasta connecting the plugin's namespace (bwrap has no equivalent as root)"
	@$(RELEASE)/paddock-bench spawn --rounds 30 \
		"python3=/usr/bin/python3 -c pass" \
		"sandbox=$(RELEASE)/paddock-sandbox --profile $(PROFILE) --bind $(CURDIR)/examples/text-tools /plugin -- /usr/bin/python3 -c pass" \
		"sandbox+network=$(RELEASE)/paddock-sandbox --profile sandbox-profiles/network.yaml --bind $(CURDIR)/examples/text-tools /plugin -- /usr/bin/python3 -c pass"
	@echo "== unpinned (what users get)"
	@$(RELEASE)/paddock-bench rpc --calls 5000
	@echo "== pinned: host and plugin on one CPU (taskset -c 0)"
	@taskset -c 0 $(RELEASE)/paddock-bench rpc --calls 5000
	@echo "== native plugin (examples/echo-swift), unpinned"
	@$(RELEASE)/paddock-bench rpc --calls 5000 --swift
	@$(RELEASE)/paddock-bench flood --calls 5000
	@$(RELEASE)/paddock-bench supervisor --plugins 100
	@$(RELEASE)/paddock-bench storage
	@echo "== a Dify plugin (official SDK, Tests/dify-plugins/dify_messages): through Paddock against a bare stdio driver"
	@$(RELEASE)/paddock-bench dify --calls 1000
	@command -v wrk >/dev/null && command -v nginx >/dev/null && command -v gunicorn >/dev/null && /usr/bin/python3 -c 'import flask' 2>/dev/null || \
		{ DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light gunicorn python3-flask >/dev/null 2>&1; }
	@for product in paddock paddockd paddock-gateway bench-echo-server; do $(SWIFT) build -c release --product $$product >/dev/null || exit 1; done
	@Tests/bench/gateway.sh $(RELEASE)

## fuzz: libFuzzer, coverage-guided, under the address sanitizer, on the
## parsers and decoders of untrusted input (json, frame, manifest, profile,
## parameters: Sources/PaddockFuzz), FUZZ_SECONDS each (default 120; the
## acceptance run is 600). Starts from the committed corpus in Tests/fuzz;
## what it learns stays in .build-fuzz/corpus. A crash stops the run with
## the input in .build-fuzz/crashes: copy it to Tests/fuzz/TARGET/crash-NAME,
## where the tests replay it from then on.
FUZZ_SECONDS ?= 120
FUZZ_TARGETS ?= json frame manifest profile parameters
fuzz: deps
	$(SWIFT) build --scratch-path .build-fuzz --product paddock-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
	@mkdir -p .build-fuzz/crashes
	@for target in $(FUZZ_TARGETS); do \
		mkdir -p .build-fuzz/corpus/$$target; \
		echo "== fuzz $$target: $(FUZZ_SECONDS) s"; \
		PADDOCK_FUZZ_TARGET=$$target .build-fuzz/debug/paddock-fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
			-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=.build-fuzz/crashes/$$target- \
			.build-fuzz/corpus/$$target Tests/fuzz/$$target 2>.build-fuzz/$$target.log \
			|| { tail -n 40 .build-fuzz/$$target.log; echo "make fuzz: $$target crashed; the input is in .build-fuzz/crashes" >&2; exit 1; }; \
		grep -E "^stat::(number_of_executed_units|peak_rss_mb|new_units_added)" .build-fuzz/$$target.log; \
	done

## lint: swift-format in lint mode
lint:
	$(SWIFT) format lint -r Sources Tests

## clean: remove build products
clean:
	rm -rf .build .build-*
