"""Multi-pattern prefilter: one pass over a file finds every place any rule could match.

All rule keywords and trigger expressions go into one hyperscan database, compiled once per
process, so the cost of a scan does not grow with the number of rules. Regexes then run only
on the lines the prefilter pointed at. If hyperscan cannot load (no SIMD support, missing
library), a pure-Python matcher gives the same hits, slower.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)

_hyperscan: Any
try:  # pragma: no cover - which branch runs depends on the machine
    import hyperscan as _hyperscan

    _HYPERSCAN_IMPORT_ERROR: Exception | None = None
except Exception as exc:  # pragma: no cover
    _hyperscan = None
    _HYPERSCAN_IMPORT_ERROR = exc


class Prefilter:
    """Reports ``(pattern_index, end_offset)`` for every caseless match of every pattern."""

    def __init__(self, patterns: Sequence[bytes]) -> None:
        self._patterns = tuple(patterns)
        self._local = threading.local()
        self._database: Any = None
        self._hyperscan: Any = _hyperscan
        self._fallback: tuple[re.Pattern[bytes], ...] = ()
        if _hyperscan is not None:
            try:
                database = _hyperscan.Database(mode=_hyperscan.HS_MODE_BLOCK)
                database.compile(
                    expressions=list(self._patterns),
                    ids=list(range(len(self._patterns))),
                    elements=len(self._patterns),
                    flags=_hyperscan.HS_FLAG_CASELESS,
                )
                self._database = database
            except Exception as exc:  # pragma: no cover - depends on the CPU and library build
                log.warning("hyperscan unavailable (%s); using the pure-Python prefilter", type(exc).__name__)
        else:  # pragma: no cover
            log.warning("hyperscan not importable (%s); using the pure-Python prefilter", _HYPERSCAN_IMPORT_ERROR)
        if self._database is None:
            self._fallback = tuple(re.compile(p, re.IGNORECASE) for p in self._patterns)

    @property
    def engine(self) -> str:
        return "hyperscan" if self._database is not None else "python"

    def scan(self, data: bytes) -> list[tuple[int, int]]:
        if not data:
            return []
        if self._database is None:
            return [(i, m.end()) for i, rx in enumerate(self._fallback) for m in rx.finditer(data)]
        hits: list[tuple[int, int]] = []

        def on_match(pattern: int, _start: int, end: int, _flags: int, _context: object) -> None:
            hits.append((pattern, end))

        self._database.scan(data, match_event_handler=on_match, scratch=self._scratch())
        return hits

    def _scratch(self) -> Any:
        """Hyperscan scratch space is per thread; the database is shared."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._hyperscan.Scratch(self._database)
            self._local.scratch = scratch
        return scratch
