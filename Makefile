# ccorc: build, test, demo and benchmark. Each target installs what it needs on a fresh Debian
# machine (scripts/setup.sh) and starts the engine (scripts/engine.sh) when none answers.
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)
SWIFT ?= swift
DEBUG_BIN := $(CURDIR)/.build/debug
RELEASE_BIN := $(CURDIR)/.build/release

.PHONY: all build release setup engine engine-stop test demo bench clean

all: build

setup:
	@scripts/setup.sh

engine: setup
	@scripts/engine.sh start

build: setup
	$(SWIFT) build

# The Swift runtime and Foundation are linked statically: a CLI that a tmux window starts for every
# agent should not spend its first milliseconds resolving a few thousand dynamic symbols.
release: setup
	$(SWIFT) build -c release --static-swift-stdlib

# Unit tests, then integration tests against the real engine and real tmux.
test: engine
	$(SWIFT) build --build-tests
	CCORC_BIN_DIR=$(DEBUG_BIN) $(SWIFT) test --skip-build

demo: engine build
	@CCDK=$(DEBUG_BIN)/ccdk CCORC=$(DEBUG_BIN)/ccorc scripts/demo.sh

bench: engine release
	$(RELEASE_BIN)/ccorc-bench all

engine-stop:
	@scripts/engine.sh stop

clean:
	rm -rf .build
