# Sourced by .ci/compat and .ci/frameworks (after ROOT and PYTHON are set): uv, and the legs' fresh environments.
#
# uv installs a leg in seconds where pip takes minutes, but it does not read pip's configuration, so it would not
# find the CPU build of torch that `pip install torch==2.13.0` takes from this machine's disk and would download a
# CUDA build of several GB instead. So pip, which does find it, copies that wheel (`pip download`, no install) and uv
# is handed the file; every later uv call of that leg is constrained to it, so nothing can replace it, and each leg
# fails if a CUDA package ended up in it anyway.
# UV and TORCH_WHEEL may be given (.ci/run shares one of each between the scripts); otherwise they are fetched here.

export PIP_ROOT_USER_ACTION=ignore
if [ -z "${UV:-}" ]; then
  "$PYTHON" -m pip install -q --no-compile --target "$ROOT/uv" uv
  UV=$ROOT/uv/bin/uv
fi
export UV

torch_wheel() {  # prints the wheel file `pip install torch==2.13.0` would install (copied under $ROOT once)
  if [ -z "${TORCH_WHEEL:-}" ]; then
    "$PYTHON" -m pip download -q --no-deps -d "$ROOT/wheels" "${COMPAT_TORCH:-torch==2.13.0}" >&2
    TORCH_WHEEL=$(ls "$ROOT"/wheels/torch-*.whl)
  fi
  echo "$TORCH_WHEEL"
}

new_venv() {  # $1 = folder: a fresh environment without pip (uv installs into it); $2 = its torch wheel, if any
  "$PYTHON" -m venv --without-pip "$1"
  # one torch for the whole leg: every later uv call keeps that wheel (none of the frameworks' legs needs torch)
  if [ -n "${2:-}" ]; then echo "torch @ file://$2"; fi >"$1/constraints.txt"
}

uvpip() {  # $1 = venv, then uv pip install's arguments
  local venv=$1; shift
  "$UV" pip install -q --system-certs --python "$venv/bin/python" --constraint "$venv/constraints.txt" "$@"
}

no_cuda() {  # $1 = venv: fails if a CUDA build of anything was installed
  local cuda
  cuda=$("$1/bin/python" -c 'from importlib import metadata as m; print(" ".join(sorted({d.metadata["Name"] for d in m.distributions() if d.metadata["Name"].lower().startswith("nvidia")})))')
  [ -z "$cuda" ] || { echo "CUDA packages installed: $cuda"; return 1; }
}
