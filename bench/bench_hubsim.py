"""Throughput of the Hub simulator under a crawl-shaped load.

The server runs in its own process pinned to one CPU; the load generator (aiohttp, keep-alive)
runs on another and replays what a crawler does: list every Space with `expand[]=sha`, then per
Space the info, the recursive tree, the runtime and up to six raw files (about ten requests each).

A Python client saturates before the server does, so besides the observed rate the benchmark
reports the server's capacity: requests served per CPU-second of the server process.

    python bench/bench_hubsim.py --spaces 10000 --crawl 3000 --concurrency 64
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import time
from collections import Counter
from typing import Any

import aiohttp

from services.hubsim import HubSimulator


def _serve(spaces: int, seed: int, cpu: int | None, ready: Any) -> None:
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})
    simulator = HubSimulator(spaces, seed, port=0)
    simulator.run(on_ready=ready.put)


async def _crawl(base_url: str, crawl: int, concurrency: int) -> tuple[Counter[str], float]:
    counts: Counter[str] = Counter()
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base_url, connector=connector) as session:

        async def get(route: str, path: str, **params: str) -> Any:
            async with session.get(path, params=params) as response:
                counts[f"{route} {response.status}"] += 1
                return await response.json() if route != "resolve" else await response.read()

        started = time.perf_counter()
        space_ids: list[str] = []
        url: str | None = "/api/spaces?expand[]=sha&limit=1000"
        while url is not None and len(space_ids) < crawl:
            async with session.get(url) as response:
                counts[f"list {response.status}"] += 1
                space_ids.extend(item["id"] for item in await response.json())
                link = response.links.get("next")
                url = str(link["url"]).removeprefix(base_url) if link else None
        queue: asyncio.Queue[str] = asyncio.Queue()
        for space_id in space_ids[:crawl]:
            queue.put_nowait(space_id)

        async def worker() -> None:
            while not queue.empty():
                space_id = queue.get_nowait()
                info = await get("info", f"/api/spaces/{space_id}")
                await get("tree", f"/api/spaces/{space_id}/tree/main", recursive="true")
                await get("runtime", f"/api/spaces/{space_id}/runtime")
                for sibling in info["siblings"][:6]:
                    await get("resolve", f"/spaces/{space_id}/resolve/{info['sha']}/{sibling['rfilename']}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return counts, time.perf_counter() - started


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc); None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spaces", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--crawl", type=int, default=3_000, help="how many Spaces to crawl")
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()

    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    server_cpu = cpus[0] if len(cpus) > 1 else None
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    started = time.perf_counter()
    server = context.Process(target=_serve, args=(args.spaces, args.seed, server_cpu, ready), daemon=True)
    server.start()
    base_url = ready.get(timeout=120)
    print(f"world of {args.spaces} Spaces up in {time.perf_counter() - started:.2f}s (incl. process start)")
    if server_cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(cpus[1:]))
    assert server.pid is not None
    cpu_before = _cpu_seconds(server.pid)
    try:
        counts, elapsed = asyncio.run(_crawl(base_url, args.crawl, args.concurrency))
        cpu_after = _cpu_seconds(server.pid)
    finally:
        server.terminate()
        server.join()
    total = sum(counts.values())
    pinned = f"server pinned to CPU {server_cpu}" if server_cpu is not None else "server not pinned"
    print(f"{total} requests in {elapsed:.2f}s = {total / elapsed:,.0f} req/s observed ({pinned})")
    if cpu_before is not None and cpu_after is not None and cpu_after > cpu_before:
        busy = cpu_after - cpu_before
        print(f"server CPU {busy:.2f}s ({busy / elapsed:.0%} of one core) = {total / busy:,.0f} req/s per core")
    for key, count in sorted(counts.items()):
        print(f"  {key:<16} {count}")


if __name__ == "__main__":
    main()
