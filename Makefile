# ccorc: build, test, demo, benchmark and install. Each target installs what it needs on a fresh
# Debian machine (scripts/setup.sh) and starts the engine (scripts/engine.sh) when none answers.
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)
SWIFT ?= swift
CC ?= cc
CXX ?= c++
DEBUG_BIN := $(CURDIR)/.build/debug
RELEASE_BIN := $(CURDIR)/.build/release

# The C library: built in its own scratch directory with the Swift runtime linked in statically
# (a C client needs no Swift toolchain) and only the ccorc_ symbols exported.
PREFIX ?= /usr/local
VERSION := $(shell sed -n 's/^\#define CCORC_VERSION "\(.*\)"/\1/p' include/ccorc.h)
MAJOR := $(firstword $(subst ., ,$(VERSION)))
SWIFT_STATIC_LIBS := $(shell dirname "$$(dirname "$$(PATH=$(PATH) command -v $(SWIFT))")")/lib/swift_static/linux
LIB_BIN := $(CURDIR)/.build-lib/release
LIB_FLAGS := -c release --product CCOrcC --scratch-path $(CURDIR)/.build-lib -Xswiftc -static-stdlib \
	-Xlinker -L$(SWIFT_STATIC_LIBS) -Xlinker --version-script=$(CURDIR)/Sources/CCOrcC/ccorc.map \
	-Xlinker -soname=libccorc.so.$(MAJOR)
C_FLAGS := -std=c99 -Wall -Wextra -Werror -pedantic -pthread
CXX_FLAGS := -std=c++11 -Wall -Wextra -Werror -pedantic
# Every test step starts where a new user starts: a TMUX_TMPDIR with no tmux-UID socket directory in
# it yet (tmux has never run), removed again afterwards.
FRESH_TMUX := fresh=$$(mktemp -d "$${TMPDIR:-/tmp}/ccorc-fresh.XXXXXX") && trap 'rm -rf "$$fresh"' EXIT && \
	export TMUX_TMPDIR=$$fresh
VALGRIND := valgrind -q --error-exitcode=97 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--show-leak-kinds=definite,indirect

# Fails when a binary links Foundation or ICU: a symbol of the Foundation,
# FoundationInternationalization or _FoundationICU modules (mangled with the name's length before
# it) or of the toolchain's ICU (C++ namespace icu_76, C functions renamed swift_ucol_open, ...).
# A binary without a symbol table fails too: there would be nothing to look at.
no_foundation = for binary in $(1); do \
	symbols=$$(nm "$$binary" 2>/dev/null); \
	if [ -z "$$symbols" ]; then echo "$$binary: no symbol table to check for Foundation" >&2; exit 1; fi; \
	count=$$(grep -cE '10Foundation|26FoundationInternationalization|14_FoundationICU|icu_[0-9]|swift_u[a-z]*_' <<<"$$symbols"); \
	if [ "$$count" != 0 ]; then echo "$$binary links Foundation or ICU ($$count symbols)" >&2; exit 1; fi; done

# Fails when the C library links more of FoundationEssentials than `Date` (its one object file is
# about 10 kB; any other type, a format style, FileManager or ProcessInfo brings in several
# megabytes), or the regex libraries that `contains`/`firstRange` with a string argument pull in.
date_only = symbols=$$(nm "$(1)" 2>/dev/null); \
	count=$$(grep -E '20FoundationEssentials|17_StringProcessing|12_RegexParser|21_FoundationCollections' <<<"$$symbols" \
		| grep -cvE '20FoundationEssentials(4DateV|MXM)'); \
	if [ "$$count" != 0 ]; then echo "$(1) links more of FoundationEssentials than Date, or the regex libraries ($$count symbols)" >&2; exit 1; fi

.PHONY: all build release lib install setup engine engine-stop test test-swift test-c test-c-installed \
	test-c-threads test-example test-demo demo bench bench-crash clean
.PHONY: cli-docs install-cli-docs test-cli-install format format-check

all: build

setup:
	@scripts/setup.sh

