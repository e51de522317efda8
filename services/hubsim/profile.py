"""Everything about one synthetic Space that does not change between revisions.

A profile is a pure function of (seed, index, the few fields the world draws eagerly), so it can be
rebuilt on demand instead of being kept in memory for every Space.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from enum import IntEnum

from services.hubsim import catalog, vocab
from services.hubsim.keys import FakeCredential, fake_credential


class Plant(IntEnum):
    """What the world planted in a Space (drawn eagerly, so ground truth needs no rendering to find it)."""

    NONE = 0
    CREDENTIAL = 1
    PROXY = 2
    ENDPOINT = 3
    DECOY = 4
    SORA = 5


@dataclass(frozen=True, slots=True)
class CredentialPlan:
    credential: FakeCredential
    location: str  # app | env_file | config_yaml | notebook | dockerfile | secrets_toml | readme | script_js


@dataclass(frozen=True, slots=True)
class ProxyPlan:
    provider: str
    client: str  # openai | anthropic | google | cohere | azure | rest
    model: str
    restricted: bool
    endpoint: str  # the base URL or request URL the app sends to
    key_source: str  # hardcoded | env_file | env
    key_env_var: str


@dataclass(frozen=True, slots=True)
class EndpointPlan:
    server: str
    base_url: str
    exposure: str  # raw_ip | ngrok | cloudflare_tunnel | gradio_share
    model: str
    openai_compatible: bool
    path: str


@dataclass(frozen=True, slots=True)
class DecoyPlan:
    kind: str
    value: str
    provider: str | None
    in_readme: bool


@dataclass(frozen=True, slots=True)
class SpaceProfile:
    index: int
    space_id: str
    author: str
    archetype: str
    sdk: str
    plant: Plant
    created_at: int
    title: str
    emoji: str
    color_from: str
    color_to: str
    sdk_version: str | None
    license: str | None
    pinned: bool
    short_description: str
    hardware: str
    stage: str
    disabled: bool
    models: tuple[str, ...]
    tags: tuple[str, ...]
    extras: frozenset[str]
    content_seed: int
    credential: CredentialPlan | None = None
    proxy: ProxyPlan | None = None
    endpoint: EndpointPlan | None = None
    decoys: tuple[DecoyPlan, ...] = ()


GRADIO_VERSIONS = ("4.44.1", "5.9.1", "5.23.3", "5.35.0", "5.49.1")
STREAMLIT_VERSIONS = ("1.39.0", "1.41.1", "1.44.1")
HARDWARE = (("cpu-basic", 86), ("cpu-upgrade", 3), ("t4-small", 5), ("t4-medium", 2), ("a10g-small", 3),
            ("a10g-large", 1))
STAGES = (("RUNNING", 55), ("SLEEPING", 20), ("RUNTIME_ERROR", 8), ("BUILD_ERROR", 5), ("PAUSED", 5),
          ("STOPPED", 3), ("BUILDING", 1), ("APP_STARTING", 1), ("CONFIG_ERROR", 1), ("NO_APP_FILE", 1))
CREDENTIAL_ONLY_PROVIDERS = (
    ("openai", 24), ("huggingface", 18), ("anthropic", 8), ("google", 8), ("aws", 6), ("github", 5), ("groq", 4),
    ("replicate", 3), ("pinecone", 3), ("langsmith", 3), ("wandb", 3), ("elevenlabs", 2), ("mistral", 2),
    ("cohere", 2), ("together", 2), ("openrouter", 2), ("xai", 1), ("perplexity", 1), ("nvidia", 1),
    ("langfuse", 1), ("deepseek", 1), ("fireworks", 1), ("azure_openai", 1), ("stability", 1),
)
CREDENTIAL_LOCATIONS = {
    "gradio": (("app", 45), ("env_file", 20), ("config_yaml", 10), ("notebook", 8), ("readme", 7)),
    "streamlit": (("app", 40), ("secrets_toml", 20), ("env_file", 15), ("config_yaml", 8), ("notebook", 7),
                  ("readme", 5)),
    "docker": (("app", 35), ("dockerfile", 30), ("env_file", 25), ("readme", 10)),
    "static": (("script_js", 80), ("readme", 20)),
}
CODE_DECOYS = ("env_lookup", "model_revision", "uuid", "localhost_server", "redacted_key", "sha256")
README_DECOYS = ("placeholder_key", "your_api_key", "aws_example", "hf_placeholder", "github_placeholder")
RELAY_HOSTS = ("{word}-relay.{sub}.workers.dev", "{sub}.up.railway.app", "{word}-{sub}.vercel.app")
WORDS = ("calm", "river", "maple", "sun", "blue", "fox", "quiet", "stone", "amber", "delta", "echo", "nova",
         "pine", "orbit", "lunar", "coral")


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in pairs], weights=[weight for _, weight in pairs])[0]


def _hex(rng: random.Random, length: int) -> str:
    return "".join(rng.choices("0123456789abcdef", k=length))


def _credential_plan(rng: random.Random, sdk: str) -> CredentialPlan:
    provider = _weighted(rng, CREDENTIAL_ONLY_PROVIDERS)
    return CredentialPlan(fake_credential(provider, rng), _weighted(rng, CREDENTIAL_LOCATIONS[sdk]))


def _chat_provider(rng: random.Random, clients: tuple[str, ...]) -> catalog.ChatProvider:
    pool = [(p, w) for p, w in zip(catalog.CHAT_PROVIDERS, catalog.CHAT_PROVIDER_WEIGHTS, strict=True)
            if p.client in clients]
    return rng.choices([p for p, _ in pool], weights=[w for _, w in pool])[0]


def _pick_model(rng: random.Random, normal: tuple[str, ...], restricted: tuple[str, ...]) -> str:
    if restricted and (not normal or rng.random() < 0.25):
        return rng.choice(restricted)
    return rng.choice(normal)


def _proxy_plans(rng: random.Random, archetype: str, space_index: int) -> tuple[ProxyPlan, CredentialPlan | None]:
    """The relay and, when its key is committed to the repo, the credential it leaks."""
    if archetype == "media-relay":
        media = rng.choice(catalog.MEDIA_PROVIDERS)
        provider, client = media.provider, "rest"
        model = _pick_model(rng, media.models, media.restricted)
        endpoint = media.url
    else:
        clients = {
            "sdk-chat": ("openai", "anthropic", "google", "cohere", "azure"),
            "requests-relay": ("openai", "anthropic"),
            "node-relay": ("openai", "anthropic"),
        }.get(archetype, ("openai",))
        chat = _chat_provider(rng, clients)
        provider, client = chat.provider, chat.client
        model = _pick_model(rng, chat.models, chat.restricted)
        endpoint = chat.rest_url if archetype in ("requests-relay", "js-chat") else (chat.base_url or "")
        if chat.client == "azure":
            endpoint = endpoint.format(resource=f"{rng.choice(WORDS)}-openai-{space_index % 997}")
        elif provider == "openai" and archetype in ("sdk-chat", "fastapi-relay") and rng.random() < 0.2:
            host = rng.choice(RELAY_HOSTS).format(word=rng.choice(WORDS), sub=_hex(rng, 8))
            endpoint = f"https://{host}/v1"
        elif not endpoint:
            endpoint = "https://api.anthropic.com" if provider == "anthropic" else "https://api.openai.com/v1"
    endpoint = endpoint.replace("{model}", model).replace("{voice}", "21m00Tcm4TlvDq8ikWAM")
    if archetype == "js-chat":
        key_source = "hardcoded"
    else:
        key_source = rng.choices(("hardcoded", "env_file", "env"), weights=(40, 15, 45))[0]
    credential = fake_credential(provider, rng)
    plan = ProxyPlan(
        provider=provider,
        client=client,
        model=model,
        restricted=model in catalog.RESTRICTED_MODELS,
        endpoint=endpoint,
        key_source=key_source,
        key_env_var=credential.env_var,
    )
    if key_source == "env":
        return plan, None
    location = "app" if key_source == "hardcoded" else "env_file"
    return plan, CredentialPlan(credential, "script_js" if archetype == "js-chat" else location)


def _endpoint_plan(rng: random.Random, archetype: str) -> EndpointPlan:
    kinds = {"selfhosted-api": ("comfyui", "tgi", "vllm")}.get(archetype, ("ollama", "vllm", "lmstudio", "tgi"))
    kind = rng.choice(kinds)
    server = next(s for s in catalog.MODEL_SERVERS if s.kind == kind)
    exposure = rng.choices(("raw_ip", "ngrok", "cloudflare_tunnel", "gradio_share"), weights=(55, 20, 15, 10))[0]
    if exposure == "gradio_share" and archetype != "selfhosted-chat":
        exposure = "raw_ip"
    if exposure == "raw_ip":
        base_url = f"http://{rng.choice(catalog.TEST_NET_PREFIXES)}.{rng.randint(1, 254)}:{server.port}"
    elif exposure == "ngrok":
        base_url = f"https://{rng.choice(WORDS)}-{rng.choice(WORDS)}-{_hex(rng, 4)}.ngrok-free.app"
    elif exposure == "cloudflare_tunnel":
        base_url = f"https://{'-'.join(rng.sample(WORDS, 4))}.trycloudflare.com"
    else:
        base_url = f"https://{_hex(rng, 18)}.gradio.live"
    return EndpointPlan(
        server="gradio" if exposure == "gradio_share" else server.kind,
        base_url=base_url,
        exposure=exposure,
        model=rng.choice(server.models),
        openai_compatible=server.openai_compatible,
        path=server.path,
    )


def _decoy(rng: random.Random, kind: str) -> DecoyPlan:
    values: dict[str, tuple[str, str | None]] = {
        "env_lookup": ('os.getenv("OPENAI_API_KEY", "")', "openai"),
        "model_revision": (_hex(rng, 40), None),
        "uuid": (str(uuid.UUID(int=rng.getrandbits(128), version=4)), None),
        "localhost_server": (f"http://localhost:{rng.choice((11434, 8000, 1234, 7860))}", "ollama"),
        "redacted_key": ("sk-proj-" + "*" * rng.randint(12, 40), "openai"),
        "sha256": (_hex(rng, 64), None),
        "placeholder_key": (rng.choice(("sk-...", "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                                        "sk-your-key-here")), "openai"),
        "your_api_key": (rng.choice(("YOUR_API_KEY", "<your-api-key>", "your-api-key-here")), None),
        "aws_example": ("AKIAIOSFODNN7EXAMPLE", "aws"),
        "hf_placeholder": ("hf_" + "x" * 34, "huggingface"),
        "github_placeholder": ("ghp_" + "x" * 36, "github"),
    }
    value, provider = values[kind]
    return DecoyPlan(kind, value, provider, in_readme=kind in README_DECOYS)


def _decoys(rng: random.Random, plant: Plant, sdk: str) -> tuple[DecoyPlan, ...]:
    if plant == Plant.DECOY:
        count = rng.choice((1, 1, 2))
    elif plant in (Plant.NONE, Plant.SORA) or rng.random() > 0.2:
        return ()
    else:
        count = 1
    # Code decoys stay out of relay apps, whose own key lookups could coincide with them.
    code_ok = sdk in ("gradio", "streamlit") and plant in (Plant.DECOY, Plant.CREDENTIAL)
    kinds = README_DECOYS + CODE_DECOYS if code_ok else README_DECOYS
    return tuple(_decoy(rng, kind) for kind in rng.sample(kinds, count))


def build_profile(
    seed: int, index: int, space_id: str, archetype_key: str, plant: Plant, created_at: int
) -> SpaceProfile:
    """Draw the per-Space details from an RNG keyed by (seed, index) alone."""
    rng = random.Random(f"hubsim/{seed}/{index}")
    arch = catalog.ARCHETYPE_BY_KEY[archetype_key]
    sdk = arch.sdk
    sdk_version = {"gradio": rng.choice(GRADIO_VERSIONS), "streamlit": rng.choice(STREAMLIT_VERSIONS)}.get(sdk)
    hardware = "zero-a10g" if "zerogpu" in arch.tags else _weighted(rng, HARDWARE)
    stage = _weighted(rng, STAGES)
    if stage == "PAUSED":
        hardware = "cpu-basic"
    extras = {
        name for name, rate in (("config_yaml", 0.1), ("notebook", 0.05), ("utils", 0.2), ("dotenv", 0.03))
        if rng.random() < rate and sdk in ("gradio", "streamlit")
    }
    if archetype_key in ("image-classifier", "text-to-image") and rng.random() < 0.4:
        extras.add("lfs_examples")
    credential = proxy = endpoint = None
    if plant == Plant.CREDENTIAL:
        credential = _credential_plan(rng, sdk)
    elif plant == Plant.PROXY:
        proxy, credential = _proxy_plans(rng, archetype_key, index)
    elif plant == Plant.ENDPOINT:
        endpoint = _endpoint_plan(rng, archetype_key)
    models = arch.models[: rng.randint(1, len(arch.models))] if arch.models else ()
    author = space_id.split("/", 1)[0]
    return SpaceProfile(
        index=index,
        space_id=space_id,
        author=author,
        archetype=archetype_key,
        sdk=sdk,
        plant=plant,
        created_at=created_at,
        title=rng.choice(arch.titles),
        emoji=rng.choice(vocab.EMOJIS),
        color_from=rng.choice(vocab.COLORS),
        color_to=rng.choice(vocab.COLORS),
        sdk_version=sdk_version,
        license=rng.choice(vocab.LICENSES) if rng.random() < 0.6 else None,
        pinned=rng.random() < 0.05,
        short_description=rng.choice(arch.titles) + " " + rng.choice(("demo", "app", "playground", "space")),
        hardware=hardware,
        stage=stage,
        disabled=plant == Plant.NONE and rng.random() < 0.003,
        models=models,
        tags=(sdk, *arch.tags, "region:us"),
        extras=frozenset(extras),
        content_seed=rng.getrandbits(63),
        credential=credential,
        proxy=proxy,
        endpoint=endpoint,
        decoys=_decoys(rng, plant, sdk),
    )


def sora_profile(seed: int, index: int, created_at: int) -> SpaceProfile:
    """The landmark relay of 26 Nov 2024; its token is still random per seed."""
    rng = random.Random(f"hubsim/{seed}/{index}/sora")
    token = fake_credential("openai", rng, variant="project")
    return SpaceProfile(
        index=index,
        space_id=SORA_SPACE_ID,
        author=SORA_SPACE_ID.split("/")[0],
        archetype="sora-relay",
        sdk="gradio",
        plant=Plant.SORA,
        created_at=created_at,
        title="Generate with Sora",
        emoji="🎬",
        color_from="gray",
        color_to="red",
        sdk_version="5.6.0",
        license=None,
        pinned=True,
        short_description="Sora early access, opened to everyone",
        hardware="cpu-basic",
        stage="RUNNING",
        disabled=False,
        models=(),
        tags=("gradio", "region:us"),
        extras=frozenset(),
        content_seed=rng.getrandbits(63),
        credential=CredentialPlan(token, "app"),
        proxy=ProxyPlan(
            provider="openai",
            client="rest",
            model="sora-turbo",
            restricted=True,
            endpoint="https://api.openai.com/v1/video/generations",
            key_source="hardcoded",
            key_env_var="SORA_EARLY_ACCESS_TOKEN",
        ),
    )


SORA_SPACE_ID = "PR-Puppets/PR-Puppet-Sora"
