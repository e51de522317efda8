"""The detection engine's entry point: bytes of repository files in, :class:`Finding` events out.

One prefilter pass per file (hyperscan, all rules at once) decides which detectors run and on
which lines. Relays need the app's public interface, which may live in another file (``app.py``
imports ``llm.py``) or in the Space card (``sdk: gradio``), so :meth:`Scanner.scan_files` looks
at the files of one asset together.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from services.detect import endpoints, files
from services.detect.credentials import GENERIC, SecretMatch, find_credentials
from services.detect.fingerprints import default_key, fingerprint, redact
from services.detect.js_proxies import analyze_js
from services.detect.prefilter import Prefilter
from services.detect.python_proxies import analyze_python
from services.detect.relays import SERVER_SIDE_SOURCES, Relay, merge_relays
from services.detect.rules import GENERIC_PREFILTER, RULES
from services.detect.text import LineIndex
from services.detect.watchlist import Watchlist
from services.events import Finding, FindingKind, Severity

DETECTOR_VERSION = "1.0"
PROXY_DETECTOR = "model-proxy"
ENDPOINT_DETECTOR = "endpoint-reference"

_URL = -2
_PROXY_HINT = -3
_PROXY_HINTS = (
    rb"openai",
    rb"anthropic",
    rb"genai",
    rb"generativelanguage",
    rb"groq",
    rb"mistral",
    rb"cohere",
    rb"replicate",
    rb"together",
    rb"elevenlabs",
    rb"InferenceClient",
    rb"HfInference",
    rb"langchain",
    rb"requests",
    rb"httpx",
    rb"aiohttp",
    rb"urllib",
    rb"fetch",
    rb"axios",
    rb"ai-sdk",
    # Interfaces: a file that only builds the UI still lends it to the relays in its siblings.
    rb"gradio",
    rb"streamlit",
    rb"fastapi",
    rb"flask",
    rb"chainlit",
    rb"express",
    rb"next/server",
)
_SPACE_SDK = re.compile(rb"(?m)^sdk:\s*['\"]?(gradio|streamlit|docker|static)")
_SPACE_INTERFACES = {b"gradio": "gradio", b"streamlit": "streamlit", b"docker": "docker"}


@dataclass(frozen=True)
class _Compiled:
    prefilter: Prefilter
    meta: tuple[tuple[int, ...], ...]
    """For each prefilter pattern: the rule indices (or GENERIC/_URL/_PROXY_HINT) it stands for."""


_compiled: _Compiled | None = None
_compile_lock = threading.Lock()


def _compile() -> _Compiled:
    """All rule keywords and triggers in one database, built once per process."""
    global _compiled
    with _compile_lock:
        if _compiled is None:
            by_keyword: dict[bytes, list[int]] = {}
            for index, rule in enumerate(RULES):
                for keyword in rule.keywords:
                    by_keyword.setdefault(re.escape(keyword.lower()), []).append(index)
            patterns = list(by_keyword)
            meta = [tuple(v) for v in by_keyword.values()]
            patterns += [GENERIC_PREFILTER, endpoints.URL_PREFILTER, b"|".join(_PROXY_HINTS)]
            meta += [(GENERIC,), (_URL,), (_PROXY_HINT,)]
            _compiled = _Compiled(Prefilter(patterns), tuple(meta))
        return _compiled


def prefilter_engine() -> str:
    """``hyperscan`` or ``python``: which prefilter this process runs."""
    return _compile().prefilter.engine


@dataclass
class FileAnalysis:
    """What one file contributes to an asset's findings; picklable, so files can be analyzed in parallel."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    relays: list[Relay] = field(default_factory=list)
    interface: str | None = None
    space_interface: str | None = None
    """From a Space card (``README.md`` front matter ``sdk: gradio``)."""
    relay_confidence: float = 0.9


