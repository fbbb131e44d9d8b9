#!/usr/bin/env bash
# Speed of `rapport score` against a Python transformers text-classification pipeline over the same
# encoder (sentence-transformers/all-MiniLM-L6-v2) and the same Enron sent-mail bodies, on this
# machine's CPU. See bench/README.md.
#
#   scripts/bench-score.sh [N] [--json PATH] [--runs K] [--threads T] [--data FILE] [--max-load L]
#
#   N          rows: the first N `folder == "sent"` rows of the Enron AESLC file, in file order (500)
#   --json     also write the table, every run and the metadata as JSON to PATH
#   --runs     K quiet runs of each tool (alternating pairs; quiet: other processes took under 5% of
#              the CPU meanwhile, read from /proc/stat); each row shows the median quiet run (1)
#   --max-attempts  stop after this many pairs even if fewer were quiet, and say so (3 x K)
#   --threads  libtorch threads for both tools (2)
#   --data     the AESLC JSON Lines file (../shared/datasets/enron/aeslc_train.jsonl)
#   --max-load before starting, wait (60 s at a time, up to --load-tries times) while the 1-minute
#              load average is above this (1.5); then run anyway and print a warning
#
# Needs: setup/setup.sh's venv and encoder (run here, idempotent), the release binary
# target/release/rapport (this script never builds it: `make build` or `cargo build --release`),
# and, installed here into the same venv on first use, setup/requirements-peers.txt (PyPI, hashed).
# The input is generated into a temporary folder; nothing is written into the checkout.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
n=500 json="" runs=1 threads=2 max_load=1.5 load_tries=5 max_attempts=""
data="$root/../shared/datasets/enron/aeslc_train.jsonl"
bin="${RAPPORT_BIN:-$root/target/release/rapport}"
batch=2048 # rapport score's default, passed explicitly so the table names it
die() { printf 'bench-score: error: %s\n' "$*" >&2; exit 2; }
log() { printf 'bench-score: %s\n' "$*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --json) json="${2:?--json needs a path}"; shift 2 ;;
    --json=*) json="${1#*=}"; shift ;;
    --runs) runs="${2:?}"; shift 2 ;;
    --threads) threads="${2:?}"; shift 2 ;;
    --data) data="${2:?}"; shift 2 ;;
    --max-load) max_load="${2:?}"; shift 2 ;;
    --load-tries) load_tries="${2:?}"; shift 2 ;;
    --max-attempts) max_attempts="${2:?}"; shift 2 ;;
    -h|--help) sed -n '2,/^set /p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    [0-9]*) n="$1"; shift ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
