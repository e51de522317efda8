"""Credential rules: one per provider key format, taken from gitleaks, TruffleHog and provider docs.

A rule is data. ``keywords`` feed the multi-pattern prefilter (one hyperscan database for all
rules), so adding a rule does not add a pass over the file. Formats that only context ties to
a provider (a bare 32-character key) carry ``context``: the rule fires only when the provider
is named near the candidate (variable name, client class or base URL).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.events import Severity

# Token boundaries: a key is never glued to other key characters.
_B = rb"(?<![A-Za-z0-9_\-])"
_E = rb"(?![A-Za-z0-9_\-])"


@dataclass(frozen=True)
class Rule:
    """One credential format. ``pattern`` has a ``secret`` group; the rest of the match is context."""

    id: str
    provider: str
    pattern: re.Pattern[bytes]
    keywords: tuple[bytes, ...]
    severity: Severity = Severity.HIGH
    confidence: float = 0.95
    min_entropy: float = 3.0
    prefix: str = ""
    """Literal start shown in the redacted form (``sk-proj-…Ab3x``)."""
    context: re.Pattern[bytes] | None = None
    """When set, the provider must be named within ``CONTEXT_LINES`` lines of the candidate."""
    mixed_case: bool = False
    """Require upper, lower and digit: real keys of bare formats have all three; identifiers rarely do."""


CONTEXT_LINES = 3


def _rule(
    rule_id: str,
    provider: str,
    body: bytes,
    keywords: tuple[bytes, ...],
    *,
    severity: Severity = Severity.HIGH,
    confidence: float = 0.95,
    min_entropy: float = 3.0,
    prefix: str = "",
    context: bytes | None = None,
    mixed_case: bool = False,
    boundary: tuple[bytes, bytes] = (_B, _E),
) -> Rule:
    return Rule(
        id=rule_id,
        provider=provider,
        pattern=re.compile(boundary[0] + b"(?P<secret>" + body + b")" + boundary[1]),
        keywords=keywords,
        severity=severity,
        confidence=confidence,
        min_entropy=min_entropy,
        prefix=prefix,
        context=re.compile(context, re.IGNORECASE) if context else None,
        mixed_case=mixed_case,
    )


_HEX32 = rb"[a-f0-9]{32}"
_UUID = rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

_MISTRAL = (rb"mistral", (b"mistral",))
_COHERE = (rb"\bcohere\b|cohere[_.]|co_api_key|\bCohere(?:Client|V2)?\(", (b"cohere", b"co_api_key"))
_DEEPSEEK = (rb"deepseek", (b"deepseek",))
_TOGETHER = (rb"together[_\-.]?(?:api|ai\b|xyz|key|token|client)|\bTogether\(", (b"together",))
_AZURE = (rb"azure|openai\.azure\.com|cognitiveservices", (b"azure", b"cognitiveservices"))
_STABILITY = (rb"stability|dreamstudio|stablediffusion", (b"stability", b"dreamstudio"))
_ELEVEN = (rb"elevenlabs|eleven_labs|xi[-_]api[-_]key", (b"elevenlabs", b"eleven_labs", b"xi-api-key", b"xi_api_key"))
_PINECONE = (rb"pinecone", (b"pinecone",))
_WANDB = (rb"wandb|weights\s*(?:and|&)\s*biases", (b"wandb",))
_AWS_SECRET = (
    rb"aws.{0,20}secret|secret.{0,5}access.{0,5}key",
    (b"aws_secret", b"secret_access_key", b"secretaccesskey", b"aws_secret_access_key", b"secret-access-key"),
)

RULES: tuple[Rule, ...] = (
    # OpenAI: gitleaks openai-api-key. Project, service-account and admin keys usually carry the
    # T3BlbkFJ ("OpenAI" in base64) marker; their long prefixed form is matched with or without it.
    _rule(
        "openai-legacy-key",
        "openai",
        rb"sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}",
        (b"T3BlbkFJ",),
        severity=Severity.CRITICAL,
        confidence=0.99,
        prefix="sk-",
    ),
    _rule(
        "openai-project-key",
        "openai",
        rb"sk-proj-[A-Za-z0-9_\-]{74,250}",
        (b"sk-proj-",),
        severity=Severity.CRITICAL,
        confidence=0.98,
        prefix="sk-proj-",
        min_entropy=4.0,
    ),
    _rule(
        "openai-service-account-key",
        "openai",
        rb"sk-svcacct-[A-Za-z0-9_\-]{74,250}",
        (b"sk-svcacct-",),
        severity=Severity.CRITICAL,
        confidence=0.98,
        prefix="sk-svcacct-",
        min_entropy=4.0,
    ),
    _rule(
        "openai-admin-key",
        "openai",
        rb"sk-admin-[A-Za-z0-9_\-]{74,250}",
        (b"sk-admin-",),
        severity=Severity.CRITICAL,
        confidence=0.98,
        prefix="sk-admin-",
        min_entropy=4.0,
    ),
    # Anthropic: gitleaks anthropic-api-key / anthropic-admin-api-key; OAuth tokens of Claude subscriptions.
    _rule(
        "anthropic-api-key",
        "anthropic",
        rb"sk-ant-api03-[A-Za-z0-9_\-]{93}AA",
        (b"sk-ant-api03-",),
        severity=Severity.CRITICAL,
        confidence=0.99,
        prefix="sk-ant-api03-",
    ),
    _rule(
        "anthropic-admin-key",
        "anthropic",
        rb"sk-ant-admin01-[A-Za-z0-9_\-]{93}AA",
        (b"sk-ant-admin01-",),
        severity=Severity.CRITICAL,
        confidence=0.99,
        prefix="sk-ant-admin01-",
    ),
    _rule(
        "anthropic-oauth-token",
        "anthropic",
        rb"sk-ant-o(?:a|r)t01-[A-Za-z0-9_\-]{40,200}",
        (b"sk-ant-oat01-", b"sk-ant-ort01-"),
        severity=Severity.CRITICAL,
        confidence=0.95,
        prefix="sk-ant-oat01-",
        min_entropy=3.5,
    ),
    # Hugging Face: gitleaks huggingface-access-token / -organization-api-token.
    _rule(
        "huggingface-token",
        "huggingface",
        rb"hf_[A-Za-z0-9]{34}",
        (b"hf_",),
        prefix="hf_",
        min_entropy=3.5,
    ),
    _rule(
        "huggingface-org-token",
        "huggingface",
        rb"api_org_[A-Za-z0-9]{34}",
        (b"api_org_",),
        prefix="api_org_",
        min_entropy=3.5,
    ),
    # Google API keys (Gemini, AI Studio): gitleaks gcp-api-key.
    _rule(
        "google-api-key",
        "google",
        rb"AIza[0-9A-Za-z_\-]{35}",
        (b"AIza",),
        prefix="AIza",
        confidence=0.9,
        min_entropy=3.5,
    ),
    # TruffleHog detectors.
    _rule("replicate-api-token", "replicate", rb"r8_[0-9A-Za-z_\-]{37}", (b"r8_",), prefix="r8_", min_entropy=3.5),
    _rule("groq-api-key", "groq", rb"gsk_[A-Za-z0-9]{52}", (b"gsk_",), prefix="gsk_", min_entropy=3.5),
    _rule("xai-api-key", "xai", rb"xai-[0-9A-Za-z_]{80}", (b"xai-",), prefix="xai-", min_entropy=3.5),
    _rule("perplexity-api-key", "perplexity", rb"pplx-[A-Za-z0-9]{48}", (b"pplx-",), prefix="pplx-", min_entropy=3.5),
    _rule("openrouter-api-key", "openrouter", rb"sk-or-v1-[0-9a-f]{64}", (b"sk-or-v1-",), prefix="sk-or-v1-"),
    _rule("nvidia-api-key", "nvidia", rb"nvapi-[A-Za-z0-9_\-]{64}", (b"nvapi-",), prefix="nvapi-", min_entropy=3.5),
    _rule(
        "langsmith-api-key",
        "langsmith",
        rb"lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}",
        (b"lsv2_pt_", b"lsv2_sk_"),
        prefix="lsv2_",
    ),
    _rule("langfuse-secret-key", "langfuse", rb"sk-lf-" + _UUID, (b"sk-lf-",), prefix="sk-lf-"),
    _rule("elevenlabs-api-key", "elevenlabs", rb"sk_[a-f0-9]{48}", (b"sk_",), prefix="sk_", confidence=0.85),
    _rule("elevenlabs-legacy-key", "elevenlabs", _HEX32, _ELEVEN[1], context=_ELEVEN[0], confidence=0.8),
    _rule(
        "deepseek-api-key",
        "deepseek",
        rb"sk-[a-f0-9]{32}",
        _DEEPSEEK[1],
        context=_DEEPSEEK[0],
        prefix="sk-",
        confidence=0.85,
    ),
    _rule(
        "mistral-api-key",
        "mistral",
        rb"[A-Za-z0-9]{32}",
        _MISTRAL[1],
        context=_MISTRAL[0],
        confidence=0.8,
        mixed_case=True,
        min_entropy=3.5,
    ),
    _rule(
        "cohere-api-key",
        "cohere",
        rb"[A-Za-z0-9]{40}",
        _COHERE[1],
        context=_COHERE[0],
        confidence=0.8,
        mixed_case=True,
        min_entropy=3.5,
    ),
    _rule(
        "together-api-key", "together", rb"tgp_v1_[A-Za-z0-9_\-]{43}", (b"tgp_v1_",), prefix="tgp_v1_", min_entropy=3.5
    ),
    _rule("together-legacy-key", "together", rb"[a-f0-9]{64}", _TOGETHER[1], context=_TOGETHER[0], confidence=0.8),
    _rule(
        "fireworks-api-key",
        "fireworks",
        rb"fw_[A-Za-z0-9]{20,48}",
        (b"fw_",),
        prefix="fw_",
        confidence=0.85,
        mixed_case=True,
        min_entropy=3.5,
    ),
    _rule(
        "azure-openai-key",
        "azure_openai",
        rb"[a-f0-9]{32}|[A-Za-z0-9]{84}",
        _AZURE[1],
        context=_AZURE[0],
        confidence=0.8,
    ),
    _rule(
        "stability-api-key",
        "stability",
        rb"sk-[A-Za-z0-9]{48}",
        _STABILITY[1],
        context=_STABILITY[0],
        prefix="sk-",
        confidence=0.85,
        min_entropy=3.5,
    ),
    _rule(
        "pinecone-api-key",
        "pinecone",
        rb"pcsk_[A-Za-z0-9]{4,10}_[A-Za-z0-9]{40,80}",
        (b"pcsk_",),
        prefix="pcsk_",
        min_entropy=3.5,
    ),
    _rule("pinecone-legacy-key", "pinecone", _UUID, _PINECONE[1], context=_PINECONE[0], confidence=0.75),
    _rule(
        "wandb-api-key",
        "wandb",
        rb"wandb_v1_[A-Za-z0-9]{27}_[A-Za-z0-9]{49}",
        (b"wandb_v1_",),
        prefix="wandb_v1_",
        min_entropy=3.5,
    ),
    _rule("wandb-legacy-key", "wandb", rb"[a-f0-9]{40}", _WANDB[1], context=_WANDB[0], confidence=0.8),
    # AWS: gitleaks aws-access-token; the secret key only with its name nearby.
    _rule(
        "aws-access-key-id",
        "aws",
        rb"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}",
        (b"AKIA", b"ASIA", b"ABIA", b"ACCA", b"A3T"),
        prefix="AKIA",
        confidence=0.9,
    ),
    _rule(
        "aws-secret-access-key",
        "aws",
        rb"[A-Za-z0-9/+]{40}",
        _AWS_SECRET[1],
        context=_AWS_SECRET[0],
        severity=Severity.CRITICAL,
        confidence=0.85,
        mixed_case=True,
        min_entropy=4.0,
        boundary=(rb"(?<![A-Za-z0-9/+])", rb"(?![A-Za-z0-9/+=])"),
    ),
    # GitHub: gitleaks github-pat / -oauth / -app-token / -refresh-token / -fine-grained-pat.
    _rule("github-pat", "github", rb"ghp_[0-9A-Za-z]{36}", (b"ghp_",), prefix="ghp_"),
    _rule("github-oauth-token", "github", rb"gho_[0-9A-Za-z]{36}", (b"gho_",), prefix="gho_"),
    _rule("github-app-token", "github", rb"gh[us]_[0-9A-Za-z]{36}", (b"ghu_", b"ghs_"), prefix="ghs_"),
    _rule("github-refresh-token", "github", rb"ghr_[0-9A-Za-z]{36}", (b"ghr_",), prefix="ghr_"),
    _rule(
        "github-fine-grained-pat", "github", rb"github_pat_[A-Za-z0-9_]{82}", (b"github_pat_",), prefix="github_pat_"
    ),
)

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}

# The generic detector: a high-entropy literal assigned to something named like a secret.
GENERIC_ID = "generic-secret-assignment"
GENERIC_BEARER_ID = "generic-bearer-token"
_SECRET_NAME = (
    rb"(?:api[_.\-]?key|apikey|secret|token|passw(?:or)?d|passwd|pwd|credential|auth[_.\-]?key"
    rb"|access[_.\-]?key|private[_.\-]?key|client[_.\-]?secret|x-api-key|api-key)"
)
GENERIC_ASSIGNMENT = re.compile(
    rb"(?P<name>[A-Za-z0-9_.\-]{0,40}?" + _SECRET_NAME + rb"[A-Za-z0-9_.\-]{0,20})"
    rb"(?:\\?[\"'\]]){0,2}[ \t]{0,3}(?::=|=>|=|:)[ \t]{0,3}(?:[rbuf]?\\?[\"'`])"
    rb"(?P<secret>[A-Za-z0-9_\-+/=.~]{16,200})(?:\\?[\"'`])",
    re.IGNORECASE,
)
GENERIC_LINE_ASSIGNMENT = re.compile(
    rb"(?m)^[ \t]*(?:export[ \t]+|env[ \t]+|arg[ \t]+|set[ \t]+|-[ \t]+)?(?P<name>[A-Za-z0-9_.\-]{0,40}?"
    + _SECRET_NAME
    + rb"[A-Za-z0-9_.\-]{0,20})[ \t]*(?:=|:)[ \t]*(?P<secret>[A-Za-z0-9_\-+/=.~]{16,200})[ \t]*(?:#.*)?\r?$",
    re.IGNORECASE,
)
GENERIC_BEARER = re.compile(rb"(?i)\bBearer[ \t]+(?P<secret>[A-Za-z0-9_\-.=+/~]{20,300})(?![A-Za-z0-9_\-.=+/~])")
# Prefilter expression for the generic detector: a secret-ish name followed by an assignment operator.
GENERIC_PREFILTER = rb"(?:" + _SECRET_NAME + rb")[A-Za-z0-9_.\-]{0,20}(?:\\?[\"'\]]){0,2}[ \t]{0,3}(?:=|:)|bearer[ \t]"
