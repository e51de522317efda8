#!/usr/bin/env bash
# The main job on embedded defaults, against the bundled Hub simulator: no Kafka, no search engine.
# Starts a simulated Hub of $SPACES Spaces, crawls it into ./exposurewatch.db, and shows what it found.
set -euo pipefail
cd "$(dirname "$0")/.."
SPACES="${SPACES:-2000}"
PORT="${PORT:-7860}"

python3 -m pip install --disable-pip-version-check -q -e .

exposurewatch hubsim --spaces "$SPACES" --seed 1 --port "$PORT" > hubsim.log 2>&1 &
SIM=$!
trap 'kill $SIM 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/api/spaces?limit=1" > /dev/null 2>&1 && break
  sleep 0.2
done

exposurewatch crawl spaces --hub-url "http://127.0.0.1:$PORT"
exposurewatch search 'restricted:true OR severity:critical' --limit 15
