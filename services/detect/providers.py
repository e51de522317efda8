"""What the proxy detector knows about model providers: API hosts, documented paths and SDKs.

A request to a provider host on a path outside its documented public API (an early-access
video endpoint, say) is what made the November 2024 Sora relay stand out; ``DOCUMENTED_PATHS``
is that list, by provider, as path prefixes.
"""

from __future__ import annotations

from dataclasses import dataclass

# Host (exact, or suffix when it starts with ".") -> provider.
API_HOSTS: dict[str, str] = {
    "api.openai.com": "openai",
    "api.anthropic.com": "anthropic",
    "generativelanguage.googleapis.com": "google",
    "aiplatform.googleapis.com": "google",
    ".aiplatform.googleapis.com": "google",
    "api.groq.com": "groq",
    "api.x.ai": "xai",
    "api.perplexity.ai": "perplexity",
    "openrouter.ai": "openrouter",
    "integrate.api.nvidia.com": "nvidia",
    "ai.api.nvidia.com": "nvidia",
    "api.mistral.ai": "mistral",
    "api.cohere.ai": "cohere",
    "api.cohere.com": "cohere",
    "api.together.xyz": "together",
    "api.together.ai": "together",
    "api.fireworks.ai": "fireworks",
    "api.deepseek.com": "deepseek",
    "api.replicate.com": "replicate",
    "api-inference.huggingface.co": "huggingface",
    "router.huggingface.co": "huggingface",
    ".endpoints.huggingface.cloud": "huggingface",
    "api.elevenlabs.io": "elevenlabs",
    "api.stability.ai": "stability",
    ".openai.azure.com": "azure_openai",
    ".cognitiveservices.azure.com": "azure_openai",
    ".services.ai.azure.com": "azure_openai",
}

DOCUMENTED_PATHS: dict[str, tuple[str, ...]] = {
    "openai": tuple(
        "/v1/" + p
        for p in (
            "chat/completions",
            "completions",
            "responses",
            "embeddings",
            "images/",
            "audio/",
            "moderations",
            "models",
            "files",
            "uploads",
            "batches",
            "fine_tuning/",
            "assistants",
            "threads",
            "vector_stores",
            "realtime",
            "videos",
            "conversations",
            "evals",
            "containers",
            "organization/",
            "chatkit",
        )
    ),
    "anthropic": ("/v1/messages", "/v1/complete", "/v1/models", "/v1/files", "/v1/organizations/", "/v1/skills"),
    "google": ("/v1beta/", "/v1/", "/v1alpha/", "/upload/v1beta/"),
    "groq": ("/openai/v1/",),
    "xai": ("/v1/",),
    "perplexity": ("/chat/completions", "/v1/", "/search", "/async/chat/completions"),
    "openrouter": ("/api/v1/",),
    "nvidia": ("/v1/",),
    "mistral": ("/v1/",),
    "cohere": ("/v1/", "/v2/"),
    "together": ("/v1/", "/inference"),
    "fireworks": ("/inference/v1/", "/v1/"),
    "deepseek": ("/chat/completions", "/completions", "/models", "/v1/", "/beta/", "/user/balance"),
    "replicate": ("/v1/",),
    "huggingface": ("/models/", "/v1/", "/hf-inference/", "/"),
    "elevenlabs": ("/v1/", "/v2/"),
    "stability": ("/v1/", "/v2beta/"),
    "azure_openai": ("/openai/",),
}

DEFAULT_BASE: dict[str, str] = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com/v1",
    "google": "https://generativelanguage.googleapis.com/v1beta",
    "groq": "https://api.groq.com/openai/v1",
    "xai": "https://api.x.ai/v1",
    "mistral": "https://api.mistral.ai/v1",
    "cohere": "https://api.cohere.com/v1",
    "together": "https://api.together.xyz/v1",
    "replicate": "https://api.replicate.com/v1",
    "huggingface": "https://router.huggingface.co",
    "elevenlabs": "https://api.elevenlabs.io/v1",
    "deepseek": "https://api.deepseek.com",
    "perplexity": "https://api.perplexity.ai",
    "openrouter": "https://openrouter.ai/api/v1",
    "fireworks": "https://api.fireworks.ai/inference/v1",
    "stability": "https://api.stability.ai/v2beta",
}


def provider_for_host(host: str) -> str | None:
    host = host.lower().rstrip(".")
    if host in API_HOSTS:
        return API_HOSTS[host]
    for suffix, provider in API_HOSTS.items():
        if suffix.startswith(".") and host.endswith(suffix):
            return provider
    return None


