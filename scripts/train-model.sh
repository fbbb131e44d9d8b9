#!/usr/bin/env bash
# Reproduces rapport's tone model v2, start to finish, with a fixed seed, pinned data paths and
# pinned versions (models/README.md, "How it was trained"):
#
#   scripts/train-model.sh            # heads -> models/v2/, risk -> models/v2/risk.json, rebuild, eval
#   scripts/train-model.sh --quick    # the same pipeline on 300 rows per task, into a scratch folder
#
# 1. the training packages (setup/requirements-train.txt, hash-pinned) beside the torch==2.4.0 venv
#    that setup/setup.sh provides;
# 2. crates/model/python/train_tone.py three times on the frozen encoder's features: the heads that
#    ship (all of the email corpus's train split) and two sets for cross-fitting the risk (each
#    without one half of the train users);
# 3. `rapport-model calibrate`: the message risk, tone thresholds and code severities, fitted on
#    train through heads that never saw each body, written to models/v2/risk.json;
# 4. a rebuild (the heads and the risk model are compiled into rapport-model), then `rapport eval`.
#
# Needs ../shared/datasets and models/email-tone. On the 2-core development machine the first run
# takes about 40 minutes (encoding ~170,000 texts once; the features are cached under
# ~/.cache/rapport/train-features), later runs about 25.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1
eval "$(setup/setup.sh)"
cache="${RAPPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rapport}"
venv="$cache/torch-2.4.0-cp311"
site="$cache/train-site"
stamp="$site/.rapport-ok-$(sha256sum setup/requirements-train.txt | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  rm -rf "$site"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input --require-hashes --no-deps \
    --only-binary=:all: --target "$site" -r setup/requirements-train.txt
  touch "$stamp"
fi
data=../shared/datasets
[ -d "$data" ] || { echo "train-model: $data is missing: training reads the labelled corpora beside the checkout" >&2; exit 2; }
runs="$cache/train-runs"
out=models/v2
limit=()
if [ "$quick" = 1 ]; then
  runs="$(mktemp -d)"
  out="$runs/v2"
  limit=(--limit 300 --epochs 1)
fi
mkdir -p "$runs" "$out"
train() { # train OUT HOLDOUT
  PYTHONPATH="$site" PYTHONHASHSEED=0 "$venv/bin/python" crates/model/python/train_tone.py \
    --data "$data" --corpus models/email-tone --encoder "$RAPPORT_BAKED_MODEL_DIR" \
    --frozen --epochs 3 --pool 3,6 --head-hidden 256 --seed 20261130 \
    --repeat ucc=3,irony=3,politeness=2,request=2 \
    --cap sentiment=30000,emotion=12000,offensive=8000,email=30000 \
    --subset sentiment=60000,emotion=30000 --no-goemotions-sentiment \
    --holdout-half "$2" --out "$1" "${limit[@]}"
}
train "$runs/v2-without-a" a
train "$runs/v2-without-b" b
train "$out" none
cargo build --release --locked -p rapport-model
target/release/rapport-model calibrate --v2-dir "$out" --without-a "$runs/v2-without-a" --without-b "$runs/v2-without-b" \
  --out "$out/risk.json" --report "$out/calibration.json" >/dev/null
if [ "$quick" = 1 ]; then
  echo "train-model: the quick pipeline ran; its model is in $out (not compiled in)"
  target/release/rapport-model eval --no-v1 --v2-dir "$out" | tail -n 12
  exit 0
fi
cargo build --release --locked --workspace --bins
target/release/rapport eval
