"""Random, well-formed credentials for tests and the benchmark.

Keys are generated at run time so no real-looking secret sits in the repository (push
protection stays quiet) and every run exercises fresh values. ``CONTEXT_NAMES`` gives, for
formats that only context ties to a provider, a variable name that supplies that context.
"""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Callable

from services.detect import filters

ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "_-"
HEX = "0123456789abcdef"
BASE32 = string.ascii_uppercase + "234567"
BASE64 = ALNUM + "/+"


def random_string(rng: random.Random, alphabet: str, length: int) -> str:
    """A string that looks random to the detectors: mixed classes, high entropy, no stand-in words."""
    while True:
        value = "".join(rng.choice(alphabet) for _ in range(length))
        needs_mix = filters.has_mixed_classes(alphabet)
        if filters.is_placeholder(value) or (needs_mix and not filters.has_mixed_classes(value)):
            continue
        if value[-1] in "_-" or value[0] in "_-":
            continue
        return value


def _u(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


_GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "openai-legacy-key": lambda r: f"sk-{random_string(r, ALNUM, 20)}T3BlbkFJ{random_string(r, ALNUM, 20)}",
    "openai-project-key": lambda r: f"sk-proj-{random_string(r, URLSAFE, 74)}T3BlbkFJ{random_string(r, URLSAFE, 74)}",
    "openai-service-account-key": lambda r: (
        f"sk-svcacct-{random_string(r, URLSAFE, 74)}T3BlbkFJ{random_string(r, URLSAFE, 74)}"
    ),
    "openai-admin-key": lambda r: f"sk-admin-{random_string(r, URLSAFE, 74)}T3BlbkFJ{random_string(r, URLSAFE, 74)}",
    "anthropic-api-key": lambda r: f"sk-ant-api03-{random_string(r, URLSAFE, 93)}AA",
    "anthropic-admin-key": lambda r: f"sk-ant-admin01-{random_string(r, URLSAFE, 93)}AA",
    "anthropic-oauth-token": lambda r: f"sk-ant-oat01-{random_string(r, URLSAFE, 93)}AA",
    "huggingface-token": lambda r: f"hf_{random_string(r, string.ascii_letters, 34)}",
    "huggingface-org-token": lambda r: f"api_org_{random_string(r, string.ascii_letters, 34)}",
    "google-api-key": lambda r: f"AIza{random_string(r, URLSAFE, 35)}",
    "replicate-api-token": lambda r: f"r8_{random_string(r, ALNUM, 37)}",
    "groq-api-key": lambda r: f"gsk_{random_string(r, ALNUM, 52)}",
    "xai-api-key": lambda r: f"xai-{random_string(r, ALNUM, 80)}",
    "perplexity-api-key": lambda r: f"pplx-{random_string(r, ALNUM, 48)}",
    "openrouter-api-key": lambda r: f"sk-or-v1-{random_string(r, HEX, 64)}",
    "nvidia-api-key": lambda r: f"nvapi-{random_string(r, URLSAFE, 64)}",
    "langsmith-api-key": lambda r: f"lsv2_pt_{random_string(r, HEX, 32)}_{random_string(r, HEX, 10)}",
    "langfuse-secret-key": lambda r: f"sk-lf-{_u(r)}",
    "elevenlabs-api-key": lambda r: f"sk_{random_string(r, HEX, 48)}",
    "elevenlabs-legacy-key": lambda r: random_string(r, HEX, 32),
    "deepseek-api-key": lambda r: f"sk-{random_string(r, HEX, 32)}",
    "mistral-api-key": lambda r: random_string(r, ALNUM, 32),
    "cohere-api-key": lambda r: random_string(r, ALNUM, 40),
    "together-api-key": lambda r: f"tgp_v1_{random_string(r, URLSAFE, 43)}",
    "together-legacy-key": lambda r: random_string(r, HEX, 64),
    "fireworks-api-key": lambda r: f"fw_{random_string(r, ALNUM, 24)}",
    "azure-openai-key": lambda r: random_string(r, HEX, 32),
    "stability-api-key": lambda r: f"sk-{random_string(r, ALNUM, 48)}",
    "pinecone-api-key": lambda r: f"pcsk_{random_string(r, ALNUM, 5)}_{random_string(r, ALNUM, 63)}",
    "pinecone-legacy-key": _u,
    "wandb-api-key": lambda r: f"wandb_v1_{random_string(r, ALNUM, 27)}_{random_string(r, ALNUM, 49)}",
    "wandb-legacy-key": lambda r: random_string(r, HEX, 40),
    "aws-access-key-id": lambda r: f"AKIA{random_string(r, BASE32, 16)}",
    "aws-secret-access-key": lambda r: random_string(r, BASE64, 40),
    "github-pat": lambda r: f"ghp_{random_string(r, ALNUM, 36)}",
    "github-oauth-token": lambda r: f"gho_{random_string(r, ALNUM, 36)}",
    "github-app-token": lambda r: f"ghs_{random_string(r, ALNUM, 36)}",
    "github-refresh-token": lambda r: f"ghr_{random_string(r, ALNUM, 36)}",
    "github-fine-grained-pat": lambda r: f"github_pat_{random_string(r, ALNUM, 22)}_{random_string(r, ALNUM, 59)}",
    "generic-secret-assignment": lambda r: random_string(r, ALNUM, 32),
}

CONTEXT_NAMES: dict[str, str] = {
    "elevenlabs-legacy-key": "ELEVENLABS_API_KEY",
    "deepseek-api-key": "DEEPSEEK_API_KEY",
    "mistral-api-key": "MISTRAL_API_KEY",
    "cohere-api-key": "COHERE_API_KEY",
    "together-legacy-key": "TOGETHER_API_KEY",
    "azure-openai-key": "AZURE_OPENAI_API_KEY",
    "stability-api-key": "STABILITY_API_KEY",
    "pinecone-legacy-key": "PINECONE_API_KEY",
    "wandb-legacy-key": "WANDB_API_KEY",
    "aws-secret-access-key": "AWS_SECRET_ACCESS_KEY",
    "generic-secret-assignment": "SERVICE_TOKEN",
}

DETECTOR_IDS: tuple[str, ...] = tuple(_GENERATORS)


def fake_key(detector: str, rng: random.Random) -> str:
    """A random key in the format ``detector`` looks for."""
    return _GENERATORS[detector](rng)


def variable_name(detector: str) -> str:
    """A variable name to assign the key to: provider context where the format needs it, neutral otherwise."""
    return CONTEXT_NAMES.get(detector, "API_KEY")
