#!/usr/bin/env bash
# Installs VoxDesk into ./.venv (system libraries first, on Debian/Ubuntu).
# `--test` adds the test tools. Safe to run again: it only installs what is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

extra=""
[[ "${1:-}" == "--test" ]] && extra="[test]"

if command -v apt-get >/dev/null 2>&1; then
  bash packaging/install-system-deps.sh ${1:-}
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "VoxDesk needs Python 3.11 or newer; $("$python" --version) found. Set PYTHON=..." >&2
  exit 1
fi
[[ -x .venv/bin/python ]] || "$python" -m venv .venv

# Skip pip when this exact source tree is already installed with its dependencies.
stamp=.venv/.voxdesk-installed$extra
digest=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$digest" ]]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  # torch comes from the package index (its CUDA build, which also runs on the CPU): torchaudio,
  # which voxcpm imports, cannot load with a CPU-only torch wheel.
  .venv/bin/python -m pip install --quiet -e ".$extra" 2> >(grep -v "^WARNING: Location" >&2)
  .venv/bin/python -c "import voxdesk, voxcpm, sounddevice" >/dev/null
  echo "$digest" > "$stamp"
fi