[[ "$n" =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, got '$n'"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer"
[[ "$threads" =~ ^[1-9][0-9]*$ ]] || die "--threads must be a positive integer"
max_attempts="${max_attempts:-$((runs * 3))}"
[[ "$max_attempts" =~ ^[1-9][0-9]*$ ]] || die "--max-attempts must be a positive integer"
[ -n "$json" ] && json="$(cd "$(dirname "$json")" && pwd)/$(basename "$json")"

[ -x /usr/bin/time ] || die "no /usr/bin/time (GNU time; apt-get install time)"
[ -x "$bin" ] || die "no release binary at $bin: build it first (make build, or cargo build --release)"
[ -f "$data" ] || die "no Enron data at $data (pass --data FILE)"

# --- environment: venv with torch 2.4.0, the encoder, the Python peer's packages ----------------
eval "$("$root/setup/setup.sh")"
# shellcheck source=scripts/peers-env.sh
source "$root/scripts/peers-env.sh"
model_dir="$RAPPORT_BAKED_MODEL_DIR"
# Neither tool may get more threads than asked for from the environment.
unset OMP_NUM_THREADS MKL_NUM_THREADS

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
input="$work/input.jsonl"
rows="$("$py" "$root/bench/python/make_input.py" "$data" "$n" "$input")"
log "input: $rows sent rows from $data"

# --- wait for a quiet machine ---------------------------------------------------------------------
load1() { cut -d' ' -f1 /proc/loadavg; }
above() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }
warnings=()
tries=0
while above "$(load1)" "$max_load" && [ "$tries" -lt "$load_tries" ]; do
  tries=$((tries + 1))
  log "load average $(cat /proc/loadavg) is above $max_load; waiting 60 s ($tries/$load_tries)"
  sleep 60
done
if above "$(load1)" "$max_load"; then
  warnings+=("1-minute load average was $(load1) (above $max_load) when the runs started; other processes shared the CPU")
fi
load_before="$(cat /proc/loadavg)"
log "loadavg before: $load_before"

# --- runs -------------------------------------------------------------------------------------------
# busy: CPU seconds the whole machine has spent busy since boot (/proc/stat), and the 1-minute load.
# Read around each timed command, less that command's own user+sys time, it tells how much CPU other
# processes took meanwhile: on a shared 2-core machine that is what makes a run slow.
tick="$(getconf CLK_TCK)"
busy() { awk -v t="$tick" '/^cpu / { printf "%.2f %s\n", ($2 + $3 + $4 + $7 + $8 + $9) / t, l; exit }' \
  l="$(cut -d' ' -f1 /proc/loadavg)" /proc/stat; }
# Warm the page cache for both (binary, libtorch, model, Python packages) so neither pays a cold read.
"$bin" score --threads "$threads" --batch "$batch" < "$input" > /dev/null 2>&1 || true
"$py" -c 'import torch, transformers' 2>/dev/null || true
# Pairs of runs (rapport, then Python) until each tool has --runs quiet ones (other processes took
# under 5% of the CPU meanwhile), or up to --max-attempts pairs; report.py shows the quiet ones.
i=0
while :; do
  i=$((i + 1))
  d="$work/run$i"; mkdir -p "$d"
  # rapport's start-up alone (empty input: process, libtorch, model load); report.py takes the fastest
  /usr/bin/time -v -o "$work/startup$i.time" "$bin" score --threads "$threads" --batch "$batch" < /dev/null > /dev/null
  log "run $i: rapport score --threads $threads --batch $batch"
  busy > "$d/rapport.busy"
  /usr/bin/time -v -o "$d/rapport.time" \
    "$bin" score --threads "$threads" --batch "$batch" < "$input" > "$d/rapport.out" \
    || die "rapport score failed (see above)"
  busy >> "$d/rapport.busy"
  log "run $i: python pipeline (torch threads $threads)"
  busy > "$d/python.busy"
  /usr/bin/time -v -o "$d/python.time" \
    "$py" "$root/bench/python/pipeline_bench.py" --model-dir "$model_dir" --input "$input" \
      --threads "$threads" --batch-size 32 --max-length 256 > "$d/python.json" \
    || die "the Python pipeline failed (see above)"
  busy >> "$d/python.busy"
  read -r quiet_r quiet_p < <("$py" "$root/bench/python/report.py" "$work" --quiet-count)
  log "run $i: quiet runs so far: rapport $quiet_r, python $quiet_p (want $runs each)"
  [ "$quiet_r" -ge "$runs" ] && [ "$quiet_p" -ge "$runs" ] && break
  [ "$i" -ge "$max_attempts" ] && { log "giving up after $i attempts: the machine stayed busy"; break; }
  # a disturbed pair: let the other load pass before the next one
  above "$(load1)" "$max_load" && { log "load $(load1); waiting 60 s"; sleep 60; }
done
load_after="$(cat /proc/loadavg)"
log "loadavg after: $load_after"

# --- report -----------------------------------------------------------------------------------------
cpu="$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
rust_bert="$(awk '/^name = "rust-bert"/ { getline; gsub(/version = |"/, ""); print; exit }' "$root/Cargo.lock")"
meta=(
  --meta "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  --meta "cpu=$cpu"
  --meta "cores=$(nproc) (nproc), threads used by each tool: $threads"
  --meta "loadavg_before=$load_before"
  --meta "loadavg_after=$load_after"
  --meta "rapport=$("$bin" --version) ($bin), rust-bert $rust_bert"
  --meta "libtorch=$("$py" -c 'import torch; print(torch.__version__)') (the same torch==2.4.0 wheel's libtorch for both)"
  --meta "input=first $rows folder=sent rows of $(basename "$data"), text = raw body"
  --meta "threads=$threads"
  --meta "rapport_batch=$batch"
)
for i in "${!warnings[@]}"; do meta+=(--meta "warning$i=${warnings[$i]}"); done
"$py" "$root/bench/python/report.py" "$work" ${json:+--json "$json"} "${meta[@]}"
