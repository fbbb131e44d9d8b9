#!/usr/bin/env bash
# Runs every command the README shows, against the release binary, and checks what each must do.
# Called by `make test` (and so by CI) after `cargo test`.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=target/release/rapport
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export XDG_STATE_HOME="$tmp/state"
fail=0 passed=0
expect() { # expect CODE DESCRIPTION -- command...
  local want="$1" what="$2"; shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -eq "$want" ]; then
    passed=$((passed + 1)); echo "ok: $what"
  else
    fail=$((fail + 1)); echo "FAILED: $what: exit $got, expected $want"; sed 's/^/  | /' "$tmp/out" "$tmp/err" | head -40
  fi
}
contains() { # contains FILE PATTERN DESCRIPTION
  if grep -q -- "$2" "$tmp/$1"; then passed=$((passed + 1)); echo "ok: $3"
  else fail=$((fail + 1)); echo "FAILED: $3: no '$2' in $1"; sed 's/^/  | /' "$tmp/$1" | head -40; fi
}

expect 1 "check flags the rude draft" -- $bin check examples/drafts/rude.eml
contains out "R104" "the rude draft's passive-aggressive phrase is reported"
expect 0 "check passes the friendly draft (json)" -- $bin check --format json examples/drafts/friendly.eml
contains out '"flagged": false' "the friendly draft is not flagged"
expect 1 "a curt one-word reply on stdin is flagged" -- bash -c "echo Fine. | $bin check --text -"
expect 0 "explain R104" -- $bin explain R104
contains out "R104" "explain names the code"
expect 0 "explain lists every code" -- $bin explain
expect 0 "audit of the sample mailbox" -- $bin audit
contains out "flagged" "the audit report has its summary"
expect 0 "a second audit reads nothing new" -- $bin audit
contains out "0 read this run" "the second audit is incremental"
mkdir -p "$tmp/Maildir"; cp -r examples/sample-sent "$tmp/Maildir/.Sent"
expect 0 "audit of a maildir to a JSON report" -- $bin audit "$tmp/Maildir/.Sent" --format json -o "$tmp/report.json"
cp "$tmp/report.json" "$tmp/out"; contains out '"flagged_count"' "the JSON report is written"
for f in examples/sample-sent/cur/*; do printf 'From dana@northwind-supply.com Mon Nov 23 09:00:00 2026\n'; sed 's/^From />From /' "$f"; echo; done > "$tmp/sent.mbox"
expect 0 "audit of an mbox to CSV with its own state" -- $bin audit "$tmp/sent.mbox" --state "$tmp/audit.sqlite3" --format csv
contains out "source,date,subject" "the CSV report has its header"
expect 0 "score JSON Lines" -- $bin score < examples/score-input.jsonl
[ "$(wc -l < "$tmp/out")" -eq 3 ] && { passed=$((passed + 1)); echo "ok: one line out per line in"; } || { fail=$((fail + 1)); echo "FAILED: score wrote $(wc -l < "$tmp/out") lines"; }

expect 0 "accounts of the sample mailbox" -- $bin accounts
contains out "email_only" "the accounts report gives verdicts"
expect 0 "accounts as of a day, to HTML" -- $bin accounts --state "$tmp/audit.sqlite3" --as-of 2026-11-23 --format html -o "$tmp/accounts.html"
cp "$tmp/accounts.html" "$tmp/out"; contains out "<svg" "the accounts HTML has its charts"
printf 'date,contact,duration\n2026-11-02,marc@bluefin.io,15\n' > "$tmp/calls.csv"
expect 0 "accounts over a maildir with a call log, as JSON" -- $bin accounts "$tmp/Maildir/.Sent" --state "$tmp/acc.sqlite3" --calls "$tmp/calls.csv" --format json
contains out '"schema": 2' "the accounts JSON has its schema version"
expect 0 "audit to a self-contained HTML report" -- $bin audit --format html -o "$tmp/audit.html"
cp "$tmp/audit.html" "$tmp/out"; contains out "flagged-row" "the HTML report lists the flagged messages"
expect 0 "the check latency benchmark" -- cargo bench --locked --bench check_latency -- --runs 3
contains out "warm" "the benchmark prints its figures"

data=../shared/datasets
if [ -d "$data" ]; then
  expect 0 "train (200 rows per head, to a scratch file)" -- $bin train --limit 200 --epochs 3 --out "$tmp/heads.safetensors"
  [ -s "$tmp/heads.safetensors" ] && { passed=$((passed + 1)); echo "ok: train wrote its heads"; } || { fail=$((fail + 1)); echo "FAILED: train wrote nothing"; }
  expect 0 "eval on the dev splits" -- $bin eval
  contains out "sst2-dev" "eval prints the SST-2 figure"
  expect 0 "calibrate on the labelled Enron mail" -- $bin calibrate --out "$tmp/risk-weights.json"
  contains out '"kappa_binary"' "calibrate reports the labellers' agreement"
  # The README's benchmarks, shortened: 1k messages instead of 1k/10k/100k, 50 rows for bench-score.
  expect 0 "rapport bench with its peers (1k messages)" -- scripts/bench.sh --sizes 1k --latency-sample 50 --work "$tmp/bench" --json "$tmp/bench.json"
  contains out "Python transformers" "bench compares with the Python pipeline"
  contains out "Per-message latency" "bench prints the per-message latency"
  expect 0 "rapport bench alone" -- $bin bench --sizes 1k --formats maildir --latency-sample 20 --work "$tmp/bench"
  contains out "Peers: skipped" "bench without --python says the peers were skipped"
  expect 0 "the stage benchmarks (criterion)" -- cargo bench --locked --bench pipeline -- --warm-up-time 1 --measurement-time 2 --sample-size 10
  expect 0 "bench-score (50 rows)" -- scripts/bench-score.sh 50 --max-load 100 --load-tries 0
  contains out "rapport" "bench-score prints its table"
else
  echo "skipping train/eval/calibrate/bench: $data not found"
fi
expect 0 "fuzzing parse+clean for 30 s" -- scripts/fuzz.sh 30 parse_clean

echo "readme-commands: $passed passed, $fail failed"
[ "$fail" -eq 0 ]
