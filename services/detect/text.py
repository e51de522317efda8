"""Offsets to lines and columns, computed only for files the prefilter found something in."""

from __future__ import annotations

import re
from bisect import bisect_right

_NEWLINE = re.compile(b"\n")


class LineIndex:
    """Maps byte offsets of a UTF-8 buffer to 0-based line numbers and 1-based character columns."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._starts = [0, *(m.end() for m in _NEWLINE.finditer(data))]

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def line_of(self, offset: int) -> int:
        return bisect_right(self._starts, offset) - 1

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Byte span of lines ``first..last`` inclusive, clamped to the buffer."""
        first = max(first, 0)
        last = min(last, len(self._starts) - 1)
        end = self._starts[last + 1] if last + 1 < len(self._starts) else len(self.data)
        return self._starts[first], end

    def column(self, offset: int) -> int:
        start = self._starts[self.line_of(offset)]
        return len(self.data[start:offset].decode("utf-8", "replace")) + 1

    def line_text(self, line: int) -> str:
        start, end = self.span(line, line)
        return self.data[start:end].decode("utf-8", "replace")


def merge_runs(lines: set[int]) -> list[tuple[int, int]]:
    """Sorted line numbers as inclusive runs: {1, 2, 3, 7} -> [(1, 3), (7, 7)]."""
    runs: list[tuple[int, int]] = []
    for line in sorted(lines):
        if runs and line <= runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], line)
        else:
            runs.append((line, line))
    return runs
