"""Credential detection: provider rules first, then the generic high-entropy assignment detector."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from services.detect import filters
from services.detect.rules import (
    CONTEXT_LINES,
    GENERIC_ASSIGNMENT,
    GENERIC_BEARER,
    GENERIC_BEARER_ID,
    GENERIC_ID,
    GENERIC_LINE_ASSIGNMENT,
    RULES,
    Rule,
)
from services.detect.text import LineIndex, merge_runs
from services.events import Severity


@dataclass(frozen=True)
class SecretMatch:
    """A credential found in a buffer. ``secret`` stays inside the engine; only its fingerprint leaves."""

    detector: str
    provider: str
    secret: str
    start: int
    severity: Severity
    confidence: float
    prefix_length: int


GENERIC = -1
"""Pseudo rule index for hits of the generic detector's prefilter expression."""


def find_credentials(index: LineIndex, hits: list[tuple[int, int]]) -> list[SecretMatch]:
    """Run the rules the prefilter hit, on the lines it hit (``hits``: rule index or GENERIC, end offset)."""
    lines_by_rule: dict[int, set[int]] = defaultdict(set)
    for rule_index, end in hits:
        line = index.line_of(max(end - 1, 0))
        if rule_index == GENERIC or RULES[rule_index].context is None:
            lines_by_rule[rule_index].add(line)
        else:
            lines_by_rule[rule_index].update(range(line - CONTEXT_LINES, line + CONTEXT_LINES + 1))

    found: list[SecretMatch] = []
    taken: list[tuple[int, int]] = []
    for rule_index in sorted(lines_by_rule, key=_specificity):
        if rule_index == GENERIC:
            continue
        rule = RULES[rule_index]
        for first, last in merge_runs(lines_by_rule[rule_index]):
            start, end = index.span(first, last)
            for match in rule.pattern.finditer(index.data, start, end):
                span = match.span("secret")
                if _overlaps(span, taken) or not _valid(rule, match.group("secret"), span[0], index):
                    continue
                taken.append(span)
                found.append(
                    SecretMatch(
                        detector=rule.id,
                        provider=rule.provider,
                        secret=match.group("secret").decode("ascii"),
                        start=span[0],
                        severity=rule.severity,
                        confidence=rule.confidence,
                        prefix_length=len(rule.prefix),
                    )
                )
    if GENERIC in lines_by_rule:
        found.extend(_generic(index, lines_by_rule[GENERIC], taken))
    return found


def _specificity(rule_index: int) -> tuple[int, int]:
    """Prefixed formats before context-only formats, so a bare-format rule never claims a prefixed key."""
    if rule_index == GENERIC:
        return (2, 0)
    return (0 if RULES[rule_index].context is None else 1, rule_index)


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def _valid(rule: Rule, raw: bytes, start: int, index: LineIndex) -> bool:
    secret = raw.decode("ascii")
    body = secret[len(rule.prefix) :] if rule.prefix and secret.startswith(rule.prefix) else secret
    if filters.is_placeholder(secret) or filters.shannon_entropy(body) < rule.min_entropy:
        return False
    if rule.mixed_case and not filters.has_mixed_classes(body):
        return False
    if rule.context is None:
        return True
    line = index.line_of(start)
    line_start, _ = index.span(line, line)
    before = index.data[line_start:start].decode("utf-8", "replace")
    if filters.hash_named(before):
        return False
    own_start, own_end = index.span(line, line)
    if rule.context.search(index.data, own_start, own_end):
        return True
    return filters.key_named(before) and _context_nearby(rule, index, line)


def _context_nearby(rule: Rule, index: LineIndex, line: int) -> bool:
    """The provider named in the block that holds the candidate, or in a base URL just after it.

    Above: a line up to ``CONTEXT_LINES`` back that the candidate is indented under (``Mistral(``,
    ``mistral:``). Below: a nearby line naming the provider in a URL. Unrelated assignments around
    the candidate do not count, so ``api_key = "…"`` next to ``MISTRAL_API_KEY = "…"`` stays generic.
    """
    context = rule.context
    if context is None:
        return False
    indent = _indent(index.line_text(line))
    for other in range(line - 1, max(line - CONTEXT_LINES, 0) - 1, -1):
        text = index.line_text(other)
        if _indent(text) < indent and context.search(text.encode("utf-8", "replace")):
            return True
    for other in range(line + 1, min(line + CONTEXT_LINES, index.line_count - 1) + 1):
        text = index.line_text(other)
        if "://" in text and context.search(text.encode("utf-8", "replace")):
            return True
    return False


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" \t")) if text.strip() else 1 << 16


def _generic(index: LineIndex, lines: set[int], taken: list[tuple[int, int]]) -> list[SecretMatch]:
    found: list[SecretMatch] = []
    for first, last in merge_runs(lines):
        start, end = index.span(first, last)
        for pattern in (GENERIC_ASSIGNMENT, GENERIC_LINE_ASSIGNMENT, GENERIC_BEARER):
            for match in pattern.finditer(index.data, start, end):
                span = match.span("secret")
                if _overlaps(span, taken):
                    continue
                secret = match.group("secret").decode("ascii")
                name = match.group("name").decode("ascii") if pattern is not GENERIC_BEARER else "bearer"
                if not filters.generic_value_plausible(name, secret):
                    continue
                taken.append(span)
                found.append(
                    SecretMatch(
                        detector=GENERIC_BEARER_ID if pattern is GENERIC_BEARER else GENERIC_ID,
                        provider="generic",
                        secret=secret,
                        start=span[0],
                        severity=Severity.MEDIUM,
                        confidence=0.6,
                        prefix_length=0,
                    )
                )
    return found
