#!/usr/bin/env bash
# Maintainer side of the compatibility data refresh: read the package index's own metadata for every
# bundled torch / tensorflow / jax row and print a diff of the derivable fields (Python ranges, PyPI
# CUDA/cuDNN pins, and-cuda and keras requirements, jax extras), then the releases the data does not
# know yet. Nothing is rewritten: edit toolkit/compat/data/compat.yaml from the diff and review it.
# Usage: scripts/refresh-compat.sh [--index-url URL] [--timeout SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
exec python -m toolkit.compat.maintain "$@"
