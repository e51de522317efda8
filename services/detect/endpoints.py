"""URLs of self-hosted model servers referenced in code: work for the endpoint prober.

A raw public IP, a tunnel (ngrok, Cloudflare quick tunnels, gradio.live share links), Ollama's
port 11434, or an OpenAI-style ``/v1`` base on a host that is no known provider. Loopback,
private ranges, wildcard binds and documentation host names are never reported: nothing there is
reachable. The three TEST-NET ranges (RFC 5737) are the exception: they stand in for public
addresses in the Hub simulator and tests, and real Space code practically never holds them.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from services.detect.providers import provider_for_host
from services.detect.text import LineIndex

URL = re.compile(rb"""\bhttps?://[^\s"'<>`)\]}\\,|]{3,500}""", re.IGNORECASE)
URL_PREFILTER = rb"https?://"
TEST_NETS = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"))

_TUNNELS: tuple[tuple[str, str], ...] = (
    (".gradio.live", "gradio"),
    (".ngrok-free.app", "unknown"),
    (".ngrok-free.dev", "unknown"),
    (".ngrok.io", "unknown"),
    (".ngrok.app", "unknown"),
    (".ngrok.dev", "unknown"),
    (".trycloudflare.com", "unknown"),
    (".loca.lt", "unknown"),
    (".serveo.net", "unknown"),
    (".lhr.life", "unknown"),
    (".pinggy.link", "unknown"),
    (".pinggy.online", "unknown"),
    (".localhost.run", "unknown"),
)
_DOC_HOSTS = re.compile(
    r"(?:^|\.)(?:example\.(?:com|org|net)|[^.]+\.example|[^.]+\.test|[^.]+\.invalid|[^.]+\.localhost|localhost"
    r"|your[-_]?[\w-]*|my[-_]?(?:server|host|domain|endpoint)[\w-]*)$"
)
_OPENAI_STYLE = re.compile(r"^/v1(?:/(?:chat/completions|completions|models|embeddings|responses))?$")
_PORT_HINTS = {11434: "ollama", 1234: "lmstudio", 8188: "comfyui", 7860: "gradio", 7861: "gradio", 5001: "koboldcpp"}


@dataclass(frozen=True)
class EndpointReference:
    url: str
    provider: str
    start: int


def find_endpoints(index: LineIndex, offsets: list[int]) -> list[EndpointReference]:
    """Endpoint references on the lines where the prefilter saw ``http(s)://``, one per normalized URL."""
    seen: set[str] = set()
    found: list[EndpointReference] = []
    lines = sorted({index.line_of(o) for o in offsets})
    for line in lines:
        start, end = index.span(line, line)
        for match in URL.finditer(index.data, start, end):
            classified = classify(match.group(0).decode("utf-8", "replace"))
            if classified is None or classified[0] in seen:
                continue
            seen.add(classified[0])
            found.append(EndpointReference(classified[0], classified[1], match.start()))
    return found


def classify(raw_url: str) -> tuple[str, str] | None:
    """``(server_base_url, provider_guess)`` when ``raw_url`` points at a self-hosted model server.

    The URL is reduced to what identifies the server (scheme, host, port, and ``/v1`` for
    OpenAI-style APIs): credentials, query, fragment and request paths are dropped.
    """
    url = raw_url.rstrip(".;:!?*'\"")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower().rstrip(".")
    if not host or "{" in host or "$" in host or "%" in host:
        return None
    path = re.sub(r"/{2,}", "/", parts.path).rstrip("/")
    if "{" in path or "$" in path:
        path = path.split("{", 1)[0].split("$", 1)[0].rstrip("/")
    provider = _guess(host, port, path)
    if provider is None:
        return None
    netloc = f"[{host}]" if ":" in host else host
    default_port = 443 if parts.scheme.lower() == "https" else 80
    if port is not None and port != default_port:
        netloc = f"{netloc}:{port}"
    base_path = "/v1" if _OPENAI_STYLE.match(path) else ""
    return f"{parts.scheme.lower()}://{netloc}{base_path}", provider


def _guess(host: str, port: int | None, path: str) -> str | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        if not (address.is_global or any(address in net for net in TEST_NETS)):
            return None
        return _by_port_or_path(port, path) or "unknown"
    if _DOC_HOSTS.search(host) or host.endswith((".hf.space", ".huggingface.co")) or host == "huggingface.co":
        return None
    for suffix, provider in _TUNNELS:
        if host.endswith(suffix):
            return _by_port_or_path(port, path) or provider
    if port == 11434:
        return "ollama"
    if provider_for_host(host) is not None:
        return None
    if _OPENAI_STYLE.match(path) and (port is not None or "." in host):
        return "openai-compatible" if not host.endswith((".com", ".ai", ".io")) or port else _known_suffix(host)
    return None


def _known_suffix(host: str) -> str | None:
    """A ``/v1`` base on an ordinary public domain is usually a hosted SaaS, reported only when it looks self-run."""
    labels = host.split(".")
    if labels[0] in ("docs", "www", "blog", "help", "support"):
        return None
    self_run = any(
        w in host
        for w in (
            "vllm",
            "llama",
            "ollama",
            "tgi",
            "lmdeploy",
            "sglang",
            "gpu",
            "runpod",
            "modal.run",
            "proxy.runpod.net",
            "inference",
            "llm",
        )
    )
    return "openai-compatible" if self_run or len(labels) > 3 else None


def _by_port_or_path(port: int | None, path: str) -> str | None:
    if port in _PORT_HINTS:
        return _PORT_HINTS[port]
    if path.startswith("/api/") and any(p in path for p in ("/api/generate", "/api/chat", "/api/tags")):
        return "ollama"
    if _OPENAI_STYLE.match(path):
        return "openai-compatible"
    return None
