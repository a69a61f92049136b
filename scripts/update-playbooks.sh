#!/usr/bin/env bash
# Re-render ansible/<profile>/playbook.yml for every bundled profile except the abstract `base`.
# tests/unit/render_hosts/test_ansible.py::test_committed_playbooks_are_current fails while one is stale;
# with TOOLKIT_UPDATE_COMMITTED=1 that same test writes them.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLKIT_UPDATE_COMMITTED=1 exec "${PYTHON:-python3}" -m pytest -q -p no:cacheprovider \
  tests/unit/render_hosts/test_ansible.py::test_committed_playbooks_are_current
