"""Rendering findings: table for people, JSON Lines / JSON for tools, SARIF 2.1.0 for code scanning.

Every format is built from :class:`Finding`, which never holds a raw secret, so no format can
print one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from enum import StrEnum
from io import StringIO
from typing import Any
from urllib.parse import quote

import orjson
from rich.console import Console
from rich.table import Table

from services.detect.scanner import DETECTOR_VERSION
from services.events import Finding, FindingKind, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_URI = "https://github.com/exposurewatch/exposurewatch"
_SEVERITY_ORDER = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO]
_SARIF_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}


class OutputFormat(StrEnum):
    TABLE = "table"
    JSONL = "jsonl"
    JSON = "json"
    SARIF = "sarif"


def finding_row(finding: Finding) -> dict[str, Any]:
    """The machine-readable shape of one finding (every format but the table uses it)."""
    return finding.to_json_dict()


def render(findings: Sequence[Finding], output_format: OutputFormat) -> str:
    if output_format is OutputFormat.JSONL:
        return "".join(orjson.dumps(finding_row(f)).decode() + "\n" for f in findings)
    if output_format is OutputFormat.JSON:
        return orjson.dumps([finding_row(f) for f in findings], option=orjson.OPT_INDENT_2).decode() + "\n"
    if output_format is OutputFormat.SARIF:
        return orjson.dumps(sarif(findings), option=orjson.OPT_INDENT_2).decode() + "\n"
    return table(findings)


def describe(finding: Finding) -> str:
    """One sentence about a finding, safe to show anywhere."""
    if finding.kind is FindingKind.CREDENTIAL:
        return f"{finding.provider} credential {finding.redacted} ({finding.detector})"
    if finding.kind is FindingKind.MODEL_PROXY:
        models = ", ".join(finding.models) if finding.models else "unknown model"
        flag = "RESTRICTED " if finding.restricted else ""
        return (
            f"{flag}{finding.provider} relay to {finding.endpoint} ({models}) with the app's own credential "
            f"({finding.credential_source}) behind a public {finding.interface} interface"
        )
    return f"reference to a self-hosted {finding.provider} endpoint {finding.endpoint}"


def table(findings: Sequence[Finding]) -> str:
    buffer = StringIO()
    console = Console(file=buffer, width=160, no_color=True, highlight=False)
    if not findings:
        console.print("No findings.")
        return buffer.getvalue()
    grid = Table(show_lines=False, header_style="bold")
    for column in ("severity", "kind", "provider", "location", "detail"):
        grid.add_column(column, overflow="fold")
    ordered = sorted(findings, key=lambda f: (_SEVERITY_ORDER.index(f.severity), f.path or "", f.line or 0))
    for finding in ordered:
        grid.add_row(
            finding.severity.value,
            finding.kind.value,
            finding.provider,
            f"{finding.path}:{finding.line}",
            describe(finding),
        )
    console.print(grid)
    counts = Counter(f.severity.value for f in findings)
    console.print(
        f"{len(findings)} finding(s): "
        + ", ".join(f"{counts[s.value]} {s.value}" for s in _SEVERITY_ORDER if counts[s.value])
    )
    return buffer.getvalue()


def sarif(findings: Sequence[Finding]) -> dict[str, Any]:
    rule_ids = sorted({f.detector for f in findings})
    rules = [_sarif_rule(rule_id, [f for f in findings if f.detector == rule_id]) for rule_id in rule_ids]
    results = [_sarif_result(f, rule_ids.index(f.detector)) for f in findings]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "exposurewatch",
                        "version": DETECTOR_VERSION,
                        "informationUri": TOOL_URI,
                        "rules": rules,
                    }
                },
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def _sarif_rule(rule_id: str, examples: list[Finding]) -> dict[str, Any]:
    first = examples[0]
    worst = min((f.severity for f in examples), key=_SEVERITY_ORDER.index)
    if first.kind is FindingKind.CREDENTIAL:
        text = f"Hard-coded {first.provider} credential"
    elif first.kind is FindingKind.MODEL_PROXY:
        text = "Public app relaying model-provider requests with the app's own credential"
    else:
        text = "Reference to a self-hosted model server"
    return {
        "id": rule_id,
        "name": "".join(part.capitalize() for part in rule_id.split("-")),
        "shortDescription": {"text": text},
        "defaultConfiguration": {"level": _SARIF_LEVEL[worst]},
        "properties": {"tags": ["security", first.kind.value], "security-severity": _SECURITY_SEVERITY[worst]},
    }


def _sarif_result(finding: Finding, rule_index: int) -> dict[str, Any]:
    region: dict[str, int] = {"startLine": finding.line or 1}
    if finding.column:
        region["startColumn"] = finding.column
    properties: dict[str, Any] = {
        "kind": finding.kind.value,
        "provider": finding.provider,
        "severity": finding.severity.value,
        "confidence": finding.confidence,
        "assetId": finding.asset_id,
        "findingId": finding.id,
    }
    if finding.redacted:
        properties["redacted"] = finding.redacted
    if finding.endpoint:
        properties["endpoint"] = finding.endpoint
    if finding.kind is FindingKind.MODEL_PROXY:
        properties.update(
            models=finding.models,
            restricted=finding.restricted,
            credentialSource=finding.credential_source,
            interface=finding.interface,
        )
    return {
        "ruleId": finding.detector,
        "ruleIndex": rule_index,
        "level": _SARIF_LEVEL[finding.severity],
        "message": {"text": describe(finding)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": quote((finding.path or "").replace("\\", "/"))},
                    "region": region,
                }
            }
        ],
        "partialFingerprints": {"exposurewatch/v1": finding.fingerprint},
        "properties": properties,
    }
