#!/usr/bin/env bash
# The full test suite from a fresh machine: install, lint, type-check, start the real servers, test.
# Real Kafka, OpenSearch and Prometheus are fetched from Maven Central / Debian and run on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

HELM_VERSION=v3.21.4
export PATH="$PATH:$(go env GOPATH)/bin"
if ! command -v helm > /dev/null; then
  echo "== building helm $HELM_VERSION (go install), in the background"
  go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" > /tmp/exposurewatch-helm-install.log 2>&1 &
  HELM_BUILD=$!
fi

python3 -m pip install --disable-pip-version-check -q -e '.[dev]'

echo "== ruff"; ruff check .
echo "== mypy"; mypy

# The report test renders the HTML report in headless Chromium (Debian's package).
command -v chromium >/dev/null || { echo "== installing chromium"; apt-get update -qq && apt-get install -y -qq chromium; }

echo "== starting Kafka, OpenSearch and Prometheus (exposurewatch stack up)"
exposurewatch stack up
trap 'exposurewatch stack down || true' EXIT
exposurewatch stack status

if [ -n "${HELM_BUILD:-}" ] && ! wait "$HELM_BUILD"; then
  cat /tmp/exposurewatch-helm-install.log; exit 1
fi

echo "== pytest"
python3 -m pytest "$@"
