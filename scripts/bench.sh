#!/usr/bin/env bash
# `rapport-bench` with its peers: set-up (setup/setup.sh), the Python peers installed into the same
# venv (setup/requirements-peers.txt), the release binary built, then
#
#   rapport-bench --python <that venv's python> [ARGS...]
#
# e.g. scripts/bench.sh --sizes 1k,10k,100k --json bench/results/cpu.json
# Run from anywhere; paths in ARGS are taken from the checkout's root.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
eval "$("$root/setup/setup.sh")"
# shellcheck source=scripts/peers-env.sh
source "$root/scripts/peers-env.sh"
cargo build --release --locked --quiet --workspace --bins
exec "$root/target/release/rapport-bench" --python "$py" "$@"
