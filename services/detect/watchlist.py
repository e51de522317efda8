"""The model watchlist: glob patterns naming models that should not be publicly relayed."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from importlib.resources import files
from pathlib import Path


class WatchlistError(ValueError):
    """A watchlist file that cannot be read or holds a pattern that is not a glob."""


@dataclass(frozen=True)
class Watchlist:
    patterns: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, origin: str = "<watchlist>") -> Watchlist:
        patterns: list[str] = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if any(c.isspace() for c in line) or line.count("[") != line.count("]"):
                raise WatchlistError(f"{origin}:{number}: {line!r} is not a glob pattern over model names")
            patterns.append(line.lower())
        return cls(tuple(patterns))

    @classmethod
    def from_file(cls, path: str | Path) -> Watchlist:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise WatchlistError(f"cannot read watchlist {path}: {exc.__class__.__name__}: {exc}") from exc
        return cls.parse(text, str(path))

    @classmethod
    def default(cls) -> Watchlist:
        return cls.parse(
            files("services.detect").joinpath("watchlist.txt").read_text(encoding="utf-8"), "watchlist.txt"
        )

    def matches(self, model: str) -> bool:
        name = model.strip().lower()
        candidates = {name, name.rsplit("/", 1)[-1], name.split(":", 1)[0], name.split(":", 1)[0].rsplit("/", 1)[-1]}
        return any(fnmatchcase(c, p) for c in candidates for p in self.patterns)
