#!/usr/bin/env bash
# The README's screenshots (docs/window-light.png, docs/window-dark.png): the window reading a
# document with its outline. Under Xvfb and a PulseAudio null sink when run through
# packaging/test-env.sh; PYTHON defaults to the project's virtual environment.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
if [[ -z "${DISPLAY:-}" ]]; then
  exec packaging/test-env.sh "$PYTHON" -m voxdesk.testing.screenshots docs
fi
exec "$PYTHON" -m voxdesk.testing.screenshots docs
