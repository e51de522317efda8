"""False-positive control shared by the credential detectors.

Each test answers "could a person have meant this as a real key?": placeholders, template and
environment references, documented example keys, redacted strings and low-entropy strings
are not keys.
"""

from __future__ import annotations

import math
import re
from collections import Counter

DOCUMENTED_EXAMPLES = frozenset(
    {
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AKIAI44QH8DHBEXAMPLE",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    }
)

_PLACEHOLDER = re.compile(
    r"(?i)x{4,}|\*{3,}|\.{3}|…|<[^>]*>|\{\{|\}\}|\$\{|%\(|"
    r"your|example|sample|placeholder|dummy|changeme|replace|insert|redacted|fake|"
    r"(?:abcd|1234|0000|aaaa|test)[_\-]?(?:efgh|5678|0000|aaaa|key|token)"
)
_ENV_REFERENCE = re.compile(
    r"^\$[A-Za-z_{(]|^%[A-Za-z_]+%$|process\.env|os\.environ|os\.getenv|getenv|secrets\.|env\.|"
    r"^[A-Z][A-Z0-9_]{2,}$"
)
_KEY_NAMED = re.compile(r"(?i)key|token|secret|passw|pwd|auth|bearer|credential|api")
_HASH_NAMED = re.compile(
    r"(?i)sha\d*|hash|checksum|digest|commit|revision|etag|md5|integrity|nonce|uuid|guid|fingerprint|"
    r"\bref\b|version|_id\b|\bid\b|salt|signature"
)
_GENERIC_NAME_EXCLUDED = re.compile(
    r"(?i)public|pub_?key|file|path|url|uri|name|field|header|type|length|size|prefix|env|var|"
    r"placeholder|label|count|limit|max|min|cache|csrf|format|pattern|regex|template|id$|_ids?\b|"
    r"column|option|input|param|description|hint|message|text|title|tokenizer|tokens$|_tokens|"
    r"token_?(?:s|type|count|id|len|ids|limit|usage|budget)\b"
)
_HEXLIKE = re.compile(r"^(?:[0-9a-f]+|[0-9A-F]+)$")
_UUIDLIKE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_IDENTIFIER_ONLY = re.compile(r"^[A-Za-z_.\-]+$")
_PATHLIKE = re.compile(r"(?i)^(?:\.{0,2}/|~/|[a-z]:\\)|\.(?:json|txt|pem|key|ya?ml|py|js|ts|md|png|jpe?g|csv|bin)$")
_REPO_ID = re.compile(r"^[\w.\-]+(?:/[\w.\-]+)+$")
_VERSIONLIKE = re.compile(r"^v?\d+(?:\.\d+){1,3}(?:[-+.][\w.]+)?$")


def shannon_entropy(value: str) -> float:
    """Bits per character: random keys sit near log2 of their alphabet, words and patterns far below."""
    if not value:
        return 0.0
    counts = Counter(value)
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def is_placeholder(value: str) -> bool:
    """``sk-...``, ``xxxx``, ``YOUR_KEY``, ``<your key>``, ``****`` and other stand-ins for a key."""
    return value in DOCUMENTED_EXAMPLES or value.endswith("EXAMPLE") or bool(_PLACEHOLDER.search(value))


def is_env_reference(value: str) -> bool:
    """``$VAR``, ``${VAR}``, ``process.env.X``, an ALL_CAPS name: a pointer to a secret, not the secret."""
    return bool(_ENV_REFERENCE.search(value))


def has_mixed_classes(value: str) -> bool:
    return any(c.isupper() for c in value) and any(c.islower() for c in value) and any(c.isdigit() for c in value)


def key_named(text_before: str) -> bool:
    """The text just before a candidate names a key (``api_key=``, ``Authorization: Bearer``) and not a hash."""
    tail = text_before[-80:]
    return bool(_KEY_NAMED.search(tail)) and not bool(_HASH_NAMED.search(tail))


def hash_named(text_before: str) -> bool:
    return bool(_HASH_NAMED.search(text_before[-80:]))


def generic_value_plausible(name: str, value: str) -> bool:
    """Whether a literal assigned to a secret-looking name is plausibly a real secret."""
    if _GENERIC_NAME_EXCLUDED.search(name) or hash_named(name):
        return False
    if (
        _IDENTIFIER_ONLY.match(value)
        or _UUIDLIKE.match(value)
        or _PATHLIKE.search(value)
        or (_REPO_ID.match(value) and any(c in value for c in ".-"))  # org/model-name, not base64
        or _VERSIONLIKE.match(value)
        or is_placeholder(value)
        or is_env_reference(value)
    ):
        return False
    if not any(c.isdigit() for c in value) or not any(c.isalpha() for c in value):
        return False
    entropy = shannon_entropy(value)
    if _HEXLIKE.match(value):
        return len(value) >= 32 and entropy >= 3.0
    return entropy >= (3.5 if len(value) >= 20 else 3.2)