class Scanner:
    """Finds credentials, model-access relays and self-hosted endpoint references in files.

    Thread-safe and free of global state: each call works on its own buffers; the compiled
    prefilter is shared read-only (hyperscan scratch space is per thread).
    """

    def __init__(
        self,
        watchlist: Watchlist | None = None,
        max_file_bytes: int = files.DEFAULT_MAX_FILE_BYTES,
        fingerprint_key: str | bytes | None = None,
    ) -> None:
        self.watchlist = watchlist if watchlist is not None else Watchlist.default()
        self.max_file_bytes = max_file_bytes
        if fingerprint_key is None:
            self._key = default_key()
        else:
            self._key = fingerprint_key.encode() if isinstance(fingerprint_key, str) else fingerprint_key
        self._compiled = _compile()

    def scan_file(self, path: str, data: bytes, asset_id: str) -> list[Finding]:
        """Findings in one file; ``path`` is reported as given."""
        return self.scan_files([(path, data)], asset_id)

    def scan_files(self, files_: Iterable[tuple[str, bytes]], asset_id: str) -> list[Finding]:
        """Findings in the files of one asset (a Space, a directory): relays may take the interface from a sibling."""
        analyses = (self.analyze_file(path, data, asset_id) for path, data in files_)
        return self.assemble([a for a in analyses if a is not None], asset_id)

    def analyze_file(self, path: str, data: bytes, asset_id: str) -> FileAnalysis | None:
        """First half of :meth:`scan_files`, file by file; None for skipped (too large or binary) files."""
        if len(data) > self.max_file_bytes or files.file_kind(path) == "binary":
            return None
        buffer = files.to_utf8(data)
        if buffer is None:
            return None
        analysis = self._scan_buffer(path, buffer, asset_id)
        if PurePosixPath(path.replace("\\", "/")).name.lower() == "readme.md":
            sdk = _SPACE_SDK.search(buffer[:4096])
            analysis.space_interface = _SPACE_INTERFACES.get(sdk.group(1)) if sdk else None
        return analysis

    def assemble(self, analyses: list[FileAnalysis], asset_id: str) -> list[Finding]:
        """Second half of :meth:`scan_files`: relays get the app's interface; one finding per secret per file."""
        app_interface = next((a.interface for a in analyses if a.interface), None) or next(
            (a.space_interface for a in analyses if a.space_interface), None
        )
        findings: list[Finding] = []
        seen: set[tuple[str, str]] = set()
        for analysis in analyses:
            interface = analysis.interface or app_interface
            confidence = analysis.relay_confidence if analysis.interface else analysis.relay_confidence - 0.1
            found = list(analysis.findings)
            if interface is not None:
                found += self._relay_findings(analysis, interface, confidence, asset_id)
            for finding in found:
                if (finding.id, analysis.path) not in seen:
                    seen.add((finding.id, analysis.path))
                    findings.append(finding)
        return findings

    # ---- per file -------------------------------------------------------------------------------
    def _scan_buffer(self, path: str, buffer: bytes, asset_id: str) -> FileAnalysis:
        result = FileAnalysis(path)
        hits = self._compiled.prefilter.scan(buffer)
        if not hits:
            return result
        credential_hits: list[tuple[int, int]] = []
        url_offsets: list[int] = []
        proxy_hint = False
        for pattern, end in hits:
            for target in self._compiled.meta[pattern]:
                if target == _URL:
                    url_offsets.append(end)
                elif target == _PROXY_HINT:
                    proxy_hint = True
                else:
                    credential_hits.append((target, end))
        index = LineIndex(buffer)
        if credential_hits:
            for match in find_credentials(index, credential_hits):
                result.findings.append(self._credential_finding(match, index, path, asset_id))
        if url_offsets:
            for reference in endpoints.find_endpoints(index, url_offsets):
                result.findings.append(self._endpoint_finding(reference, index, path, asset_id))
        if proxy_hint:
            self._find_relays(path, buffer, result)
        return result

    def _find_relays(self, path: str, buffer: bytes, result: FileAnalysis) -> None:
        kind = files.file_kind(path)
        if kind not in ("python", "notebook", "js"):
            return
        text = buffer.decode("utf-8", "replace")
        if kind == "python":
            analysis = analyze_python(text)
            result.relays, result.interface = analysis.relays, analysis.interface
        elif kind == "notebook":
            code = files.notebook_code(text)
            if code is None:
                return
            analysis = analyze_python(code.source)
            for relay in analysis.relays:
                relay.line, relay.column = code.raw_line(relay.line), 1
            result.relays, result.interface = analysis.relays, analysis.interface
        elif kind == "js":
            js = analyze_js(text)
            result.relays, result.interface, result.relay_confidence = js.relays, js.interface, 0.8

    # ---- findings -------------------------------------------------------------------------------
    def _credential_finding(self, match: SecretMatch, index: LineIndex, path: str, asset_id: str) -> Finding:
        return Finding(
            kind=FindingKind.CREDENTIAL,
            provider=match.provider,
            severity=match.severity,
            confidence=match.confidence,
            asset_id=asset_id,
            path=path,
            line=index.line_of(match.start) + 1,
            column=index.column(match.start),
            fingerprint=fingerprint(self._key, match.secret),
            redacted=redact(match.secret, match.prefix_length),
            detector=match.detector,
            detector_version=DETECTOR_VERSION,
        )

    def _endpoint_finding(
        self, reference: endpoints.EndpointReference, index: LineIndex, path: str, asset_id: str
    ) -> Finding:
        host = reference.url.split("://", 1)[-1].split("/", 1)[0]
        strong = reference.provider != "openai-compatible" or any(c.isdigit() for c in host.replace(".", ""))
        return Finding(
            kind=FindingKind.ENDPOINT_REFERENCE,
            provider=reference.provider,
            severity=Severity.MEDIUM if strong else Severity.LOW,
            confidence=0.8 if strong else 0.6,
            asset_id=asset_id,
            path=path,
            line=index.line_of(reference.start) + 1,
            column=index.column(reference.start),
            fingerprint=fingerprint(self._key, "endpoint", reference.url),
            detector=ENDPOINT_DETECTOR,
            detector_version=DETECTOR_VERSION,
            endpoint=reference.url,
        )

    def _relay_findings(self, result: FileAnalysis, interface: str, confidence: float, asset_id: str) -> list[Finding]:
        findings: list[Finding] = []
        relays = [r for r in result.relays if r.credential_source in SERVER_SIDE_SOURCES]
        for relay in merge_relays(relays):
            watched = any(self.watchlist.matches(m) for m in relay.models)
            restricted = watched or not relay.documented
            if restricted:
                severity = Severity.CRITICAL
            elif relay.credential_source == "hardcoded":
                severity = Severity.HIGH
            else:
                severity = Severity.MEDIUM
            findings.append(
                Finding(
                    kind=FindingKind.MODEL_PROXY,
                    provider=relay.provider,
                    severity=severity,
                    confidence=round(confidence, 2),
                    asset_id=asset_id,
                    path=result.path,
                    line=max(relay.line, 1),
                    column=max(relay.column, 1),
                    fingerprint=fingerprint(self._key, relay.provider, relay.endpoint, result.path),
                    redacted=None,
                    detector=PROXY_DETECTOR,
                    detector_version=DETECTOR_VERSION,
                    models=relay.models,
                    restricted=restricted,
                    endpoint=relay.endpoint,
                    credential_source=relay.credential_source,
                    interface=interface,
                )
            )
        return findings
