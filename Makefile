# rapport: two commands do all set-up.
#   make run    audit the sample mailbox shipped in examples/ (SQLite state), print the report
#   make test   run the whole test suite (what CI runs)
# Both provision libtorch 2.4.0 and the encoder first (setup/setup.sh; cached in ~/.cache/rapport).
SHELL := /bin/bash
ENV := set -euo pipefail; eval "$$(setup/setup.sh)"
CARGO_FLAGS := --release --locked

.PHONY: run test setup build check-sample bench-check

setup:
	@setup/setup.sh >/dev/null

build:
	@$(ENV); cargo build $(CARGO_FLAGS)

run:
	@$(ENV); cargo build $(CARGO_FLAGS) --bin rapport; ./target/release/rapport audit

test:
	@$(ENV); scripts/install-test-deps.sh; cargo test $(CARGO_FLAGS) --all-targets; scripts/readme-commands.sh
