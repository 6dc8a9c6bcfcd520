# Easegress-C build. Every dependency is a Debian package, listed once here.
DEB_PACKAGES := build-essential pkg-config clang libclang-rt-14-dev \
	libluajit2-5.1-dev libuv1-dev node-llhttp libnghttp2-dev libngtcp2-dev \
	libngtcp2-crypto-gnutls-dev libnghttp3-dev libgnutls28-dev libssl-dev \
	libyaml-dev lua-cjson libpcre2-dev zlib1g-dev lua-busted lua-check lua5.1 lua5.2 luarocks \
	curl python3 wrk nginx-light procps psmisc prometheus
# Only `make bench` needs these as well (the other peers and the profilers; nginx and wrk are
# above); the bench scripts run `make deps bench-deps` when a command is missing.
BENCH_PACKAGES := libnginx-mod-http-lua haproxy caddy valgrind linux-perf util-linux

CC      ?= cc
PKGS    := luajit libuv libpcre2-8 yaml-0.1 zlib openssl
CFLAGS  ?= -O2 -g
# override: `make CFLAGS=...` (as the asan target does) replaces the optimisation and
# sanitizer flags only; the language, warning and include flags are always added.
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -fno-strict-aliasing -pthread \
	-Isrc -I/usr/share/include/llhttp $(shell pkg-config --cflags $(PKGS))
LDLIBS  := $(shell pkg-config --libs $(PKGS)) -lm -lpthread -ldl
# LuaJIT FFI needs our exported symbols visible to ffi.C
LDFLAGS += -rdynamic
BUILD   ?= build
BIN     ?= bin
LLHTTP_SRC := /usr/share/llhttp/llhttp.c /usr/share/llhttp/api.c /usr/share/llhttp/http.c

CORE_SRC  := $(filter-out src/server_main.c,$(wildcard src/*.c))
CORE_OBJ  := $(CORE_SRC:src/%.c=$(BUILD)/obj/%.o)
LLHTTP_OBJ := $(LLHTTP_SRC:/usr/share/llhttp/%.c=$(BUILD)/llhttp/%.o)
EGCTL_SRC := $(wildcard egctl/*.c)
EGCTL_OBJ := $(EGCTL_SRC:egctl/%.c=$(BUILD)/egctl/%.o)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
LIBEG     := $(BUILD)/libeg.a

.PHONY: all deps bench-deps run test lint unit spec sdk-spec integration asan asan-test clean fuzz bench
all: $(BIN)/easegress-server $(BIN)/egctl

# apt-get runs only when a package of the list is missing.
install_missing = @missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
deps:
	$(call install_missing,$(DEB_PACKAGES))
bench-deps:
	$(call install_missing,$(BENCH_PACKAGES))

$(BUILD)/obj/%.o: src/%.c $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# llhttp's generated C is compiled with its own (quieter) warning flags.
$(BUILD)/llhttp/%.o: /usr/share/llhttp/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -fPIC -DLLHTTP_STRICT_MODE=1 $(filter -fsanitize%,$(CFLAGS)) -I/usr/share/include/llhttp -c $< -o $@

$(LIBEG): $(CORE_OBJ) $(LLHTTP_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN)/easegress-server: $(BUILD)/obj/server_main.o $(LIBEG)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(BUILD)/obj/server_main.o -Wl,--whole-archive $(LIBEG) -Wl,--no-whole-archive $(LDLIBS)

$(BUILD)/egctl/%.o: egctl/%.c $(wildcard egctl/*.h) $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iegctl -c $< -o $@

$(BIN)/egctl: $(EGCTL_OBJ) $(LIBEG)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $(EGCTL_OBJ) $(LIBEG) $(LDLIBS)

$(BUILD)/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(LIBEG)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(LIBEG) $(LDLIBS)

unit: $(UNIT_BIN)
	@pass=0; fail=0; for t in $(UNIT_BIN); do \
	  if $$t; then pass=$$((pass+1)); else echo "FAILED: $$t"; fail=$$((fail+1)); fi; \
	done; echo "unit suites: $$pass passed, $$fail failed"; [ $$fail -eq 0 ]

spec: all
	./bin/easegress-server --busted spec

# The pure-Lua SDK (rockspec/easegress-sdk-scm-1.rockspec) under plain busted, not our runtime:
# luarocks installs the rock into a scratch tree, then sdk-spec/ runs on Lua 5.1 and 5.2 against
# that tree alone, so a module the rockspec leaves out fails here too.
SDK_TREE := $(abspath $(BUILD))/sdk-rock
sdk-spec:
	@rm -rf $(SDK_TREE) && mkdir -p $(SDK_TREE)/home
	@HOME=$(SDK_TREE)/home luarocks --lua-version 5.1 --tree $(SDK_TREE) make rockspec/easegress-sdk-scm-1.rockspec \
	  >$(SDK_TREE)/luarocks.log 2>&1 || { cat $(SDK_TREE)/luarocks.log; exit 1; }
	@for lua in lua5.1 lua5.2; do \
	  (cd $(SDK_TREE) && $$lua /usr/bin/busted --lpath='$(SDK_TREE)/share/lua/5.1/?.lua' \
	    -o $(CURDIR)/sdk-spec/output.lua --pattern=_spec $(CURDIR)/sdk-spec) || exit 1; \
	done

integration: all
	/usr/bin/python3 tests/integration/run.py

# Lua: `local` everything, no globals (.luacheckrc).
lint:
	luacheck -q lua spec sdk-spec examples/filters

test: deps
	$(MAKE) all
	$(MAKE) lint
	$(MAKE) unit
	$(MAKE) spec
	$(MAKE) sdk-spec
	$(MAKE) integration

run: deps
	$(MAKE) all
	./bin/easegress-server

# AddressSanitizer + UBSan build in build-asan/bin; `make asan-test` runs the integration
# suite against it.
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
asan:
	$(MAKE) BUILD=build-asan BIN=build-asan/bin CC=clang CFLAGS="$(ASAN_FLAGS)" LDFLAGS="-rdynamic -fsanitize=address,undefined" all

asan-test: asan
	EG_BIN_DIR=build-asan/bin /usr/bin/python3 tests/integration/run.py

FUZZ_TARGETS := $(wildcard tests/fuzz/fuzz_*.c)
fuzz: $(LIBEG)
	@mkdir -p $(BUILD)/fuzz
	for f in $(FUZZ_TARGETS); do \
	  clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -I/usr/share/include/llhttp \
	    -DLLHTTP_STRICT_MODE=1 $(shell pkg-config --cflags $(PKGS)) -o $(BUILD)/fuzz/$$(basename $$f .c) $$f \
	    $(CORE_SRC) $(LLHTTP_SRC) $(LDLIBS) || exit 1; \
	done

# Every benchmark case, peers and ours alternating, one combined table (bench/all.sh --help);
# `make bench QUICK=1` for a short run.
bench: deps bench-deps all
	bench/all.sh $(if $(QUICK),--quick)

clean:
	rm -rf build build-asan bin