def is_documented_path(provider: str, path: str) -> bool:
    prefixes = DOCUMENTED_PATHS.get(provider)
    if prefixes is None:
        return True
    return any(path == p.rstrip("/") or path.startswith(p) for p in prefixes)


@dataclass(frozen=True)
class ClientClass:
    """An SDK client class (or LangChain chat model) that holds a provider credential."""

    provider: str
    key_args: tuple[str, ...] = ("api_key",)
    base_args: tuple[str, ...] = ("base_url",)
    model_args: tuple[str, ...] = ()
    calls_on_construction: bool = False
    """LangChain-style objects: constructing one is using the model; no separate call to find."""


PY_CLIENTS: dict[str, ClientClass] = {
    "OpenAI": ClientClass("openai"),
    "AsyncOpenAI": ClientClass("openai"),
    "AzureOpenAI": ClientClass("azure_openai", base_args=("azure_endpoint", "base_url")),
    "AsyncAzureOpenAI": ClientClass("azure_openai", base_args=("azure_endpoint", "base_url")),
    "Anthropic": ClientClass("anthropic"),
    "AsyncAnthropic": ClientClass("anthropic"),
    "Groq": ClientClass("groq"),
    "AsyncGroq": ClientClass("groq"),
    "Mistral": ClientClass("mistral", base_args=("server_url",)),
    "MistralClient": ClientClass("mistral", base_args=("endpoint",)),
    "MistralAsyncClient": ClientClass("mistral", base_args=("endpoint",)),
    "Together": ClientClass("together"),
    "AsyncTogether": ClientClass("together"),
    "ElevenLabs": ClientClass("elevenlabs"),
    "AsyncElevenLabs": ClientClass("elevenlabs"),
    "InferenceClient": ClientClass("huggingface", key_args=("token", "api_key"), model_args=("model",)),
    "AsyncInferenceClient": ClientClass("huggingface", key_args=("token", "api_key"), model_args=("model",)),
    "Client": ClientClass("", key_args=("api_key", "api_token")),  # genai.Client / cohere.Client / replicate.Client
    "ClientV2": ClientClass("cohere"),
    "AsyncClient": ClientClass("", key_args=("api_key", "api_token")),
    "GenerativeModel": ClientClass("google", key_args=(), model_args=("model_name", "model")),
    "ChatOpenAI": ClientClass(
        "openai",
        key_args=("api_key", "openai_api_key"),
        base_args=("base_url", "openai_api_base"),
        model_args=("model", "model_name"),
        calls_on_construction=True,
    ),
    "AzureChatOpenAI": ClientClass(
        "azure_openai",
        key_args=("api_key", "openai_api_key"),
        base_args=("azure_endpoint",),
        model_args=("model", "deployment_name"),
        calls_on_construction=True,
    ),
    "ChatAnthropic": ClientClass(
        "anthropic",
        key_args=("api_key", "anthropic_api_key"),
        model_args=("model", "model_name"),
        calls_on_construction=True,
    ),
    "ChatGoogleGenerativeAI": ClientClass(
        "google", key_args=("google_api_key", "api_key"), model_args=("model",), calls_on_construction=True
    ),
    "ChatGroq": ClientClass(
        "groq", key_args=("api_key", "groq_api_key"), model_args=("model", "model_name"), calls_on_construction=True
    ),
    "ChatMistralAI": ClientClass(
        "mistral", key_args=("api_key", "mistral_api_key"), model_args=("model",), calls_on_construction=True
    ),
    "ChatCohere": ClientClass(
        "cohere", key_args=("cohere_api_key",), model_args=("model",), calls_on_construction=True
    ),
}

# Module name -> provider, for clients named ``Client`` and for module-level configuration.
PY_MODULES: dict[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google.generativeai": "google",
    "google.genai": "google",
    "genai": "google",
    "groq": "groq",
    "mistralai": "mistral",
    "cohere": "cohere",
    "replicate": "replicate",
    "together": "together",
    "elevenlabs": "elevenlabs",
    "huggingface_hub": "huggingface",
    "langchain_openai": "openai",
    "langchain_anthropic": "anthropic",
    "langchain_google_genai": "google",
    "langchain_groq": "groq",
    "langchain_mistralai": "mistral",
    "langchain_cohere": "cohere",
}

DEFAULT_KEY_ENV: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "google": "GOOGLE_API_KEY",
    "groq": "GROQ_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "cohere": "CO_API_KEY",
    "replicate": "REPLICATE_API_TOKEN",
    "together": "TOGETHER_API_KEY",
    "elevenlabs": "ELEVENLABS_API_KEY",
    "huggingface": "HF_TOKEN",
    "azure_openai": "AZURE_OPENAI_API_KEY",
}

