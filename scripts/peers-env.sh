# Sourced by scripts/bench.sh and scripts/bench-score.sh after `eval "$(setup/setup.sh)"`: sets
# $py to the set-up venv's Python and installs the Python peers (setup/requirements-peers.txt:
# transformers, vaderSentiment; PyPI, hashed, no dependency resolution) into that venv once.
py="$(command -v python)" # setup.sh puts its venv's bin/ first on PATH
"$py" -c 'import torch' 2>/dev/null || { printf 'error: %s (from setup/setup.sh'"'"'s PATH) does not import torch\n' "$py" >&2; exit 2; }
peers_venv="$(dirname "$(dirname "$py")")"
peers_req="$root/setup/requirements-peers.txt"
peers_stamp="$peers_venv/.rapport-peers-$(sha256sum "$peers_req" | cut -c1-16)"
if [ ! -f "$peers_stamp" ]; then
  printf 'installing setup/requirements-peers.txt (transformers, vaderSentiment) into %s\n' "$peers_venv" >&2
  "$py" -m pip install -q --disable-pip-version-check --no-input \
    --require-hashes --no-deps --only-binary=:all: -r "$peers_req" \
    || { echo 'error: pip could not install setup/requirements-peers.txt' >&2; exit 2; }
  touch "$peers_stamp"
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