engine: setup
	@scripts/engine.sh start

build: setup
	$(SWIFT) build

# The Swift runtime and FoundationEssentials are linked statically: a CLI that a tmux window starts
# for every agent should not spend its first milliseconds resolving a few thousand dynamic symbols.
# The shipped targets import FoundationEssentials, never Foundation, which would link ICU's data in.
release: setup
	$(SWIFT) build -c release --static-swift-stdlib -Xlinker -L$(SWIFT_STATIC_LIBS)
	@$(call no_foundation,$(RELEASE_BIN)/ccorc $(RELEASE_BIN)/ccdk)

lib: setup
	$(SWIFT) build $(LIB_FLAGS)
	ln -sf libCCOrcC.so $(LIB_BIN)/libccorc.so.$(MAJOR)
	ln -sf libCCOrcC.so $(LIB_BIN)/libccorc.so
	scripts/abi-check.sh $(LIB_BIN)/libCCOrcC.so
	@$(call no_foundation,$(LIB_BIN)/libCCOrcC.so)
	@$(call date_only,$(LIB_BIN)/libCCOrcC.so)

# Binaries, libccorc.so, ccorc.h and ccorc.pc under $(PREFIX) (and $(DESTDIR), for packagers). The
# binaries and the library are installed stripped, their symbols and debug information beside them
# in .debug/NAME.debug, where gdb and valgrind find them on their own (scripts/install-stripped.sh).
install: release lib install-cli-docs
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	scripts/install-stripped.sh $(RELEASE_BIN)/ccorc $(DESTDIR)$(PREFIX)/bin/ccorc
	scripts/install-stripped.sh $(RELEASE_BIN)/ccdk $(DESTDIR)$(PREFIX)/bin/ccdk
	scripts/install-stripped.sh $(LIB_BIN)/libCCOrcC.so $(DESTDIR)$(PREFIX)/lib/libccorc.so.$(VERSION)
	ln -sf libccorc.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libccorc.so.$(MAJOR)
	ln -sf libccorc.so.$(MAJOR) $(DESTDIR)$(PREFIX)/lib/libccorc.so
	install -m 644 include/ccorc.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' scripts/ccorc.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/ccorc.pc

