# rapport: two commands do all set-up.
#   make run    audit the sample mailbox shipped in examples/ (SQLite state), print the report
#   make test   run the whole test suite (what CI runs)
# Both provision libtorch 2.4.0 and the encoder first (setup/setup.sh; cached in ~/.cache/rapport).
SHELL := /bin/bash
ENV := set -euo pipefail; eval "$$(setup/setup.sh)"
CARGO_FLAGS := --release --locked

.PHONY: run test setup build test-core

setup:
	@setup/setup.sh >/dev/null

# Every program of the workspace: rapport, rapport-model (the tone model) and rapport-bench.
build:
	@$(ENV); cargo build $(CARGO_FLAGS) --workspace --bins

run:
	@$(ENV); cargo build $(CARGO_FLAGS) -p rapport -p rapport-model --bins; ./target/release/rapport audit

# The core's tests alone: no libtorch, no model (about a minute from a clean build of the crate).
test-core:
	@cargo test $(CARGO_FLAGS) -p rapport-core

test:
	@$(ENV); scripts/install-test-deps.sh; cargo test $(CARGO_FLAGS) -p rapport-core; \
	  cargo build $(CARGO_FLAGS) --workspace --bins; cargo test $(CARGO_FLAGS) --workspace --all-targets; \
	  scripts/readme-commands.sh