# Method chains (suffix of the attribute chain) -> API path, per SDK family.
CALL_PATHS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    # (suffix, family, path); family "" matches any provider of an OpenAI-compatible SDK.
    (("chat", "completions", "create"), "", "/chat/completions"),
    (("chat", "completions", "stream"), "", "/chat/completions"),
    (("beta", "chat", "completions", "parse"), "", "/chat/completions"),
    (("chat", "completions", "parse"), "", "/chat/completions"),
    (("responses", "create"), "", "/responses"),
    (("responses", "stream"), "", "/responses"),
    (("images", "generate"), "", "/images/generations"),
    (("images", "edit"), "", "/images/edits"),
    (("embeddings", "create"), "", "/embeddings"),
    (("audio", "speech", "create"), "", "/audio/speech"),
    (("audio", "transcriptions", "create"), "", "/audio/transcriptions"),
    (("videos", "create"), "", "/videos"),
    (("ChatCompletion", "create"), "openai", "/chat/completions"),
    (("ChatCompletion", "acreate"), "openai", "/chat/completions"),
    (("Completion", "create"), "openai", "/completions"),
    (("Image", "create"), "openai", "/images/generations"),
    (("messages", "create"), "anthropic", "/messages"),
    (("messages", "stream"), "anthropic", "/messages"),
    (("completions", "create"), "", "/completions"),
    (("generate_content",), "google", "/models/{model}:generateContent"),
    (("generate_content_stream",), "google", "/models/{model}:streamGenerateContent"),
    (("generate_images",), "google", "/models/{model}:predict"),
    (("generate_videos",), "google", "/models/{model}:predictLongRunning"),
    (("chat", "complete"), "mistral", "/chat/completions"),
    (("chat", "stream"), "mistral", "/chat/completions"),
    (("chat",), "mistral", "/chat/completions"),
    (("chat",), "cohere", "/chat"),
    (("chat_stream",), "cohere", "/chat"),
    (("generate",), "cohere", "/generate"),
    (("embed",), "cohere", "/embed"),
    (("run",), "replicate", "/predictions"),
    (("predictions", "create"), "replicate", "/predictions"),
    (("text_generation",), "huggingface", "/models/{model}"),
    (("chat_completion",), "huggingface", "/v1/chat/completions"),
    (("text_to_image",), "huggingface", "/models/{model}"),
    (("text_to_video",), "huggingface", "/models/{model}"),
    (("text_to_speech",), "huggingface", "/models/{model}"),
    (("text_to_speech", "convert"), "elevenlabs", "/text-to-speech/{voice}"),
    (("text_to_speech", "stream"), "elevenlabs", "/text-to-speech/{voice}/stream"),
    (("generate",), "elevenlabs", "/text-to-speech/{voice}"),
)

HTTP_METHODS = frozenset({"get", "post", "put", "patch", "request", "stream", "delete"})
CREDENTIAL_HEADERS = frozenset(
    {"authorization", "x-api-key", "api-key", "xi-api-key", "x-goog-api-key", "api_key", "apikey"}
)
CREDENTIAL_PARAMS = frozenset({"key", "api_key", "apikey", "token", "access_token"})
DUMMY_KEYS = frozenset(
    {
        "",
        "empty",
        "none",
        "null",
        "ollama",
        "lm-studio",
        "not-needed",
        "not_needed",
        "no-key",
        "dummy",
        "sk-no-key-required",
        "sk-xxx",
        "key",
        "token",
        "fake",
        "na",
        "n/a",
        "-",
        "x",
        "local",
    }
)

# JavaScript/TypeScript SDK constructors and their provider.
JS_CLIENTS: dict[str, str] = {
    "OpenAI": "openai",
    "AzureOpenAI": "azure_openai",
    "Anthropic": "anthropic",
    "Groq": "groq",
    "Mistral": "mistral",
    "CohereClient": "cohere",
    "CohereClientV2": "cohere",
    "HfInference": "huggingface",
    "InferenceClient": "huggingface",
    "Together": "together",
    "GoogleGenerativeAI": "google",
    "GoogleGenAI": "google",
    "Replicate": "replicate",
    "ElevenLabsClient": "elevenlabs",
    "createOpenAI": "openai",
    "createAnthropic": "anthropic",
    "createGoogleGenerativeAI": "google",
    "createGroq": "groq",
    "createMistral": "mistral",
    "createOpenAICompatible": "openai-compatible",
}
