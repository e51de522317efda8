#!/usr/bin/env bash
# The full test suite from a fresh machine: install, lint, type-check, start the real servers, test.
# Real Kafka, OpenSearch and Prometheus are fetched from Maven Central / Debian and run on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --disable-pip-version-check -q -e '.[dev]'

echo "== ruff"; ruff check .
echo "== mypy"; mypy

echo "== starting Kafka, OpenSearch and Prometheus (exposurewatch stack up)"
exposurewatch stack up
trap 'exposurewatch stack down || true' EXIT
exposurewatch stack status

echo "== pytest"
python3 -m pytest "$@"
