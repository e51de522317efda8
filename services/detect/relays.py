"""What a model-access relay is, independent of the language it was found in."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from services.detect import filters
from services.detect.providers import DEFAULT_BASE, DUMMY_KEYS, is_documented_path, provider_for_host
from services.detect.rules import RULES

_TRAILING_PLACEHOLDERS = re.compile(r"(?:/\{[^}]*\})+$")
"""``/v1/videos/{job_id}`` polls the relay ``/v1/videos``: ids at the end of a path are not endpoints."""

SERVER_SIDE_SOURCES = ("hardcoded", "secret", "env")
"""Credential sources that mean the app, not its visitor, pays for and authorizes each call."""


@dataclass
class Relay:
    """One call site relaying requests to a model provider with a credential the app holds."""

    provider: str
    host: str
    path: str
    credential_source: str
    line: int
    column: int
    models: list[str] = field(default_factory=list)
    documented: bool = True

    @property
    def endpoint(self) -> str:
        return f"{self.host}{self.path}"


def split_url(url: str) -> tuple[str, str] | None:
    """``(host[:port], path)`` of an absolute http(s) URL; None for anything else."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    path = parts.path.rstrip("/") or ""
    return host, path


def relay_for_url(
    url: str, sdk_provider: str | None, credential_source: str, line: int, column: int, models: list[str]
) -> Relay | None:
    """A relay to ``url``: a provider host, or (for an SDK with an overridden base URL) any host."""
    split = split_url(url)
    if split is None:
        return None
    host, path = split
    path = _TRAILING_PLACEHOLDERS.sub("", path)
    provider = provider_for_host(host.split(":", 1)[0])
    if provider is None:
        if sdk_provider is None:
            return None
        provider = "openai-compatible" if sdk_provider in ("openai", "azure_openai") else sdk_provider
        documented = True
    else:
        documented = is_documented_path(provider, path)
    return Relay(provider, host, path, credential_source, line, column, sorted(set(models)), documented)


OPENAI_STYLE_PATH = re.compile(r"/(?:chat/completions|completions|responses|embeddings|images/generations)$")


def http_relay_for_url(url: str, credential_source: str, line: int, column: int, models: list[str]) -> Relay | None:
    """A raw HTTP call with the app's key: to a provider host, or OpenAI-style to any host (a relay of a relay,
    e.g. a Cloudflare Worker in front of OpenAI)."""
    relay = relay_for_url(url, None, credential_source, line, column, models)
    if relay is None and OPENAI_STYLE_PATH.search(url.split("?", 1)[0].rstrip("/")):
        relay = relay_for_url(url, "openai", credential_source, line, column, models)
    return relay


def default_base(provider: str) -> str:
    return DEFAULT_BASE.get(provider, "")


def merge_relays(relays: list[Relay]) -> list[Relay]:
    """One relay per provider and endpoint; models are pooled, the first call site is kept."""
    merged: dict[tuple[str, str], Relay] = {}
    for relay in relays:
        key = (relay.provider, relay.endpoint)
        if key not in merged:
            merged[key] = relay
            continue
        kept = merged[key]
        kept.models = sorted(set(kept.models) | set(relay.models))
        if _rank(relay.credential_source) < _rank(kept.credential_source):
            kept.credential_source = relay.credential_source
    return list(merged.values())


def _rank(source: str) -> int:
    return SERVER_SIDE_SOURCES.index(source) if source in SERVER_SIDE_SOURCES else len(SERVER_SIDE_SOURCES)


def literal_credential(value: object) -> str | None:
    """``hardcoded`` for a literal that is a key; None for dummies (``EMPTY``, ``ollama``) and stand-ins."""
    if not isinstance(value, str):
        return None
    stripped = value.strip()
    if stripped.lower() in DUMMY_KEYS or filters.is_placeholder(stripped):
        return None
    data = stripped.encode("utf-8", "replace")
    if any(rule.context is None and rule.pattern.search(data) for rule in RULES):
        return "hardcoded"
    if len(stripped) >= 20 and " " not in stripped and filters.shannon_entropy(stripped) >= 3.5:
        return "hardcoded"
    return None


def best_source(sources: list[str | None]) -> str | None:
    """A server-held credential wins over a visitor's: ``key or os.getenv(...)`` still spends the app's key."""
    for preferred in ("hardcoded", "secret", "env", "user"):
        if preferred in sources:
            return preferred
    return None
