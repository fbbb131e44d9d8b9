#!/usr/bin/env bash
# Fuzz rapport's parse → clean → rules pipeline, the mbox reader, the IMAP response reader and the
# accounts evidence with cargo-fuzz (libFuzzer). See fuzz/README.md.
#
#   scripts/fuzz.sh [SECONDS] [TARGET]   fuzz TARGET (default parse_clean) for SECONDS (default 600)
#   scripts/fuzz.sh replay               run every committed reproducer in fuzz/regressions/ once
#
# Environment:
#   FUZZ_SANITIZER   address (default) | none   (none if AddressSanitizer gives trouble)
#   FUZZ_NICE        niceness of the fuzzing process (default 10: the machine is shared)
#   FUZZ_ARGS        extra libFuzzer flags, e.g. "-seed=1"
#
# Uses the stable toolchain: cargo-fuzz needs nightly flags (-Zsanitizer, -Cpasses=sancov-module),
# so RUSTC_BOOTSTRAP=1 is set. Builds only inside fuzz/ (fuzz/target), against rapport with
# default-features = false (no rust-bert / libtorch). One fuzzing process, one build job.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FUZZ="$ROOT/fuzz"
cd "$FUZZ"

export RUSTC_BOOTSTRAP=1
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
SANITIZER="${FUZZ_SANITIZER:-address}"
NICE="${FUZZ_NICE:-10}"
TARGETS=(parse_clean mbox accounts_evidence imap_response)

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

# The fixtures every target starts from (copied: fuzz/corpus/ is git-ignored and grows as the
# fuzzer finds new coverage).
fixtures() {
    local d
    for d in tests/fixtures/mail tests/fixtures/imap examples/sample-sent/cur examples/drafts; do
        [ -d "$ROOT/$d" ] && find "$ROOT/$d" -type f ! -name '.*' -size -262144c
    done | LC_ALL=C sort
}

# A corpus file name for a fixture path: the path relative to the repo, flattened.
seed_name() {
    local rel=${1#"$ROOT"/}
    printf 'seed-%s' "$(printf '%s' "$rel" | tr -c 'A-Za-z0-9._-' '_')"
}

# The accounts evidence starts from the accounts fixtures: calendar files, call logs, mapping
# files and mail both ways (the target reads calendar text, then message text after a NUL byte).
accounts_fixtures() {
    local d
    for d in tests/fixtures/accounts examples/sample-received/cur; do
        [ -d "$ROOT/$d" ] && find "$ROOT/$d" -type f ! -name '.*' -size -262144c
    done | LC_ALL=C sort
}

seed() {
    local target=$1 dir="$FUZZ/corpus/$1" f n=0
    mkdir -p "$dir"
    if [ "$target" = accounts_evidence ]; then
        while IFS= read -r f; do
            cp "$f" "$dir/$(seed_name "$f")"
            { cat "$ROOT/tests/fixtures/accounts/calendar.ics"; printf '\0'; cat "$f"; } >"$dir/$(seed_name "$f").pair"
            n=$((n + 1))
        done < <(accounts_fixtures)
    fi
    while IFS= read -r f; do
        [ "$target" = accounts_evidence ] && break
        case $target in
            parse_clean)
                cp "$f" "$dir/$(seed_name "$f")"
                ;;
            mbox)
                # One message per file, with an mbox separator line.
                { printf 'From fuzz@example.com Mon Jan  1 00:00:00 2024\n'; cat "$f"; } >"$dir/$(seed_name "$f")"
                ;;
            imap_response)
                # One message as the body of a FETCH answer (a literal), then the tagged OK.
                { printf '* 1 FETCH (UID 1 RFC822.SIZE %s BODY[]<0> {%s}\r\n' "$(wc -c <"$f")" "$(wc -c <"$f")"; cat "$f"; printf ')\r\nR1 OK done\r\n'; } >"$dir/$(seed_name "$f")"
                ;;
        esac
        n=$((n + 1))
    done < <(fixtures)
    if [ "$target" = mbox ]; then
        # All fixtures in one mbox (mboxrd-quoted), so multi-message files are in the corpus.
        while IFS= read -r f; do
            printf 'From fuzz@example.com Mon Jan  1 00:00:00 2024\n'
            sed -E 's/^(>*From )/>\1/' "$f"
            printf '\n'
        done < <(fixtures) | head -c 262144 >"$dir/seed-all-fixtures.mbox" || true
    fi
    if [ "$target" = imap_response ]; then
        # The answers a session reads besides bodies.
        printf '* OK [UIDVALIDITY 3857529045] UIDs valid\r\n* 8 EXISTS\r\n* OK [UIDNEXT 9] next\r\nR1 OK [READ-ONLY] done\r\n' >"$dir/seed-examine"
        printf '* LIST (\\HasNoChildren \\Sent) "/" "Sent"\r\n* LIST (\\Noselect) "/" "&AMk-l&AOk-ments"\r\nR1 OK done\r\n' >"$dir/seed-list"
        printf '* SEARCH 1 2 3 5 8\r\nR1 OK done\r\n' >"$dir/seed-search"
        printf '* CAPABILITY IMAP4rev1 SPECIAL-USE AUTH=PLAIN\r\n+ \r\nR1 NO [AUTHENTICATIONFAILED] no\r\n' >"$dir/seed-capability"
        printf '* 1 FETCH (UID 1 RFC822.SIZE 4294967295)\r\n* 2 FETCH (UID 2 BODY[]<0> {4294967295}\r\n' >"$dir/seed-huge-literal"
        n=$((n + 5))
    fi
    # Committed reproducers of past crashes stay in the corpus.
    for f in "$FUZZ"/regressions/"$target"-*; do
        [ -f "$f" ] && cp "$f" "$dir/regression-$(basename "$f")" && n=$((n + 1))
    done
    echo "fuzz.sh: seeded $dir with $n files ($(find "$dir" -type f | wc -l) in the corpus now)" >&2
}

if [ "${1:-}" = replay ]; then
    status=0
    for target in "${TARGETS[@]}"; do
        files=("$FUZZ"/regressions/"$target"-*)
        [ -f "${files[0]}" ] || continue
        echo "fuzz.sh: replaying ${#files[@]} reproducer(s) for $target" >&2
        cargo fuzz run --sanitizer "$SANITIZER" "$target" "${files[@]}" -- -runs=1 || status=1
    done
    exit $status
fi

SECS="${1:-600}"
TARGET="${2:-parse_clean}"
case " ${TARGETS[*]} " in
    *" $TARGET "*) ;;
    *) echo "fuzz.sh: unknown target $TARGET (have: ${TARGETS[*]})" >&2; exit 2 ;;
esac
case $SECS in
    '' | *[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, got $SECS" >&2; exit 2 ;;
esac

seed "$TARGET"
cargo fuzz build --sanitizer "$SANITIZER" "$TARGET"

echo "fuzz.sh: fuzzing $TARGET for ${SECS}s (sanitizer: $SANITIZER, started $(date -u +%FT%TZ))" >&2
# shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
exec nice -n "$NICE" cargo fuzz run --sanitizer "$SANITIZER" "$TARGET" "$FUZZ/corpus/$TARGET" -- \
    -max_total_time="$SECS" -max_len=262144 -rss_limit_mb=2048 -timeout=10 \
    -dict="$FUZZ/dict/mail.dict" -print_final_stats=1 ${FUZZ_ARGS:-}
