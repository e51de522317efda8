"""Keyed fingerprints and redaction: the only forms in which a secret leaves the engine."""

from __future__ import annotations

import hashlib
import hmac

from services.config import get_settings

REDACTION_MARK = "…"


def default_key() -> bytes:
    return get_settings().fingerprint_key.get_secret_value().encode()


def fingerprint(key: bytes, *parts: str) -> str:
    """HMAC-SHA256 over NUL-joined parts: equal across runs and machines sharing the key, useless without it."""
    return hmac.new(key, "\x00".join(parts).encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def redact(secret: str, prefix_length: int) -> str:
    """``sk-proj-…Ab3x``: the format prefix and the last four characters, never more than a third of the key."""
    shown_prefix = secret[: min(prefix_length, len(secret) // 3)]
    tail = secret[-4:] if len(secret) >= 16 else ""
    return f"{shown_prefix}{REDACTION_MARK}{tail}"
