#!/usr/bin/env bash
# Regenerate every committed render and golden file after an intended change to what toolkit emits:
# the bundled profiles' Dockerfiles (dockerfiles/) and playbooks (ansible/), and the per-step goldens
# of both render test trees. Review the diff before committing it.
# Usage: scripts/update-renders.sh   (PYTHON=... to choose the interpreter; default .venv's, else python3)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
export PYTHON
scripts/update-dockerfiles.sh
scripts/update-playbooks.sh
TOOLKIT_UPDATE_GOLDEN=1 "$PYTHON" -m pytest -q -p no:cacheprovider -m "not lint" \
  tests/unit/render tests/unit/render_hosts >/dev/null
git status --short -- dockerfiles ansible tests/unit/render tests/unit/render_hosts