# Shell completions and man pages for both CLIs, generated from their ArgumentParser definitions
# into .build/cli-docs: the bash, zsh and fish scripts by the release binaries
# (--generate-completion-script), a man page per command and subcommand by swift-argument-parser's
# GenerateManual plugin (it builds the package itself, so it runs on the debug build; the pages
# carry the last commit's date).
CLI_DOCS := $(CURDIR)/.build/cli-docs
MANUAL_OUTPUTS := $(CURDIR)/.build/plugins/GenerateManual/outputs
MANUAL_DATE := $(shell git log -1 --format=%cs 2>/dev/null)
cli-docs: build release
	rm -rf $(CLI_DOCS) $(MANUAL_OUTPUTS) && mkdir -p $(CLI_DOCS)/man1
	for cli in ccorc ccdk; do \
		$(RELEASE_BIN)/$$cli --generate-completion-script bash >$(CLI_DOCS)/$$cli.bash && \
		$(RELEASE_BIN)/$$cli --generate-completion-script zsh >$(CLI_DOCS)/_$$cli && \
		$(RELEASE_BIN)/$$cli --generate-completion-script fish >$(CLI_DOCS)/$$cli.fish || exit 1; done
	$(SWIFT) package plugin generate-manual --configuration debug --multi-page $(if $(MANUAL_DATE),--date $(MANUAL_DATE))
	cp $(MANUAL_OUTPUTS)/CcorcCLI/*.1 $(MANUAL_OUTPUTS)/CcdkCLI/*.1 $(CLI_DOCS)/man1/

install-cli-docs: cli-docs
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d $(DESTDIR)$(PREFIX)/share/man/man1
	for cli in ccorc ccdk; do \
		install -m 644 $(CLI_DOCS)/$$cli.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$cli && \
		install -m 644 $(CLI_DOCS)/_$$cli $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_$$cli && \
		install -m 644 $(CLI_DOCS)/$$cli.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$cli.fish || exit 1; done
	install -m 644 $(CLI_DOCS)/man1/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/

# The format check, unit tests, integration tests against the real engine and real tmux, the C ABI under valgrind,
# concurrent C ABI calls on one handle under ThreadSanitizer (both sides of the ABI instrumented),
# the C ABI once more through an installed prefix and pkg-config, under valgrind against the library
# exactly as installed (whose release `ccorc` must ignore the debug builds' fault hook, whose exports
# must be the header's functions and ccorc.map's list, and whose debug information gdb and valgrind
# must read), the Swift example package, and
# the README's first command, `make demo`, from a machine where neither tmux nor ccorc has run.
# The engine's inventory is taken before and compared after: a container, volume or image the run
# made and left (the shared test images excepted) fails it, by name.
test: engine build
	@inventory=$$(mktemp) && trap 'rm -f "$$inventory"' EXIT && Tests/engine-inventory.sh list >"$$inventory" && \
	$(MAKE) --no-print-directory format-check test-swift test-c test-c-threads test-c-installed test-cli-install test-example \
		test-demo && \
	Tests/engine-inventory.sh check "$$inventory"

# Every Swift file as swift-format (the toolchain's) lays it out with .swift-format; `make format`
# rewrites them so.
FORMATTED := Sources Tests bench Examples Package.swift
format-check:
	$(SWIFT) format lint --strict --recursive --configuration .swift-format $(FORMATTED)

format:
	$(SWIFT) format format --in-place --recursive --configuration .swift-format $(FORMATTED)

# The shared test image is made once, before the suites run in parallel, so that no two suites
# import it at once. The tests run with a TMPDIR of their own, which must be empty of their files
# afterwards (Tests/temporary-leftovers.sh).
test-swift: engine
	$(SWIFT) build --build-tests
	$(DEBUG_BIN)/ccdk image busybox -t ccorc-busybox:latest
	@$(FRESH_TMUX) && scratch=$$(mktemp -d "$${TMPDIR:-/tmp}/ccorc-tests.XXXXXX") && \
		trap 'rm -rf "$$fresh" "$$scratch"' EXIT && set -x && \
		TMPDIR=$$scratch CCORC_BIN_DIR=$(DEBUG_BIN) $(SWIFT) test --skip-build && \
		Tests/temporary-leftovers.sh "$$scratch"

test-c: engine build
	$(CXX) $(CXX_FLAGS) -Iinclude Tests/CABITests/header_check.cpp -o $(DEBUG_BIN)/header_check \
		-L$(DEBUG_BIN) -lCCOrcC -Wl,-rpath,$(DEBUG_BIN)
	$(DEBUG_BIN)/header_check
	$(CC) $(C_FLAGS) -Iinclude Tests/CABITests/session_flow.c -o $(DEBUG_BIN)/session_flow \
		-L$(DEBUG_BIN) -lCCOrcC -Wl,-rpath,$(DEBUG_BIN) $$(pkg-config --cflags --libs jansson)
	@$(FRESH_TMUX) && set -x && Tests/run-session-client.sh $(DEBUG_BIN)/session_flow $(DEBUG_BIN)/ccdk $(VALGRIND)
	$(CC) $(C_FLAGS) -Iinclude Tests/CABITests/maintenance_flow.c -o $(DEBUG_BIN)/maintenance_flow \
		-L$(DEBUG_BIN) -lCCOrcC -Wl,-rpath,$(DEBUG_BIN) $$(pkg-config --cflags --libs jansson sqlite3)
	@$(FRESH_TMUX) && set -x && Tests/run-session-client.sh $(DEBUG_BIN)/maintenance_flow $(DEBUG_BIN)/ccdk $(VALGRIND)
	$(CC) $(C_FLAGS) -Iinclude Tests/CABITests/watch_flow.c -o $(DEBUG_BIN)/watch_flow \
		-L$(DEBUG_BIN) -lCCOrcC -Wl,-rpath,$(DEBUG_BIN) $$(pkg-config --cflags --libs jansson libcurl)
	@$(FRESH_TMUX) && set -x && Tests/run-session-client.sh $(DEBUG_BIN)/watch_flow $(DEBUG_BIN)/ccdk $(VALGRIND)

# Many threads on one handle at once (Tests/CABITests/concurrent_calls.c, then watch_flow.c's two
# watches and the thread that stops them) under ThreadSanitizer on both sides of the ABI: the
# library built with -sanitize=thread in its own scratch directory, the
# client with the toolchain's clang (the same TSan runtime, whose libdispatch support needs
# libdispatch and BlocksRuntime linked). Any report fails the run (exit 66). tsan_swift_mutex.c
# shows TSan how Swift's Mutex hands over a contended lock, which it cannot see on its own.
TSAN_TOOLCHAIN := $(shell dirname "$$(dirname "$$(PATH=$(PATH) command -v $(SWIFT))")")
TSAN_CLANG := $(TSAN_TOOLCHAIN)/bin/clang
TSAN_SWIFT_LIBS := $(TSAN_TOOLCHAIN)/lib/swift/linux
TSAN_BIN := $(CURDIR)/.build-tsan/debug
test-c-threads: engine build
	$(SWIFT) build --product CCOrcC --scratch-path $(CURDIR)/.build-tsan -Xswiftc -sanitize=thread -Xcc -fsanitize=thread
	$(TSAN_CLANG) -std=gnu11 -Wall -Wextra -Werror -fsanitize=thread -c Tests/CABITests/tsan_swift_mutex.c \
		-o $(TSAN_BIN)/tsan_swift_mutex.o
	$(TSAN_CLANG) $(C_FLAGS) -fsanitize=thread -g -O1 -Iinclude Tests/CABITests/concurrent_calls.c \
		$(TSAN_BIN)/tsan_swift_mutex.o -o $(TSAN_BIN)/concurrent_calls -rdynamic -L$(TSAN_BIN) -lCCOrcC \
		-L$(TSAN_SWIFT_LIBS) -ldispatch -lBlocksRuntime -Wl,-rpath,$(TSAN_BIN) -Wl,-rpath,$(TSAN_SWIFT_LIBS) \
		$$(pkg-config --cflags --libs jansson)
	@$(FRESH_TMUX) && set -x && TSAN_OPTIONS="halt_on_error=0 exitcode=66 history_size=4" \
		Tests/run-session-client.sh $(TSAN_BIN)/concurrent_calls $(DEBUG_BIN)/ccdk
	$(TSAN_CLANG) $(C_FLAGS) -fsanitize=thread -g -O1 -Iinclude Tests/CABITests/watch_flow.c \
		$(TSAN_BIN)/tsan_swift_mutex.o -o $(TSAN_BIN)/watch_flow -rdynamic -L$(TSAN_BIN) -lCCOrcC \
		-L$(TSAN_SWIFT_LIBS) -ldispatch -lBlocksRuntime -Wl,-rpath,$(TSAN_BIN) -Wl,-rpath,$(TSAN_SWIFT_LIBS) \
		$$(pkg-config --cflags --libs jansson libcurl)
	@$(FRESH_TMUX) && set -x && TSAN_OPTIONS="halt_on_error=0 exitcode=66 history_size=4" \
		Tests/run-session-client.sh $(TSAN_BIN)/watch_flow $(DEBUG_BIN)/ccdk

test-c-installed: engine
	@$(FRESH_TMUX) && prefix=$$(mktemp -d "$${TMPDIR:-/tmp}/ccorc-prefix.XXXXXX") && trap 'rm -rf "$$prefix" "$$fresh"' EXIT && \
	$(MAKE) --no-print-directory install PREFIX=$$prefix >/dev/null && \
	export PKG_CONFIG_PATH=$$prefix/lib/pkgconfig && \
	echo "pkg-config ccorc: $$(pkg-config --modversion ccorc): $$(pkg-config --cflags --libs ccorc)" && \
	CCORC_HOME=$$prefix/home CCORC_FAIL_STEP=1:kill $$prefix/bin/ccorc list >/dev/null && \
	echo "release build: the fault hook is compiled out (CCORC_FAIL_STEP=1:kill ccorc list exits 0)" && \
	scripts/abi-check.sh $$prefix/lib/libccorc.so.$(VERSION) $$prefix/include/ccorc.h && \
	size=$$(stat -c %s $$prefix/lib/libccorc.so.$(VERSION)) && echo "installed libccorc.so: $$size bytes" && \
	if [ $$size -gt 15000000 ]; then echo "libccorc.so is over its 15 MB budget" >&2; exit 1; fi && \
	Tests/debug-installed.sh $$prefix && \
	$(CC) $(C_FLAGS) -g Tests/CABITests/session_flow.c -o $$prefix/session_flow $$(pkg-config --cflags --libs ccorc jansson) && \
	Tests/run-session-client.sh $$prefix/session_flow $$prefix/bin/ccdk $(VALGRIND) && \
	$(CC) $(C_FLAGS) -g Tests/CABITests/maintenance_flow.c -o $$prefix/maintenance_flow \
		$$(pkg-config --cflags --libs ccorc jansson sqlite3) && \
	Tests/run-session-client.sh $$prefix/maintenance_flow $$prefix/bin/ccdk $(VALGRIND) && \
	$(CC) $(C_FLAGS) -g Tests/CABITests/watch_flow.c -o $$prefix/watch_flow \
		$$(pkg-config --cflags --libs ccorc jansson libcurl) && \
	Tests/run-session-client.sh $$prefix/watch_flow $$prefix/bin/ccdk $(VALGRIND)

# What `make install` gives a CLI user, in a prefix of its own (the release build is the one
# test-c-installed made): --version, the completion scripts in bash, zsh and fish, the man pages.
test-cli-install: setup
	@prefix=$$(mktemp -d "$${TMPDIR:-/tmp}/ccorc-cli-prefix.XXXXXX") && trap 'rm -rf "$$prefix"' EXIT && \
	$(MAKE) --no-print-directory install PREFIX=$$prefix >/dev/null && \
	Tests/cli-install-check.sh $$prefix $(VERSION)

test-example: engine build
	$(SWIFT) build --package-path Examples/TeamSession
	@$(FRESH_TMUX) && set -x && Tests/run-session-client.sh Examples/TeamSession/.build/debug/TeamSession $(DEBUG_BIN)/ccdk

# `make demo` as a new user meets it: no tmux socket directory and no ccorc home (CCORC_HOME names
# a directory that does not exist yet); the demo checks its own results and removes its session.
test-demo: engine build
	@$(FRESH_TMUX) && set -x && CCORC_HOME=$$fresh/ccorc-home CCORC_DEMO_CLEANUP=1 $(MAKE) --no-print-directory demo

demo: engine build
	@CCDK=$(DEBUG_BIN)/ccdk CCORC=$(DEBUG_BIN)/ccorc scripts/demo.sh

bench: engine release lib
	$(CC) $(C_FLAGS) -O2 -Iinclude bench/c/list_sessions.c -o $(RELEASE_BIN)/ccorc-abi-bench \
		-L$(LIB_BIN) -lccorc -Wl,-rpath,$(LIB_BIN)
	$(RELEASE_BIN)/ccorc-bench all

# `ccorc cleanup` SIGKILLed after 1 s on 300 launch-made sessions, three times: every container,
# volume and tmux session left must still have its registry row, and the same cleanup run again
# must exit 0 and leave nothing (ccorc-bench cleanup-crash --help lists the options).
bench-crash: engine release
	$(RELEASE_BIN)/ccorc-bench cleanup-crash

engine-stop:
	@scripts/engine.sh stop

clean:
	rm -rf .build .build-lib .build-tsan Examples/TeamSession/.build
