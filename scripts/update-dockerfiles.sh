#!/usr/bin/env bash
# Re-render dockerfiles/<profile>.Dockerfile for every bundled profile except the abstract `base`
# (BuildKit form). tests/unit/render/test_render_cmd.py fails while a committed file is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-python3}" -m toolkit.commands.render_cmd --update-committed
