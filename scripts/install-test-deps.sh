#!/usr/bin/env bash
# Installs what rapport's integration tests need beyond the Rust toolchain: a real IMAP server
# (Debian's Dovecot) for tests/it/imap.rs and tests/it/audit.rs, openssl to mint the tests'
# throw-away CA, headless Chromium to render the HTML report, and the mail clients the hook tests
# drive (tests/it/hooks.rs): Debian's neomutt, and himalaya 1.1.0 from crates.io with its sendmail
# backend, built once into ~/.cache/rapport/himalaya (outside the checkout).
# Idempotent: when `dovecot`, `doveadm`, `openssl`, `chromium`, `neomutt` and that himalaya are
# there it changes nothing.
# Called by .ci/run before the tests; needs root (or sudo) only when something is missing.
set -euo pipefail
log() { printf 'install-test-deps: %s\n' "$*" >&2; }
die() { printf 'install-test-deps: error: %s\n' "$*" >&2; exit 2; }

# Dovecot installs its binaries in /usr/sbin, which is not on every user's PATH.
export PATH="$PATH:/usr/sbin:/sbin"

# himalaya 1.1.0 with its sendmail backend (himalaya 2 has none), for the himalaya hook tests:
# built once (about 20 minutes on 2 cores) into the cache; the tests skip, saying why, without it.
# RAPPORT_HIMALAYA_ROOT moves the cache; the tests read RAPPORT_HIMALAYA for the binary itself.
himalaya_root=${RAPPORT_HIMALAYA_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/rapport/himalaya}
himalaya_bin=$himalaya_root/bin/himalaya
if [ -x "$himalaya_bin" ] && "$himalaya_bin" --version 2>/dev/null | grep -q '+sendmail'; then
  log "ok: $("$himalaya_bin" --version | head -n1) in $himalaya_root"
elif ! command -v cargo >/dev/null; then
  log "warning: no cargo here, so no himalaya: the himalaya hook tests will skip"
else
  log "building himalaya 1.1.0 (sendmail backend) into $himalaya_root; once, about 20 minutes on 2 cores"
  himalaya_build=$(mktemp -d)
  if cargo install himalaya@1.1.0 --locked --root "$himalaya_root" --target-dir "$himalaya_build" \
       --no-default-features --features sendmail,maildir >&2; then
    log "ok: $("$himalaya_bin" --version | head -n1)"
  else
    log "warning: himalaya could not be built: the himalaya hook tests will skip"
  fi
  rm -rf "$himalaya_build"
fi

missing=()
{ command -v dovecot >/dev/null && command -v doveadm >/dev/null; } || missing+=(dovecot-imapd)
command -v openssl >/dev/null || missing+=(openssl)
command -v chromium >/dev/null || missing+=(chromium)
command -v neomutt >/dev/null || missing+=(neomutt)
if [ "${#missing[@]}" -eq 0 ]; then
  log "ok: $(dovecot --version 2>/dev/null | head -n1 | sed 's/^/dovecot /'), $(openssl version), $(chromium --version 2>/dev/null), $(neomutt -v 2>/dev/null | head -n1)"
  exit 0
fi

command -v apt-get >/dev/null \
  || die "missing ${missing[*]} and no apt-get here: install Dovecot (imapd) and openssl with your package manager"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "missing ${missing[*]}: run this script as root, or install them yourself"
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
install() { "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
log "installing ${missing[*]} with apt-get"
# Refresh the package lists only when the packages are not known yet (fresh image, empty lists).
if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
  log "apt-get update (package lists are empty or stale)"
  "${sudo[@]}" apt-get update -q >&2
fi
install || { log "retrying after apt-get update"; "${sudo[@]}" apt-get update -q >&2; install; }
# Debian's package starts a system-wide Dovecot when it can; the tests run their own instances
# and need none. Leaving it running is harmless (it listens on 143/993, the tests use free ports).
command -v dovecot >/dev/null || die "dovecot is still not on PATH after installing ${missing[*]}"
log "ok: dovecot $(dovecot --version | head -n1), $(openssl version)"
