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

expect 0 "make run (the README's first command: build, then audit the sample)" -- make run
contains out "flagged" "make run prints the audit report"
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
mkdir -p "$tmp/Maildir"; cp -r examples/sample-sent "$tmp/Maildir/.Sent"; cp -r examples/sample-received "$tmp/Maildir/INBOX"
expect 0 "audit of sent and received maildirs into a state" -- $bin audit "$tmp/Maildir/.Sent" --received "$tmp/Maildir/INBOX" --state "$tmp/audit.sqlite3"
expect 0 "the same audit as a JSON report" -- $bin audit "$tmp/Maildir/.Sent" --state "$tmp/audit.sqlite3" --format json -o "$tmp/report.json"
cp "$tmp/report.json" "$tmp/out"; contains out '"flagged_count"' "the JSON report is written"
for f in examples/sample-sent/cur/*; do printf 'From dana@northwind-supply.com Mon Nov 23 09:00:00 2026\n'; sed 's/^From />From /' "$f"; echo; done > "$tmp/sent.mbox"
expect 0 "audit of an mbox to CSV with its own state" -- $bin audit "$tmp/sent.mbox" --state "$tmp/mbox.sqlite3" --format csv
contains out "source,sender,date,subject" "the CSV report has its header"
expect 0 "audit to a self-contained HTML report" -- $bin audit --format html -o "$tmp/audit.html"
cp "$tmp/audit.html" "$tmp/out"; contains out "flagged-row" "the HTML report lists the flagged messages"
expect 0 "score JSON Lines" -- $bin score < examples/score-input.jsonl
[ "$(wc -l < "$tmp/out")" -eq 3 ] && { passed=$((passed + 1)); echo "ok: one line out per line in"; } || { fail=$((fail + 1)); echo "FAILED: score wrote $(wc -l < "$tmp/out") lines"; }

expect 0 "accounts of the sample mailbox" -- $bin accounts
contains out "email only" "the accounts report gives verdicts"
expect 0 "accounts over sent and received maildirs" -- $bin accounts "$tmp/Maildir/.Sent" --received "$tmp/Maildir/INBOX" --state "$tmp/acc.sqlite3"
expect 0 "accounts as of the latest mail, to HTML" -- $bin accounts --state "$tmp/acc.sqlite3" --as-of latest --format html -o "$tmp/accounts.html"
cp "$tmp/accounts.html" "$tmp/out"; contains out "<svg" "the accounts HTML has its charts"
printf 'date,contact,duration\n2026-11-02,marc@bluefin.io,15\n' > "$tmp/calls.csv"
expect 0 "accounts with a call log and a visit plan" -- $bin accounts --state "$tmp/acc.sqlite3" --calls "$tmp/calls.csv" --plan "$tmp/visits.ics" --format json
contains out '"schema": 2' "the accounts JSON has its schema version"
cp "$tmp/visits.ics" "$tmp/out"; contains out "BEGIN:VCALENDAR" "the plan is a calendar file"
expect 0 "the check latency benchmark" -- cargo bench --locked --bench check_latency -- --runs 3
contains out "warm" "the benchmark prints its figures"

data=../shared/datasets
if [ -d "$data" ]; then
  expect 0 "eval on the dev splits" -- $bin eval
  contains out "sst2-dev" "eval prints the SST-2 figure"
  contains out "email" "eval prints the email corpus's figures"
  expect 0 "the training pipeline, quick (300 rows per task, scratch folder)" -- scripts/train-model.sh --quick
  contains out "quick pipeline ran" "train-model --quick trained, calibrated and evaluated"
  # The README's benchmarks, shortened: 1k messages instead of 1k/10k/100k, 50 rows for bench-score.
  expect 0 "rapport-bench with its peers (1k messages)" -- scripts/bench.sh --sizes 1k --latency-sample 50 --work "$tmp/bench" --json "$tmp/bench.json"
  contains out "Python transformers" "bench compares with the Python pipeline"
  contains out "Python torch" "bench compares with the torch loop"
  contains out "Per-message latency" "bench prints the per-message latency"
  expect 0 "rapport-bench alone" -- target/release/rapport-bench --sizes 1k --formats maildir --latency-sample 20 --work "$tmp/bench"
  contains out "Peers: skipped" "bench without --python says the peers were skipped"
  expect 0 "the stage benchmarks (criterion)" -- cargo bench --locked --bench pipeline -- --warm-up-time 1 --measurement-time 2 --sample-size 10
  expect 0 "bench-score (50 rows)" -- scripts/bench-score.sh 50 --max-load 100 --load-tries 0
  contains out "rapport" "bench-score prints its table"
else
  echo "skipping eval/train/bench: $data not found"
fi
expect 0 "fuzzing parse+clean for 30 s" -- scripts/fuzz.sh 30 parse_clean

echo "readme-commands: $passed passed, $fail failed"
[ "$fail" -eq 0 ]
