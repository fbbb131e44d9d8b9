#!/bin/sh
# himalaya-pre-send.sh — himalaya pre-send hook: check each message with `rapport check` before
# himalaya sends it.
#
# Install
#   cp hooks/himalaya-pre-send.sh ~/.config/himalaya/ && chmod +x ~/.config/himalaya/himalaya-pre-send.sh
#   In ~/.config/himalaya/config.toml, in the account's section (himalaya 1.x):
#     [accounts.work]
#     message.send.pre-hook = "~/.config/himalaya/himalaya-pre-send.sh"
#   Releases before 1.0 call the same option `email-hooks.pre-send`:
#     email-hooks.pre-send = "~/.config/himalaya/himalaya-pre-send.sh"
#   Settings below can go in front of the command: "RAPPORT_FAIL_ON=error ~/.config/…/himalaya-pre-send.sh".
#
# How himalaya runs it
#   himalaya runs the pre-send hook through `sh -c`, writes the message to its stdin, and sends
#   what the hook prints on stdout; a non-zero exit aborts sending and himalaya reports the hook's
#   stderr. So this hook prints the message back, byte for byte, when it may go, and prints
#   nothing on stdout when it may not. The message is never modified.
#
# What happens
#   - Nothing at or above RAPPORT_FAIL_ON: the message is passed through; exit 0.
#   - Findings (rapport exits 1): nothing on stdout, the findings on stderr, exit 1: himalaya does
#     not send. To send it as it is: RAPPORT_FORCE=1 himalaya message send < draft.eml (or the
#     command you use), and the findings are still printed on stderr.
#   - rapport itself fails (exit 2: unreadable input, missing model; or it is not installed): by
#     default the message is passed through with a warning on stderr, so a broken checker never
#     stops your mail. RAPPORT_ON_ERROR=refuse stops it instead (exit 2).
#
# Settings (environment)
#   RAPPORT           rapport binary (default: `rapport` on PATH)
#   RAPPORT_FAIL_ON   info | warning | error: lowest severity that stops a message (default: warning)
#   RAPPORT_FORCE     1: send even when rapport has findings
#   RAPPORT_ON_ERROR  send (default) | refuse: what to do when rapport cannot check the message
#   RAPPORT_ARGS      extra arguments for `rapport check`, split on spaces (e.g. "--device cuda")
set -eu

rapport=${RAPPORT:-rapport}
fail_on=${RAPPORT_FAIL_ON:-warning}
on_error=${RAPPORT_ON_ERROR:-send}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rapport-himalaya.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
msg=$tmp/message.eml
cat >"$msg"

status=0
# shellcheck disable=SC2086 # RAPPORT_ARGS is split on purpose
"$rapport" check --fail-on "$fail_on" ${RAPPORT_ARGS:-} - <"$msg" >"$tmp/report" 2>&1 || status=$?

case $status in
0) ;;
1)
    if [ "${RAPPORT_FORCE:-0}" = 1 ]; then
        {
            printf 'rapport: sending anyway (RAPPORT_FORCE=1) despite these findings:\n\n'
            cat "$tmp/report"
        } >&2
    else
        {
            printf 'rapport: message NOT sent: it could be misread.\n\n'
            cat "$tmp/report"
            printf '\nrapport: edit the message, or send it as it is with RAPPORT_FORCE=1.\n'
        } >&2
        exit 1
    fi
    ;;
*)
    {
        printf 'rapport: could not check the message (%s exited %s):\n' "$rapport" "$status"
        cat "$tmp/report"
    } >&2
    if [ "$on_error" = refuse ]; then
        printf 'rapport: message NOT sent (RAPPORT_ON_ERROR=refuse).\n' >&2
        exit 2
    fi
    printf 'rapport: sending it unchecked (RAPPORT_ON_ERROR=refuse stops it instead).\n' >&2
    ;;
esac

# The message itself, unchanged, is what himalaya sends.
cat "$msg"
