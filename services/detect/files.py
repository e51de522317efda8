"""Turning repository files into text the detectors can read.

Binary files are skipped, any text encoding becomes UTF-8, and notebooks yield their code cells
with a map back to the raw ``.ipynb`` lines, so findings point at the file a person opens.
"""

from __future__ import annotations

import codecs
import json
import re
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import PurePosixPath

DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024

BINARY_EXTENSIONS = frozenset(
    {
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".bmp",
        ".ico",
        ".webp",
        ".tif",
        ".tiff",
        ".psd",
        ".mp3",
        ".mp4",
        ".wav",
        ".flac",
        ".ogg",
        ".avi",
        ".mov",
        ".mkv",
        ".webm",
        ".zip",
        ".gz",
        ".tgz",
        ".bz2",
        ".xz",
        ".7z",
        ".rar",
        ".tar",
        ".whl",
        ".pdf",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
        ".eot",
        ".so",
        ".dll",
        ".dylib",
        ".exe",
        ".bin",
        ".pt",
        ".pth",
        ".ckpt",
        ".safetensors",
        ".onnx",
        ".gguf",
        ".npy",
        ".npz",
        ".pkl",
        ".pickle",
        ".h5",
        ".parquet",
        ".arrow",
        ".db",
        ".sqlite",
        ".jar",
        ".class",
        ".pyc",
    }
)
PYTHON_EXTENSIONS = frozenset({".py", ".pyw"})
JS_EXTENSIONS = frozenset({".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx", ".svelte", ".vue"})

_MAGIC = re.compile(r"^\s*[%!?]")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_SOURCE_VALUE = re.compile(r"\s*:\s*(\[?)")


def file_kind(path: str) -> str:
    """``python`` | ``notebook`` | ``js`` | ``binary`` | ``text``, from the file name."""
    suffix = PurePosixPath(path.replace("\\", "/")).suffix.lower()
    if suffix in PYTHON_EXTENSIONS:
        return "python"
    if suffix == ".ipynb":
        return "notebook"
    if suffix in JS_EXTENSIONS:
        return "js"
    if suffix in BINARY_EXTENSIONS:
        return "binary"
    return "text"


def to_utf8(data: bytes) -> bytes | None:
    """The file as UTF-8 bytes, or None when it is binary. Tries UTF-8, UTF-16 with a BOM, then cp1252/Latin-1."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return None
    if b"\x00" in data[:8192]:
        return None
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252").encode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1").encode("utf-8")


@dataclass(frozen=True)
class NotebookCode:
    """Code cells joined into one module; ``raw_lines[i]`` is the ``.ipynb`` line of code line ``i + 1``."""

    source: str
    raw_lines: tuple[int, ...]

    def raw_line(self, line: int) -> int:
        return self.raw_lines[min(max(line, 1), len(self.raw_lines)) - 1] if self.raw_lines else 1


def notebook_code(text: str) -> NotebookCode | None:
    """Python code of an nbformat-4 notebook, magics blanked, each line mapped to its raw line."""
    try:
        notebook = json.loads(text)
    except (ValueError, RecursionError):
        return None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        return None
    occurrences = _source_occurrences(text)
    lines: list[str] = []
    raw_lines: list[int] = []
    position = 0
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        source = cell.get("source", "")
        expected = "".join(source) if isinstance(source, list) else str(source)
        while position < len(occurrences) and "".join(p for p, _ in occurrences[position]) != expected:
            position += 1
        pieces = occurrences[position] if position < len(occurrences) else [(expected, 1)]
        position += 1
        if cell.get("cell_type") != "code":
            continue
        for piece, raw_line in pieces:
            for code_line in piece.splitlines() or [""]:
                lines.append("" if _MAGIC.match(code_line) else code_line)
                raw_lines.append(raw_line)
        lines.append("")
        raw_lines.append(raw_lines[-1] if raw_lines else 1)
    return NotebookCode("\n".join(lines), tuple(raw_lines))


def _source_occurrences(text: str) -> list[list[tuple[str, int]]]:
    """Every ``"source": [...]`` (or ``"source": "..."``) in document order, as (string, raw line) pieces."""
    newlines = [m.start() for m in re.finditer("\n", text)]
    found: list[list[tuple[str, int]]] = []
    tokens = list(_JSON_STRING.finditer(text))
    for i, token in enumerate(tokens):
        after = _SOURCE_VALUE.match(text, token.end()) if token.group(0) == '"source"' else None
        if after is None:
            continue
        pieces: list[tuple[str, int]] = []
        position = after.end()
        for element in tokens[i + 1 :] if after.group(1) else tokens[i + 1 : i + 2]:
            if text[position : element.start()].strip(" \t\r\n,"):
                break  # the list closed, or the value was not a string
            pieces.append((json.loads(element.group(0)), bisect_right(newlines, element.start()) + 1))
            position = element.end()
        found.append(pieces)
    return found
