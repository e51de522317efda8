"""What a synthetic Space can be: app archetypes, upstream AI providers, self-hosted model servers.

Definitions the ground truth relies on:
- a *model proxy* is app code that relays user input to a hosted model provider's API (SDK call,
  raw HTTP request, or a reverse proxy) - clean archetypes never call a hosted provider;
- an *endpoint reference* is app code that calls a self-hosted model server reachable on the
  internet (raw TEST-NET IP, tunnel host, gradio share link);
- a model is *restricted* when it is on `RESTRICTED_MODELS` (non-public, preview or early access).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["clean", "proxy", "endpoint"]
SDKS: tuple[str, ...] = ("gradio", "streamlit", "docker", "static")


@dataclass(frozen=True, slots=True)
class Archetype:
    """A kind of app: which SDK, whether it relays to a model, and how its Spaces are named."""

    key: str
    sdk: str
    role: Role
    stems: tuple[str, ...]
    titles: tuple[str, ...]
    models: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    landmark: bool = False  # hand-written Space, never drawn at random


ARCHETYPES: tuple[Archetype, ...] = (
    Archetype(
        "image-classifier", "gradio", "clean",
        ("image-classifier", "vit-demo", "cat-vs-dog", "food-classifier", "plant-disease-detector"),
        ("Image Classifier", "What Is In This Picture?", "Food Classifier"),
        ("google/vit-base-patch16-224",),
    ),
    Archetype(
        "text-pipeline", "gradio", "clean",
        ("summarizer", "sentiment-analysis", "translator-en-fr", "news-summary", "review-sentiment"),
        ("Text Summarizer", "Sentiment Analysis", "English to French"),
        ("facebook/bart-large-cnn", "distilbert/distilbert-base-uncased-finetuned-sst-2-english"),
    ),
    Archetype(
        "speech-to-text", "gradio", "clean",
        ("whisper-demo", "speech-to-text", "audio-transcriber", "whisper-small"),
        ("Whisper Transcription", "Speech to Text"),
        ("openai/whisper-small",),
    ),
    Archetype(
        "text-to-image", "gradio", "clean",
        ("sdxl-turbo", "text-to-image", "flux-schnell-demo", "image-generator"),
        ("SDXL Turbo", "Text to Image"),
        ("stabilityai/sdxl-turbo",),
        ("zerogpu",),
    ),
    Archetype(
        "local-chat", "gradio", "clean",
        ("qwen-chat", "tiny-chatbot", "smollm-chat", "local-llm"),
        ("Tiny Chatbot", "SmolLM Chat"),
        ("Qwen/Qwen2.5-0.5B-Instruct",),
        ("mcp-server",),
    ),
    Archetype(
        "data-dashboard", "streamlit", "clean",
        ("csv-explorer", "data-dashboard", "sales-dashboard", "eda-tool"),
        ("CSV Explorer", "Data Dashboard"),
    ),
    Archetype(
        "text-analyzer", "streamlit", "clean",
        ("text-analyzer", "ner-explorer", "keyword-extractor"),
        ("Text Analyzer", "NER Explorer"),
        ("dslim/bert-base-NER",),
    ),
    Archetype(
        "fastapi-model-api", "docker", "clean",
        ("fastapi-inference", "model-api", "embedding-service"),
        ("Model API", "Embedding Service"),
        ("sentence-transformers/all-MiniLM-L6-v2",),
    ),
    Archetype(
        "node-app", "docker", "clean",
        ("node-webapp", "express-demo", "react-frontend"),
        ("Node Web App", "Express Demo"),
    ),
    Archetype(
        "portfolio", "static", "clean",
        ("portfolio", "landing-page", "my-website", "project-page"),
        ("My Portfolio", "Project Page"),
    ),
    Archetype(
        "transformersjs-demo", "static", "clean",
        ("transformers-js-demo", "in-browser-sentiment", "webgpu-demo"),
        ("Transformers.js Demo", "In-browser Sentiment"),
        ("Xenova/distilbert-base-uncased-finetuned-sst-2-english",),
    ),
    Archetype(
        "sdk-chat", "gradio", "proxy",
        ("chatgpt-clone", "gpt-chat", "claude-chat", "ai-assistant", "chat-with-gpt4", "free-gpt", "llm-chat"),
        ("ChatGPT Clone", "AI Assistant", "Free GPT-4", "Chat"),
    ),
    Archetype(
        "requests-relay", "gradio", "proxy",
        ("api-playground", "prompt-tester", "llm-api-demo", "gpt-api"),
        ("API Playground", "Prompt Tester"),
    ),
    Archetype(
        "media-relay", "gradio", "proxy",
        ("video-generator", "image-gen-pro", "tts-studio", "ai-video"),
        ("AI Video Generator", "Image Gen Pro", "TTS Studio"),
    ),
    Archetype(
        "streamlit-chat", "streamlit", "proxy",
        ("streamlit-chatbot", "st-gpt", "chat-assistant", "pdf-chat"),
        ("Streamlit Chatbot", "PDF Chat"),
    ),
    Archetype(
        "fastapi-relay", "docker", "proxy",
        ("openai-proxy", "api-relay", "llm-gateway", "oai-compat"),
        ("OpenAI Proxy", "LLM Gateway"),
    ),
    Archetype(
        "node-relay", "docker", "proxy",
        ("reverse-proxy", "oai-reverse-proxy", "claude-proxy", "api-proxy"),
        ("Reverse Proxy", "API Proxy"),
    ),
    Archetype(
        "js-chat", "static", "proxy",
        ("js-chatbot", "web-chat", "gpt-widget"),
        ("Web Chat", "GPT Widget"),
    ),
    Archetype(
        "selfhosted-chat", "gradio", "endpoint",
        ("ollama-chat", "llama-local", "my-llm", "vllm-client", "home-llm"),
        ("Ollama Chat", "My LLM"),
    ),
    Archetype(
        "selfhosted-streamlit", "streamlit", "endpoint",
        ("ollama-ui", "local-gpt", "llm-frontend"),
        ("Local GPT", "LLM Frontend"),
    ),
    Archetype(
        "selfhosted-api", "docker", "endpoint",
        ("comfy-frontend", "sd-remote", "tgi-client"),
        ("Comfy Frontend", "Remote SD"),
    ),
    Archetype("sora-relay", "gradio", "proxy", ("PR-Puppet-Sora",), ("Generate with Sora",), landmark=True),
)
ARCHETYPE_BY_KEY: dict[str, Archetype] = {arch.key: arch for arch in ARCHETYPES}


def archetypes_for(sdk: str, role: Role) -> tuple[Archetype, ...]:
    return tuple(arch for arch in ARCHETYPES if arch.sdk == sdk and arch.role == role and not arch.landmark)


RESTRICTED_MODELS: frozenset[str] = frozenset(
    {
        "sora-turbo", "sora-alpha-preview", "gpt-5-alpha", "gpt-4.5-early-access", "o3-alpha-internal",
        "claude-opus-early-access", "claude-4-preview-internal", "gemini-ultra-early-access",
        "gemini-exp-internal-preview", "veo-3-preview-internal", "grok-3-early-access",
    }
)


@dataclass(frozen=True, slots=True)
class ChatProvider:
    """A hosted chat API; `client` says which SDK the app uses for it."""

    provider: str
    client: Literal["openai", "anthropic", "google", "cohere", "azure"]
    base_url: str | None
    rest_url: str
    models: tuple[str, ...]
    restricted: tuple[str, ...] = ()


CHAT_PROVIDERS: tuple[ChatProvider, ...] = (
    ChatProvider(
        "openai", "openai", None, "https://api.openai.com/v1/chat/completions",
        ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "o3-mini"),
        ("gpt-5-alpha", "gpt-4.5-early-access", "o3-alpha-internal"),
    ),
    ChatProvider(
        "anthropic", "anthropic", None, "https://api.anthropic.com/v1/messages",
        ("claude-3-5-sonnet-20241022", "claude-3-5-haiku-20241022", "claude-sonnet-4-20250514"),
        ("claude-opus-early-access", "claude-4-preview-internal"),
    ),
    ChatProvider(
        "google", "google", None,
        "https://generativelanguage.googleapis.com/v1beta/models/{model}:generateContent",
        ("gemini-1.5-flash", "gemini-2.0-flash"),
        ("gemini-ultra-early-access", "gemini-exp-internal-preview"),
    ),
    ChatProvider(
        "groq", "openai", "https://api.groq.com/openai/v1", "https://api.groq.com/openai/v1/chat/completions",
        ("llama-3.1-8b-instant", "llama-3.3-70b-versatile"),
    ),
    ChatProvider(
        "mistral", "openai", "https://api.mistral.ai/v1", "https://api.mistral.ai/v1/chat/completions",
        ("mistral-large-latest", "mistral-small-latest"),
    ),
    ChatProvider("cohere", "cohere", None, "https://api.cohere.com/v2/chat", ("command-r-plus", "command-r")),
    ChatProvider(
        "together", "openai", "https://api.together.xyz/v1", "https://api.together.xyz/v1/chat/completions",
        ("meta-llama/Llama-3.3-70B-Instruct-Turbo",),
    ),
    ChatProvider(
        "xai", "openai", "https://api.x.ai/v1", "https://api.x.ai/v1/chat/completions",
        ("grok-2-latest", "grok-beta"),
        ("grok-3-early-access",),
    ),
    ChatProvider(
        "openrouter", "openai", "https://openrouter.ai/api/v1", "https://openrouter.ai/api/v1/chat/completions",
        ("openai/gpt-4o-mini", "anthropic/claude-3.5-sonnet", "deepseek/deepseek-r1"),
    ),
    ChatProvider(
        "deepseek", "openai", "https://api.deepseek.com", "https://api.deepseek.com/chat/completions",
        ("deepseek-chat", "deepseek-reasoner"),
    ),
    ChatProvider(
        "perplexity", "openai", "https://api.perplexity.ai", "https://api.perplexity.ai/chat/completions",
        ("sonar", "sonar-pro"),
    ),
    ChatProvider(
        "fireworks", "openai", "https://api.fireworks.ai/inference/v1",
        "https://api.fireworks.ai/inference/v1/chat/completions",
        ("accounts/fireworks/models/llama-v3p1-70b-instruct",),
    ),
    ChatProvider(
        "nvidia", "openai", "https://integrate.api.nvidia.com/v1",
        "https://integrate.api.nvidia.com/v1/chat/completions",
        ("meta/llama-3.1-405b-instruct",),
    ),
    ChatProvider(
        "azure_openai", "azure", "https://{resource}.openai.azure.com",
        "https://{resource}.openai.azure.com/openai/deployments/{model}/chat/completions?api-version=2024-06-01",
        ("gpt-4o", "gpt-35-turbo"),
    ),
)
CHAT_PROVIDER_WEIGHTS: tuple[int, ...] = (30, 14, 10, 8, 4, 3, 4, 4, 6, 6, 3, 2, 2, 4)


@dataclass(frozen=True, slots=True)
class MediaProvider:
    """A hosted image, video or speech API reached with plain HTTP."""

    provider: str
    url: str
    models: tuple[str, ...]
    restricted: tuple[str, ...] = ()


MEDIA_PROVIDERS: tuple[MediaProvider, ...] = (
    MediaProvider("openai", "https://api.openai.com/v1/images/generations", ("dall-e-3", "gpt-image-1")),
    MediaProvider("openai", "https://api.openai.com/v1/video/generations", (), ("sora-alpha-preview",)),
    MediaProvider(
        "replicate", "https://api.replicate.com/v1/models/{model}/predictions",
        ("black-forest-labs/flux-schnell", "stability-ai/sdxl"),
    ),
    MediaProvider(
        "stability", "https://api.stability.ai/v2beta/stable-image/generate/sd3", ("sd3-medium", "sd3-large")
    ),
    MediaProvider(
        "elevenlabs", "https://api.elevenlabs.io/v1/text-to-speech/{voice}",
        ("eleven_multilingual_v2", "eleven_turbo_v2_5"),
    ),
    MediaProvider(
        "google", "https://generativelanguage.googleapis.com/v1beta/models/{model}:predictLongRunning",
        (), ("veo-3-preview-internal",),
    ),
)


@dataclass(frozen=True, slots=True)
class ModelServer:
    """Self-hosted inference software: default port, API path and typical models."""

    kind: str
    port: int
    path: str
    openai_compatible: bool
    models: tuple[str, ...]


MODEL_SERVERS: tuple[ModelServer, ...] = (
    ModelServer("ollama", 11434, "/api/chat", False, ("llama3.1:8b", "qwen2.5:14b", "deepseek-r1:32b", "mistral")),
    ModelServer("vllm", 8000, "/v1", True, ("meta-llama/Llama-3.1-70B-Instruct", "Qwen/Qwen2.5-72B-Instruct")),
    ModelServer("lmstudio", 1234, "/v1", True, ("lmstudio-community/Meta-Llama-3.1-8B-Instruct-GGUF",)),
    ModelServer("tgi", 8080, "/generate", False, ("mistralai/Mistral-7B-Instruct-v0.3",)),
    ModelServer("comfyui", 8188, "/prompt", False, ("sd_xl_base_1.0.safetensors", "flux1-dev.safetensors")),
)
TEST_NET_PREFIXES: tuple[str, ...] = ("192.0.2", "198.51.100", "203.0.113")
