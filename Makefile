# forkhttpd: `make run` serves on $(PORT) (8888 unless you set PORT), `make test` tests.
# `make trace STAGE=3e` traces one of the article's stages and draws it (docs/stages.md).

CARGO ?= cargo
BIN   := target/release/forkhttpd
PORT  ?= 8888

STAGE ?= forkhttpd

# What the tests (and make trace) run besides cargo: a tracer, real HTTP clients, bc,
# php-cgi (the CGI program most sites run), GoAccess (a log analyser that reads the
# combined log) and Python's YAML module (the Kubernetes manifest is checked with it).
TEST_TOOLS := strace curl bc wget php-cgi goaccess buildah brotli zstd
# A browser for the test that draws make trace's picture (tests/trace_picture.rs):
# installed when it can be; without it that test says it is skipped, and why.
BROWSER := chromium

# The fuzz targets (fuzz/): how long `make fuzz` runs them, in all.
FUZZ_SECONDS ?= 60

PREFIX  ?= /usr/local
DESTDIR ?=

.PHONY: build run test size bench trace fuzz clean install test-tools test-browser

build:
	$(CARGO) build --release

run: build
	./$(BIN) --port $(PORT)

# The black-box tests run $(BIN), the release build, as users do.
test: build test-tools test-browser
	$(CARGO) test

# Stripped size: what a `FROM scratch` image carries. Fails above SIZE_LIMIT (106 KiB: the
# size rounded up to KiB, and some room), so CI notices a change that outgrows it. The
# goal is 64 KiB (docs/size.md), which this is over.
SIZE_LIMIT ?= 108544
size: build
	@strip -o target/forkhttpd.stripped $(BIN)
	@echo "$(BIN): $$(stat -c %s $(BIN)) bytes, $$(stat -c %s target/forkhttpd.stripped) bytes stripped (limit $(SIZE_LIMIT))"
	@size -A target/forkhttpd.stripped | awk '$$1 ~ /^\./ && $$2 > 0 { printf "  %-14s %6d\n", $$1, $$2 }'
	@stripped=$$(stat -c %s target/forkhttpd.stripped); [ $$stripped -le $(SIZE_LIMIT) ] || \
		{ echo "make size: $$stripped bytes stripped, over SIZE_LIMIT=$(SIZE_LIMIT): see docs/size.md" >&2; exit 1; }

# forkhttpd against a C fork server (bench/forkserver.c), busybox httpd, lighttpd and nginx,
# wrk on one core and the server on the other, on loopback; installs what it needs with
# apt-get. Settings: DURATION=5s ROUNDS=3 CONNECTIONS=32 SECTIONS="hello keepalive files realsite cgi freeze".
# Prints Markdown tables for BENCHMARKS.md; about eighteen minutes with the defaults (seven with ROUNDS=1).
bench: build
	./tools/bench

# traces/STAGE.txt, the trace, and traces/STAGE.svg, its picture (tools/tracesvg: a lane
# per process, clone and SIGCHLD arrows, zombies). CLIENTS=16: a smaller burst for 3f
# and 3g (128 by default); TRACES=DIR: write there instead.
trace: build test-tools
	./tools/trace $(STAGE)

# The fuzz targets (fuzz/), under libFuzzer for $(FUZZ_SECONDS) s in all, half each:
# `request` (request parsing and the response it earns) and `parsers` (the request target,
# Range, HTTP-dates, entity tags, MIME types), from the committed seeds in
# fuzz/corpus/<target>; what they find new goes to a temporary folder.
# Needs the nightly toolchain; installs cargo-fuzz from crates.io when missing.
fuzz:
	@cargo +nightly --version >/dev/null 2>&1 || { echo "make fuzz needs the nightly toolchain: rustup toolchain install nightly" >&2; exit 1; }
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	@half=$$(( ($(FUZZ_SECONDS) + 1) / 2 )); for target in request parsers; do \
	  found=$$(mktemp -d); cargo +nightly fuzz run $$target $$found fuzz/corpus/$$target -- -max_total_time=$$half; \
	  status=$$?; rm -rf $$found; [ $$status = 0 ] || exit $$status; \
	done

clean:
	$(CARGO) clean

# The binary and its man page (docs/forkhttpd.1): `make install PREFIX=/usr/local`.
install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/forkhttpd
	install -D -m 0644 docs/forkhttpd.1 $(DESTDIR)$(PREFIX)/share/man/man1/forkhttpd.1

# Installs what the tests need when it is missing (as root, with apt-get), or says what
# to install.
test-tools:
	@missing=""; for t in $(TEST_TOOLS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null || exit 1; \
	  else \
	    echo "make test needs:$$missing; install them (e.g. sudo apt-get install$$missing)" >&2; exit 1; \
	  fi; \
	fi; \
	python3 -c 'import yaml' 2>/dev/null || python3 -m pip install -q pyyaml || \
	  { echo "make test needs Python's yaml module: python3 -m pip install pyyaml" >&2; exit 1; }

# Installs $(BROWSER) as root with apt-get when it is missing; never fails.
test-browser:
	@command -v $(BROWSER) >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing $(BROWSER) (for tests/trace_picture.rs)"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER) >/dev/null; } || \
	      echo "could not install $(BROWSER): the test that draws a picture in it will be skipped"; \
	  else \
	    echo "no $(BROWSER) (apt-get install $(BROWSER)): the test that draws a picture in it will be skipped"; \
	  fi; \
	}
