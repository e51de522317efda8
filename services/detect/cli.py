"""``exposurewatch scan PATH...``: the detection engine on local files.

Each PATH is one asset, ``path:<PATH as given>``; a finding's ``path`` is PATH joined with the
file's path below it. Exit status: 0 when the scan completed (findings or not), 1 with
``--fail`` and findings, 2 on usage errors.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Annotated

import typer

from services.detect.files import DEFAULT_MAX_FILE_BYTES
from services.detect.output import OutputFormat, render
from services.detect.scanner import FileAnalysis, Scanner
from services.detect.watchlist import Watchlist, WatchlistError
from services.events import Finding

SKIPPED_DIRECTORIES = frozenset(
    {".git", ".hg", ".svn", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".tox"}
)


def scan(
    paths: Annotated[
        list[Path], typer.Argument(help="Files or directories to scan.", show_default=False, metavar="PATH")
    ],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
    ] = OutputFormat.TABLE,
    watchlist: Annotated[
        Path | None,
        typer.Option(help="Glob patterns of restricted model names, one per line; replaces the default list."),
    ] = None,
    fail: Annotated[bool, typer.Option("--fail", help="Exit 1 when there are findings.")] = False,
    max_file_bytes: Annotated[
        int, typer.Option(min=1, help="Skip files larger than this many bytes.")
    ] = DEFAULT_MAX_FILE_BYTES,
    jobs: Annotated[int, typer.Option(min=1, help="Worker processes (default: one per CPU).")] = os.cpu_count() or 1,
) -> None:
    """Scan files for leaked AI credentials, public model-access relays and self-hosted model endpoints."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise typer.BadParameter(f"no such file or directory: {', '.join(missing)}", param_hint="PATH")
    try:
        chosen = Watchlist.from_file(watchlist) if watchlist is not None else Watchlist.default()
    except WatchlistError as exc:
        raise typer.BadParameter(str(exc), param_hint="--watchlist") from exc
    scanner = Scanner(watchlist=chosen, max_file_bytes=max_file_bytes)
    findings: list[Finding] = []
    for root in paths:
        asset_id = f"path:{root}"
        candidates = [str(p) for p in _walk(root)]
        if jobs > 1 and len(candidates) >= PARALLEL_THRESHOLD:
            with ProcessPoolExecutor(jobs, initializer=_start_worker, initargs=(chosen, max_file_bytes)) as pool:
                analyses = pool.map(_analyze_path, candidates, [asset_id] * len(candidates), chunksize=32)
                kept = [a for a in analyses if a is not None]
        else:
            kept = [a for p in candidates if (a := _analyze(scanner, p, asset_id)) is not None]
        findings.extend(scanner.assemble(kept, asset_id))
    sys.stdout.write(render(findings, output_format))
    sys.stdout.flush()
    if fail and findings:
        raise typer.Exit(1)


PARALLEL_THRESHOLD = 64
"""Below this many files a process pool costs more than it saves."""

_worker: Scanner | None = None


def _start_worker(watchlist: Watchlist, max_file_bytes: int) -> None:
    """Each worker process builds its own scanner (and hyperscan database) once."""
    global _worker
    _worker = Scanner(watchlist=watchlist, max_file_bytes=max_file_bytes)
    # Everything alive now lives as long as the worker: keep the collector from rescanning it per file.
    gc.freeze()


def _analyze_path(path: str, asset_id: str) -> FileAnalysis | None:
    assert _worker is not None
    return _analyze(_worker, path, asset_id)


def _analyze(scanner: Scanner, path: str, asset_id: str) -> FileAnalysis | None:
    try:
        if os.stat(path).st_size > scanner.max_file_bytes:
            return None
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        typer.echo(f"warning: skipped {path}: {exc.strerror or exc.__class__.__name__}", err=True)
        return None
    return scanner.analyze_file(path, data, asset_id)


def _walk(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        if root.is_file():
            yield root
        return
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if d not in SKIPPED_DIRECTORIES)
        for name in sorted(names):
            path = Path(directory, name)
            if path.is_file() and not path.is_symlink():
                yield path
