#!/bin/sh
# mutt-sendmail-wrapper.sh — check each message with `rapport check` before mutt or NeoMutt
# hands it to sendmail.
#
# Install
#   cp hooks/mutt-sendmail-wrapper.sh ~/.local/bin/ && chmod +x ~/.local/bin/mutt-sendmail-wrapper.sh
#   In ~/.muttrc or ~/.config/neomutt/neomuttrc (use the absolute path):
#     set sendmail="/home/you/.local/bin/mutt-sendmail-wrapper.sh"
#   If you already had `set sendmail="/usr/bin/msmtp -a work"` or similar, put that program in
#   RAPPORT_SENDMAIL (mutt passes its own arguments, e.g. `-oi -- bob@example.com`, on to it):
#     set sendmail="env RAPPORT_SENDMAIL=/usr/bin/msmtp /home/you/.local/bin/mutt-sendmail-wrapper.sh -a work"
#
# What happens
#   mutt pipes the message on stdin; the wrapper keeps a copy in a private temporary directory and
#   runs `rapport check` on it.
#   - Nothing at or above RAPPORT_FAIL_ON: the message goes to the real sendmail byte for byte,
#     with the same arguments, and the wrapper exits with sendmail's status.
#   - Findings (rapport exits 1): nothing is sent; the findings go to stderr and the wrapper exits
#     1. mutt reports "Error sending message", shows the output of the delivery process and keeps
#     the message so you can edit it. To send it as it is, set RAPPORT_FORCE=1 — e.g. this macro
#     (mutt >= 2.0 or NeoMutt) sends the message in the compose menu anyway with Y:
#       macro compose Y "<enter-command>setenv RAPPORT_FORCE 1<enter><send-message><enter-command>unsetenv RAPPORT_FORCE<enter>" "send without the tone check"
#   - rapport itself fails (exit 2: unreadable input, missing model; or rapport is not installed):
#     by default the message is sent anyway with a warning on stderr, so a broken checker never
#     stops your mail. RAPPORT_ON_ERROR=refuse stops the message instead (exit 2).
#   - Messages mutt bounces (`bounce-message` adds Resent-* headers) are someone else's words and
#     are passed on unchecked.
#   The message is never modified.
#
# Settings (environment)
#   RAPPORT           rapport binary (default: `rapport` on PATH)
#   RAPPORT_SENDMAIL  the real sendmail (default: /usr/sbin/sendmail)
#   RAPPORT_FAIL_ON   info | warning | error: lowest severity that stops a message (default: warning)
#   RAPPORT_FORCE     1: send even when rapport has findings (they are still printed)
#   RAPPORT_ON_ERROR  send (default) | refuse: what to do when rapport cannot check the message
#   RAPPORT_ARGS      extra arguments for `rapport check`, split on spaces (e.g. "--device cuda")
#
# mutt only shows the wrapper's output when sending fails; warnings printed on success (forced
# sends, unchecked sends) are not shown.
set -eu

rapport=${RAPPORT:-rapport}
sendmail=${RAPPORT_SENDMAIL:-/usr/sbin/sendmail}
fail_on=${RAPPORT_FAIL_ON:-warning}
on_error=${RAPPORT_ON_ERROR:-send}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rapport-mutt.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
msg=$tmp/message.eml
cat >"$msg"

# The header block ends at the first empty line (CRLF or LF).
is_bounce() {
    awk '/^\r?$/ { exit } tolower($0) ~ /^resent-(from|to|date):/ { found = 1; exit } END { exit !found }' "$msg"
}

send() {
    status=0
    "$sendmail" "$@" <"$msg" || status=$?
    exit "$status"
}

if is_bounce; then
    send "$@"
fi

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

send "$@"
