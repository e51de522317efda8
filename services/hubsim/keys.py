"""Fake provider credentials in the providers' real formats.

The simulator plants these in synthetic Spaces, and detection-engine tests can use them to build
corpora: every value has the shape, prefix, checksum marker and alphabet of a real key of that kind
(as the gitleaks and TruffleHog rules describe them) but random content, so it is never a live key.
Formats whose shape is not distinctive (mistral, cohere, wandb, ...) are only recognisable from
the context around them; `CredentialFormat.context` names the word a detector needs near the value.
"""

from __future__ import annotations

import random
import string
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass

ALNUM = string.ascii_letters + string.digits
LETTERS = string.ascii_letters
HEX = "0123456789abcdef"
URLSAFE = ALNUM + "-_"
BASE32_UPPER = string.ascii_uppercase + "234567"
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def _draw(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choices(alphabet, k=length))


def _openai_sectioned(prefix: str) -> Callable[[random.Random], str]:
    """Project, service-account and admin keys: two 74- (or 58-) char halves around `T3BlbkFJ`."""

    def make(rng: random.Random) -> str:
        half = 74 if rng.random() < 0.8 else 58
        return f"{prefix}{_draw(rng, URLSAFE, half)}T3BlbkFJ{_draw(rng, URLSAFE, half)}"

    return make


def _anthropic(kind: str) -> Callable[[random.Random], str]:
    return lambda rng: f"sk-ant-{kind}-{_draw(rng, URLSAFE, 93)}AA"


def _github_classic(rng: random.Random) -> str:
    """`ghp_` + 30 random chars + the base62 CRC32 of those chars, as GitHub mints them."""
    body = _draw(rng, ALNUM, 30)
    checksum = zlib.crc32(body.encode())
    digits = []
    for _ in range(6):
        checksum, digit = divmod(checksum, 62)
        digits.append(BASE62[digit])
    return "ghp_" + body + "".join(reversed(digits))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass(frozen=True, slots=True)
class CredentialFormat:
    """One key format of one provider (canonical provider id + variant name)."""

    provider: str
    variant: str
    env_var: str
    make: Callable[[random.Random], str]
    context: str | None = None
    companion_env_var: str | None = None
    make_companion: Callable[[random.Random], str] | None = None


@dataclass(frozen=True, slots=True)
class FakeCredential:
    """A generated key; `companion` is the second half of two-part credentials (AWS, Langfuse)."""

    provider: str
    variant: str
    value: str
    env_var: str
    context: str | None = None
    companion: str | None = None
    companion_env_var: str | None = None


