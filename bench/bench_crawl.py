"""Crawler throughput and memory: bare Scrapy vs the full crawl on the same simulated Hub.

    python bench/bench_crawl.py --spaces 10000

Starts `exposurewatch hubsim` in its own process, then runs, one after the other and each in its own process:
the bare-Scrapy baseline (bench/bare_spider.py: same URLs, no work) and the full embedded crawl
(`exposurewatch crawl spaces`: detection, events, SQLite). Prints Spaces/s of both, their ratio (goal ≥ 0.8),
the full crawl's peak RSS, its recall of planted credentials, and an unchanged recrawl's request count.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = 32


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measured(cmd: list[str]) -> tuple[float, int, str]:
    """Run ``cmd`` under a wrapper that reports its wall time and peak RSS (KiB) alone."""
    wrapper = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "print(json.dumps({'rc': p.returncode, 'seconds': time.perf_counter() - t,"
        " 'rss_kib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, 'out': p.stdout + p.stderr}))\n"
    )
    result = json.loads(
        subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, check=True).stdout
    )
    if result["rc"] != 0:
        raise SystemExit(f"{cmd[:4]} failed:\n{result['out'][-3000:]}")
    return float(result["seconds"]), int(result["rss_kib"]), str(result["out"])


def hub_total(base: str) -> int:
    return int(httpx.get(f"{base}/_sim/stats").json()["total"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spaces", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    sim = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "services",
            "hubsim",
            "--spaces",
            str(args.spaces),
            "--seed",
            str(args.seed),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                httpx.get(f"{base}/api/spaces?limit=1", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        bare_script = str(ROOT / "bench" / "bare_spider.py")
        _, chain_rss, chain_out = measured([sys.executable, bare_script, base, str(CONCURRENCY)])
        chain = json.loads(chain_out.strip().splitlines()[-1])
        url_file = Path(tempfile.mkdtemp()) / "urls.txt"
        url_file.write_text("\n".join(crawl_urls(base)) + "\n")
        _, flat_rss, flat_out = measured([sys.executable, bare_script, base, str(CONCURRENCY), str(url_file)])
        flat = json.loads(flat_out.strip().splitlines()[-1])
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "ew.db"
            crawl = [
                sys.executable,
                "-m",
                "services",
                "crawl",
                "spaces",
                "--hub-url",
                base,
                "--store",
                f"sqlite:///{db}",
                "--concurrency",
                str(CONCURRENCY),
            ]
            full_s, full_rss, _ = measured(crawl)
            before = hub_total(base)
            measured(crawl)
            recrawl_requests = hub_total(base) - before
            recall, leaked = score(base, db)
    finally:
        sim.terminate()
        sim.wait()

    chain_rate = chain["spaces"] / chain["seconds"]
    flat_rate = args.spaces / flat["seconds"]
    full_rate = args.spaces / full_s
    rows: list[tuple[str, Any]] = [
        ("Spaces", args.spaces),
        (
            "bare Scrapy, callback chain, Spaces/s",
            f"{chain_rate:.1f}  ({chain['seconds']:.1f} s, peak RSS {chain_rss / 1024:.0f} MiB)",
        ),
        (
            "bare Scrapy, all URLs known, Spaces/s",
            f"{flat_rate:.1f}  ({flat['seconds']:.1f} s, {flat['requests']} URLs, peak RSS {flat_rss / 1024:.0f} MiB)",
        ),
        ("full crawl, Spaces/s", f"{full_rate:.1f}  ({full_s:.1f} s incl. start-up and indexing)"),
        ("ratio full / chain (goal >= 0.8)", f"{full_rate / chain_rate:.2f}"),
        ("ratio full / all-URLs-known (goal >= 0.8)", f"{full_rate / flat_rate:.2f}"),
        ("full crawl peak RSS", f"{full_rss / 1024:.0f} MiB"),
        ("credential recall vs ground truth", f"{recall:.4f}"),
        ("raw secrets in the SQLite files", leaked),
        ("unchanged recrawl: requests (per Space)", f"{recrawl_requests} ({recrawl_requests / args.spaces:.4f})"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


def crawl_urls(base: str) -> list[str]:
    """Every URL the crawler requests for this Hub (listing, info, tree, chosen files), gathered untimed."""
    from concurrent.futures import ThreadPoolExecutor

    sys.path.insert(0, str(ROOT))
    from crawler.settings import FETCH_MAX_FILE_BYTES, FETCH_MAX_FILES, FETCH_MAX_SPACE_BYTES
    from crawler.spiders.fetcher import is_text_candidate

    with httpx.Client(timeout=60) as client:
        listing = f"{base}/api/spaces?sort=lastModified&limit=1000&expand[]=sha"
        urls, spaces, page = [listing], [], client.get(listing)
        while True:
            spaces += [s["id"] for s in page.json()]
            following = page.links.get("next", {}).get("url")
            if not following:
                break
            urls.append(following)
            page = client.get(following)

        def per_space(space: str) -> list[str]:
            info = f"{base}/api/spaces/{space}"
            sha = client.get(info).json()["sha"]
            tree = f"{base}/api/spaces/{space}/tree/{sha}?recursive=true"
            found, budget = [info, tree], FETCH_MAX_SPACE_BYTES
            listed = client.get(tree)
            if listed.status_code != 200:  # a disabled Space: the crawler stops here too
                return [info]
            for entry in sorted(listed.json(), key=lambda e: e["path"]):
                size = int(entry.get("size") or 0)
                if entry["type"] != "file" or entry.get("lfs") or not is_text_candidate(entry["path"]):
                    continue
                if size > FETCH_MAX_FILE_BYTES or size > budget or len(found) - 2 >= FETCH_MAX_FILES:
                    continue
                budget -= size
                found.append(f"{base}/spaces/{space}/resolve/{sha}/{entry['path']}")
            return found

        with ThreadPoolExecutor(8) as pool:
            for found in pool.map(per_space, spaces):
                urls += found
    return urls


def score(base: str, db: Path) -> tuple[float, int]:
    import sqlite3

    truth = [
        i for i in httpx.get(f"{base}/_sim/ground-truth", timeout=120).json()["items"] if i["kind"] == "credential"
    ]
    con = sqlite3.connect(db)
    found = {
        (json.loads(d)["asset_id"].split(":", 1)[1], json.loads(d)["path"], json.loads(d)["line"])
        for (d,) in con.execute("SELECT doc FROM findings WHERE kind = 'credential'")
    }
    con.close()
    on_disk = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    recall = sum((i["space"], i["path"], i["line"]) in found for i in truth) / max(1, len(truth))
    return recall, sum(i["secret"].encode() in on_disk for i in truth)


if __name__ == "__main__":
    main()
