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
python3 - "$PORT" <<'PY'
import sys, time, urllib.request
for _ in range(150):  # wait until the simulator answers (a few seconds at most)
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/api/spaces?limit=1", timeout=1)
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("the Hub simulator did not start; see hubsim.log")
PY

exposurewatch crawl spaces --hub-url "http://127.0.0.1:$PORT"
exposurewatch search 'restricted:true OR severity:critical' --limit 15