FORMATS: tuple[CredentialFormat, ...] = (
    CredentialFormat(
        "openai", "legacy", "OPENAI_API_KEY",
        lambda rng: f"sk-{_draw(rng, ALNUM, 20)}T3BlbkFJ{_draw(rng, ALNUM, 20)}",
    ),
    CredentialFormat("openai", "project", "OPENAI_API_KEY", _openai_sectioned("sk-proj-")),
    CredentialFormat("openai", "service_account", "OPENAI_API_KEY", _openai_sectioned("sk-svcacct-")),
    CredentialFormat("openai", "admin", "OPENAI_ADMIN_KEY", _openai_sectioned("sk-admin-")),
    CredentialFormat("anthropic", "api", "ANTHROPIC_API_KEY", _anthropic("api03")),
    CredentialFormat("anthropic", "admin", "ANTHROPIC_ADMIN_KEY", _anthropic("admin01")),
    CredentialFormat("anthropic", "oauth_access", "CLAUDE_CODE_OAUTH_TOKEN", _anthropic("oat01")),
    CredentialFormat("anthropic", "oauth_refresh", "CLAUDE_REFRESH_TOKEN", _anthropic("ort01")),
    CredentialFormat("huggingface", "user", "HF_TOKEN", lambda rng: "hf_" + _draw(rng, LETTERS, 34)),
    CredentialFormat("huggingface", "org", "HF_ORG_TOKEN", lambda rng: "api_org_" + _draw(rng, LETTERS, 34)),
    CredentialFormat("google", "api", "GOOGLE_API_KEY", lambda rng: "AIzaSy" + _draw(rng, URLSAFE, 33)),
    CredentialFormat("replicate", "api", "REPLICATE_API_TOKEN", lambda rng: "r8_" + _draw(rng, ALNUM, 37)),
    CredentialFormat(
        "groq", "api", "GROQ_API_KEY",
        lambda rng: f"gsk_{_draw(rng, ALNUM, 20)}WGdyb3FY{_draw(rng, ALNUM, 24)}",
    ),
    CredentialFormat("xai", "api", "XAI_API_KEY", lambda rng: "xai-" + _draw(rng, ALNUM, 80)),
    CredentialFormat("perplexity", "api", "PERPLEXITY_API_KEY", lambda rng: "pplx-" + _draw(rng, ALNUM, 48)),
    CredentialFormat("openrouter", "api", "OPENROUTER_API_KEY", lambda rng: "sk-or-v1-" + _draw(rng, HEX, 64)),
    CredentialFormat("nvidia", "api", "NVIDIA_API_KEY", lambda rng: "nvapi-" + _draw(rng, URLSAFE, 64)),
    CredentialFormat(
        "langsmith", "personal", "LANGSMITH_API_KEY",
        lambda rng: f"lsv2_pt_{_draw(rng, HEX, 32)}_{_draw(rng, HEX, 10)}",
    ),
    CredentialFormat(
        "langsmith", "service", "LANGSMITH_API_KEY",
        lambda rng: f"lsv2_sk_{_draw(rng, HEX, 32)}_{_draw(rng, HEX, 10)}",
    ),
    CredentialFormat(
        "langfuse", "secret", "LANGFUSE_SECRET_KEY",
        lambda rng: "sk-lf-" + _uuid(rng),
        companion_env_var="LANGFUSE_PUBLIC_KEY",
        make_companion=lambda rng: "pk-lf-" + _uuid(rng),
    ),
    CredentialFormat("elevenlabs", "api", "ELEVENLABS_API_KEY", lambda rng: "sk_" + _draw(rng, HEX, 48)),
    CredentialFormat(
        "deepseek", "api", "DEEPSEEK_API_KEY", lambda rng: "sk-" + _draw(rng, HEX, 32), context="deepseek"
    ),
    CredentialFormat(
        "mistral", "api", "MISTRAL_API_KEY", lambda rng: _draw(rng, ALNUM, 32), context="MISTRAL"
    ),
    CredentialFormat("cohere", "api", "COHERE_API_KEY", lambda rng: _draw(rng, ALNUM, 40), context="COHERE"),
    CredentialFormat(
        "together", "legacy", "TOGETHER_API_KEY", lambda rng: _draw(rng, HEX, 64), context="TOGETHER"
    ),
    CredentialFormat("together", "v1", "TOGETHER_API_KEY", lambda rng: "tgp_v1_" + _draw(rng, URLSAFE, 43)),
    CredentialFormat("fireworks", "api", "FIREWORKS_API_KEY", lambda rng: "fw_" + _draw(rng, ALNUM, 24)),
    CredentialFormat(
        "azure_openai", "api", "AZURE_OPENAI_API_KEY", lambda rng: _draw(rng, HEX, 32), context="AZURE_OPENAI"
    ),
    CredentialFormat(
        "stability", "api", "STABILITY_API_KEY", lambda rng: "sk-" + _draw(rng, ALNUM, 48), context="stability"
    ),
    CredentialFormat(
        "pinecone", "api", "PINECONE_API_KEY",
        lambda rng: f"pcsk_{_draw(rng, ALNUM, 6)}_{_draw(rng, ALNUM, 63)}",
    ),
    CredentialFormat("wandb", "api", "WANDB_API_KEY", lambda rng: _draw(rng, HEX, 40), context="WANDB"),
    CredentialFormat(
        "aws", "access_key", "AWS_ACCESS_KEY_ID",
        lambda rng: "AKIA" + _draw(rng, BASE32_UPPER, 16),
        companion_env_var="AWS_SECRET_ACCESS_KEY",
        make_companion=lambda rng: _draw(rng, ALNUM + "/+", 40),
    ),
    CredentialFormat("github", "classic", "GITHUB_TOKEN", _github_classic),
    CredentialFormat(
        "github", "fine_grained", "GITHUB_TOKEN",
        lambda rng: f"github_pat_11{_draw(rng, string.ascii_uppercase + string.digits, 20)}_{_draw(rng, ALNUM, 59)}",
    ),
)

PROVIDERS: tuple[str, ...] = tuple(dict.fromkeys(fmt.provider for fmt in FORMATS))
_BY_PROVIDER: dict[str, tuple[CredentialFormat, ...]] = {
    provider: tuple(fmt for fmt in FORMATS if fmt.provider == provider) for provider in PROVIDERS
}


def formats_of(provider: str) -> tuple[CredentialFormat, ...]:
    """All key formats of one provider; raises KeyError for an unknown provider id."""
    return _BY_PROVIDER[provider]


def fake_credential(provider: str, rng: random.Random, variant: str | None = None) -> FakeCredential:
    """A random key of `provider` (a random variant of it unless `variant` is given)."""
    candidates = formats_of(provider)
    if variant is not None:
        candidates = tuple(fmt for fmt in candidates if fmt.variant == variant)
        if not candidates:
            raise KeyError(f"{provider} has no variant {variant!r}")
    fmt = rng.choice(candidates)
    return FakeCredential(
        provider=fmt.provider,
        variant=fmt.variant,
        value=fmt.make(rng),
        env_var=fmt.env_var,
        context=fmt.context,
        companion=fmt.make_companion(rng) if fmt.make_companion else None,
        companion_env_var=fmt.companion_env_var,
    )
