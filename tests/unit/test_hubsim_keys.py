"""Fake credentials must match the public detection rules for their provider and stay random."""

from __future__ import annotations

import math
import random
import re
from collections import Counter

import pytest

from services.hubsim.keys import FORMATS, PROVIDERS, fake_credential

# Shapes as published by gitleaks / TruffleHog (or the provider) for each format.
RULES = {
    ("openai", "legacy"): r"sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}",
    ("openai", "project"): r"sk-proj-(?:[\w-]{74}|[\w-]{58})T3BlbkFJ(?:[\w-]{74}|[\w-]{58})",
    ("openai", "service_account"): r"sk-svcacct-(?:[\w-]{74}|[\w-]{58})T3BlbkFJ(?:[\w-]{74}|[\w-]{58})",
    ("openai", "admin"): r"sk-admin-(?:[\w-]{74}|[\w-]{58})T3BlbkFJ(?:[\w-]{74}|[\w-]{58})",
    ("anthropic", "api"): r"sk-ant-api03-[\w-]{93}AA",
    ("anthropic", "admin"): r"sk-ant-admin01-[\w-]{93}AA",
    ("anthropic", "oauth_access"): r"sk-ant-oat01-[\w-]{93}AA",
    ("anthropic", "oauth_refresh"): r"sk-ant-ort01-[\w-]{93}AA",
    ("huggingface", "user"): r"hf_[A-Za-z]{34}",
    ("huggingface", "org"): r"api_org_[A-Za-z]{34}",
    ("google", "api"): r"AIza[\w-]{35}",
    ("replicate", "api"): r"r8_[A-Za-z0-9]{37}",
    ("groq", "api"): r"gsk_[A-Za-z0-9]{20}WGdyb3FY[A-Za-z0-9]{24}",
    ("xai", "api"): r"xai-[A-Za-z0-9]{80}",
    ("perplexity", "api"): r"pplx-[A-Za-z0-9]{48}",
    ("openrouter", "api"): r"sk-or-v1-[0-9a-f]{64}",
    ("nvidia", "api"): r"nvapi-[\w-]{64}",
    ("langsmith", "personal"): r"lsv2_pt_[0-9a-f]{32}_[0-9a-f]{10}",
    ("langsmith", "service"): r"lsv2_sk_[0-9a-f]{32}_[0-9a-f]{10}",
    ("langfuse", "secret"): r"sk-lf-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
    ("elevenlabs", "api"): r"sk_[0-9a-f]{48}",
    ("deepseek", "api"): r"sk-[0-9a-f]{32}",
    ("mistral", "api"): r"[A-Za-z0-9]{32}",
    ("cohere", "api"): r"[A-Za-z0-9]{40}",
    ("together", "legacy"): r"[0-9a-f]{64}",
    ("together", "v1"): r"tgp_v1_[\w-]{43}",
    ("fireworks", "api"): r"fw_[A-Za-z0-9]{24}",
    ("azure_openai", "api"): r"[0-9a-f]{32}",
    ("stability", "api"): r"sk-[A-Za-z0-9]{48}",
    ("pinecone", "api"): r"pcsk_[A-Za-z0-9]{6}_[A-Za-z0-9]{63}",
    ("wandb", "api"): r"[0-9a-f]{40}",
    ("aws", "access_key"): r"AKIA[A-Z2-7]{16}",
    ("github", "classic"): r"ghp_[A-Za-z0-9]{36}",
    ("github", "fine_grained"): r"github_pat_11[A-Z0-9]{20}_[A-Za-z0-9]{59}",
}


def shannon_entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def test_every_format_has_a_rule() -> None:
    assert {(fmt.provider, fmt.variant) for fmt in FORMATS} == set(RULES)


@pytest.mark.parametrize(("provider", "variant"), sorted(RULES))
def test_keys_match_the_providers_rule(provider: str, variant: str) -> None:
    rng = random.Random(f"{provider}/{variant}")
    values = {fake_credential(provider, rng, variant).value for _ in range(20)}
    assert len(values) == 20
    for value in values:
        assert re.fullmatch(RULES[(provider, variant)], value), value
        assert shannon_entropy(value) > 3.0


def test_two_part_credentials_have_their_other_half() -> None:
    aws = fake_credential("aws", random.Random(1))
    assert aws.companion is not None and re.fullmatch(r"[A-Za-z0-9/+]{40}", aws.companion)
    langfuse = fake_credential("langfuse", random.Random(1))
    assert langfuse.companion is not None and langfuse.companion.startswith("pk-lf-")


def test_context_dependent_formats_name_their_context() -> None:
    for provider in ("mistral", "cohere", "wandb", "azure_openai", "deepseek"):
        credential = fake_credential(provider, random.Random(0))
        assert credential.context and credential.context.lower() in credential.env_var.lower()


def test_same_rng_seed_gives_the_same_key() -> None:
    for provider in PROVIDERS:
        assert fake_credential(provider, random.Random(9)) == fake_credential(provider, random.Random(9))
