"""Turn a Space profile at one revision into repository files and the planted items inside them.

Rendering is a pure function of (profile, revision number, whether secrets were removed), so any
revision can be rebuilt on demand and the ground truth always matches the bytes the server sends:
item line numbers are found in the final file text, never assumed.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar
from urllib.parse import urlsplit

from services.hubsim import templates as tpl
from services.hubsim.keys import FakeCredential
from services.hubsim.profile import DecoyPlan, Plant, SpaceProfile

PYTHON_STDLIB = frozenset({"os", "json", "time", "subprocess", "tempfile", "random", "pathlib"})
COMMIT_TITLES = (
    "Update app.py", "Fix typo", "Bump dependencies", "Improve prompt", "Add examples", "Refactor UI",
    "Handle empty input", "Update README.md", "Tweak defaults", "Add error handling",
)
REQUIREMENTS: dict[str, tuple[str, ...]] = {
    "image-classifier": ("transformers", "torch", "pillow"),
    "text-pipeline": ("transformers", "torch", "sentencepiece"),
    "speech-to-text": ("transformers", "torch", "torchaudio"),
    "text-to-image": ("diffusers", "transformers", "accelerate", "torch", "spaces"),
    "local-chat": ("transformers", "torch", "accelerate"),
    "data-dashboard": ("pandas", "plotly"),
    "text-analyzer": ("transformers", "torch"),
    "fastapi-model-api": ("fastapi", "uvicorn[standard]", "sentence-transformers"),
    "requests-relay": ("requests",),
    "media-relay": ("requests",),
    "streamlit-chat": ("openai",),
    "fastapi-relay": ("fastapi", "uvicorn[standard]", "httpx"),
    "selfhosted-chat": ("requests",),
    "selfhosted-streamlit": ("requests",),
    "selfhosted-api": ("fastapi", "uvicorn[standard]", "requests"),
    "sora-relay": ("requests",),
}
PINS = {"transformers": "4.46.3", "torch": "2.5.1", "openai": "1.57.0", "requests": "2.32.3", "fastapi": "0.115.6"}


@dataclass(frozen=True, slots=True)
class PlantedItem:
    """One ground-truth finding: where it is and what a detector should report for it."""

    kind: str  # credential | model_proxy | endpoint_reference | decoy
    path: str
    line: int
    provider: str | None = None
    variant: str | None = None
    secret: str | None = None
    companion: str | None = None
    models: tuple[str, ...] = ()
    restricted: bool = False
    endpoint: str | None = None

    def as_json(self, space_id: str, sha: str) -> dict[str, Any]:
        return {
            "space": space_id,
            "sha": sha,
            "path": self.path,
            "line": self.line,
            "kind": self.kind,
            "provider": self.provider,
            "variant": self.variant,
            "secret": self.secret,
            "companion": self.companion,
            "models": list(self.models),
            "restricted": self.restricted,
            "endpoint": self.endpoint,
        }


@dataclass(frozen=True, slots=True)
class RepoFile:
    """A file as git stores it: LFS files carry their pointer's blob id plus the real content hash."""

    path: str
    data: bytes
    oid: str
    lfs_sha256: str | None = None
    lfs_pointer_size: int | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    files: dict[str, RepoFile]
    directories: tuple[str, ...]
    items: tuple[PlantedItem, ...]
    card_data: dict[str, Any]

    @property
    def used_storage(self) -> int:
        return sum(len(f.data) for f in self.files.values())


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass(slots=True)
class CodeFile:
    """A source file whose import block and top-level setup lines can still be extended."""

    language: str  # python | js
    imports: list[str]
    body: str
    setup: list[str] = field(default_factory=list)

    @property
    def comment(self) -> str:
        return "#" if self.language == "python" else "//"

    def add_import(self, line: str) -> None:
        if line not in self.imports:
            self.imports.append(line)

    def render(self) -> str:
        groups = [self.imports]
        if self.language == "python":
            stdlib = sorted((i for i in self.imports if _module(i) in PYTHON_STDLIB), key=_isort_key)
            others = sorted((i for i in self.imports if _module(i) not in PYTHON_STDLIB), key=_isort_key)
            groups = [stdlib, others]
        blocks = ["\n".join(group) for group in (*groups, self.setup) if group]
        blocks.append(self.body.strip("\n"))
        return "\n\n".join(block for block in blocks if block) + "\n"


def _module(import_line: str) -> str:
    return import_line.split()[1].split(".")[0]


def _isort_key(import_line: str) -> tuple[bool, str]:
    """isort's default order: plain imports before from-imports, then by module name."""
    return import_line.startswith("from "), import_line.split()[1].lower()


@dataclass(frozen=True, slots=True)
class _Pending:
    item: PlantedItem
    needle: str


class _Renderer:
    def __init__(self, profile: SpaceProfile, revision: int, redacted: bool) -> None:
        self.p = profile
        self.revision = revision
        self.redacted = redacted
        self.rng = random.Random(profile.content_seed)
        self.code: dict[str, CodeFile] = {}
        self.texts: dict[str, str] = {}
        self.binaries: dict[str, bytes] = {}
        self.requirements: list[str] = list(REQUIREMENTS.get(profile.archetype, ()))
        self.node_dependencies: dict[str, str] = {}
        self.readme_sections: list[str] = []
        self.dotenv: list[str] = []
        self.docker_env: list[str] = []
        self.scripts: list[str] = []
        self.main_path = "app.py"
        self.pending: list[_Pending] = []

    # --- planting --------------------------------------------------------------------------

    def plant(self, path: str, needle: str, item: PlantedItem) -> None:
        """Record an item; its line is looked up in the final text of `path`."""
        self.pending.append(_Pending(replace(item, path=path), needle))

    def plant_credential(self, path: str, credential: FakeCredential) -> None:
        item = PlantedItem("credential", path, 0, credential.provider, credential.variant, credential.value,
                           credential.companion)
        self.plant(path, credential.value, item)

    # --- key expressions -------------------------------------------------------------------

    def python_key(self, code: CodeFile, path: str, streamlit: bool = False) -> str:
        """How a relay app gets its provider key; plants the credential if the repo holds it."""
        proxy, plan = self.p.proxy, self.p.credential
        assert proxy is not None
        env = proxy.key_env_var
        if plan is not None and plan.location == "app" and not self.redacted:
            code.setup.append(f'{env} = "{plan.credential.value}"')
            self.plant_credential(path, plan.credential)
            return env
        if plan is not None and plan.location == "env_file":
            self.use_dotenv(code)
            if not self.redacted:
                self.dotenv.append(f"{env}={plan.credential.value}")
                self.plant_credential(".env", plan.credential)
            return f'os.getenv("{env}")'
        if streamlit:
            return f'st.secrets["{env}"]'
        code.add_import("import os")
        return f'os.environ["{env}"]'

    def js_key(self, code: CodeFile, path: str) -> str:
        proxy, plan = self.p.proxy, self.p.credential
        assert proxy is not None
        if plan is not None and plan.location == "app" and not self.redacted:
            self.plant_credential(path, plan.credential)
            return f'"{plan.credential.value}"'
        if plan is not None and plan.location == "env_file":
            code.imports.insert(0, 'require("dotenv").config();')
            self.node_dependencies["dotenv"] = "^16.4.7"
            if not self.redacted:
                self.dotenv.append(f"{proxy.key_env_var}={plan.credential.value}")
                self.plant_credential(".env", plan.credential)
        return f"process.env.{proxy.key_env_var}"

    def use_dotenv(self, code: CodeFile) -> None:
        code.add_import("import os")
        code.add_import("from dotenv import load_dotenv")
        if "load_dotenv()" not in code.setup:
            code.setup.insert(0, "load_dotenv()")
        if "python-dotenv" not in self.requirements:
            self.requirements.append("python-dotenv")

    # --- apps ------------------------------------------------------------------------------


    def app_image_classifier(self) -> None:
        examples = [f"examples/example_{i}.jpg" for i in (1, 2, 3)] if "lfs_examples" in self.p.extras else []
        body = tpl.fill(tpl.IMAGE_CLASSIFIER, model=self.model(), top_k=self.rng.choice((3, 5)),
                        title=self.p.title, examples=json.dumps(examples))
        self.code["app.py"] = CodeFile("python", ["import gradio as gr", "from transformers import pipeline"], body)

    def app_text_pipeline(self) -> None:
        task, model, kwargs, out_field, label, example = self.rng.choice((
            ("summarization", "facebook/bart-large-cnn", ", max_length=130, min_length=30", "summary_text",
             "Summary", "The tower is 324 metres tall, about the same height as an 81-storey building."),
            ("sentiment-analysis", "distilbert/distilbert-base-uncased-finetuned-sst-2-english", "", "label",
             "Sentiment", "I really enjoyed this movie!"),
            ("translation_en_to_fr", "Helsinki-NLP/opus-mt-en-fr", "", "translation_text", "French",
             "How are you today?"),
        ))
        body = tpl.fill(tpl.TEXT_PIPELINE, task=task, model=model, kwargs=kwargs, field=out_field,
                        output_label=label, title=self.p.title, example=example)
        self.code["app.py"] = CodeFile("python", ["import gradio as gr", "from transformers import pipeline"], body)

    def app_speech_to_text(self) -> None:
        body = tpl.fill(tpl.SPEECH_TO_TEXT, model=self.model(), title=self.p.title,
                        timestamps=self.rng.choice(("True", "False")))
        self.code["app.py"] = CodeFile("python", ["import gradio as gr", "from transformers import pipeline"], body)
        self.texts["packages.txt"] = "ffmpeg\n"

    def app_text_to_image(self) -> None:
        examples = [[f"examples/example_{i}.jpg"] for i in (1, 2)] if "lfs_examples" in self.p.extras else []
        body = tpl.fill(tpl.TEXT_TO_IMAGE, model=self.model(), title=self.p.title, seed=self.rng.randint(0, 9999),
                        prompt="A cinematic photo of a fox in the snow", examples=json.dumps(examples))
        imports = ["import gradio as gr", "import spaces", "import torch",
                   "from diffusers import AutoPipelineForText2Image"]
        self.code["app.py"] = CodeFile("python", imports, body)

    def app_local_chat(self) -> None:
        launch = "mcp_server=True" if "mcp-server" in self.p.tags else ""
        body = tpl.fill(tpl.LOCAL_CHAT, model=self.model(), title=self.p.title,
                        max_tokens=self.rng.choice((256, 512)), launch_args=launch)
        imports = ["import gradio as gr", "from transformers import AutoModelForCausalLM, AutoTokenizer"]
        self.code["app.py"] = CodeFile("python", imports, body)

    def app_data_dashboard(self) -> None:
        body = tpl.fill(tpl.DATA_DASHBOARD, title=self.p.title, rows=self.rng.choice((50, 100, 200)))
        imports = ["import pandas as pd", "import plotly.express as px", "import streamlit as st"]
        self.code["app.py"] = CodeFile("python", imports, body)

    def app_text_analyzer(self) -> None:
        body = tpl.fill(tpl.TEXT_ANALYZER, model=self.model(), title=self.p.title,
                        example="My name is Wolfgang and I live in Berlin.")
        self.code["app.py"] = CodeFile("python", ["import streamlit as st", "from transformers import pipeline"], body)

    def app_fastapi_model_api(self) -> None:
        body = tpl.fill(tpl.FASTAPI_MODEL_API, model=self.model(), title=self.p.title)
        imports = ["from fastapi import FastAPI", "from pydantic import BaseModel",
                   "from sentence_transformers import SentenceTransformer"]
        self.code["app.py"] = CodeFile("python", imports, body)

    def app_node_app(self) -> None:
        self.main_path = "server.js"
        self.node_dependencies["express"] = "^4.21.2"
        body = tpl.fill(tpl.NODE_SERVER, title=self.p.title)
        self.code["server.js"] = CodeFile(
            "js", ['const express = require("express");', 'const path = require("path");'], body
        )
        self.texts["public/index.html"] = tpl.fill(tpl.NODE_PUBLIC_INDEX, title=self.p.title)

    def app_portfolio(self) -> None:
        self.main_path = "index.html"
        self.texts["style.css"] = tpl.STYLE_CSS

    def app_transformersjs_demo(self) -> None:
        self.main_path = "index.html"
        self.texts["style.css"] = tpl.STYLE_CSS
        imports = ['import { pipeline } from "https://cdn.jsdelivr.net/npm/@huggingface/transformers@3.1.0";']
        self.code["index.js"] = CodeFile("js", imports, tpl.fill(tpl.TRANSFORMERSJS_JS, model=self.model()))

    def app_sdk_chat(self) -> None:
        proxy = self.p.proxy
        assert proxy is not None
        code = CodeFile("python", ["import gradio as gr"], "")
        key = self.python_key(code, "app.py")
        system_prompt = self.rng.choice(("You are a helpful assistant.", "You are ChatGPT, answer concisely.",
                                         "You are a friendly tutor."))
        if proxy.client in ("openai", "azure"):
            if proxy.client == "azure":
                code.add_import("from openai import AzureOpenAI")
                args = f'api_key={key}, api_version="2024-06-01", azure_endpoint="{proxy.endpoint}"'
            else:
                code.add_import("from openai import OpenAI")
                custom = proxy.endpoint != "https://api.openai.com/v1"
                args = f'api_key={key}, base_url="{proxy.endpoint}"' if custom else f"api_key={key}"
            code.body = tpl.fill(tpl.CHAT_OPENAI, client_class="AzureOpenAI" if proxy.client == "azure" else "OpenAI",
                                 client_args=args, model=proxy.model, system_prompt=system_prompt, title=self.p.title)
            self.requirements.append("openai")
        else:
            template, module, package = {
                "anthropic": (tpl.CHAT_ANTHROPIC, "import anthropic", "anthropic"),
                "google": (tpl.CHAT_GOOGLE, "from google import genai", "google-genai"),
                "cohere": (tpl.CHAT_COHERE, "import cohere", "cohere"),
            }[proxy.client]
            code.add_import(module)
            code.body = tpl.fill(template, key=key, model=proxy.model, system_prompt=system_prompt, title=self.p.title)
            self.requirements.append(package)
        self.code["app.py"] = code
        self.plant_proxy("app.py")

    def app_requests_relay(self) -> None:
        proxy = self.p.proxy
        assert proxy is not None
        code = CodeFile("python", ["import gradio as gr", "import requests"], "")
        key = self.python_key(code, "app.py")
        if proxy.client == "anthropic":
            headers = '{"x-api-key": API_KEY, "anthropic-version": "2023-06-01", "content-type": "application/json"}'
            payload = ('{"model": MODEL, "max_tokens": 1024, "temperature": temperature, '
                       '"messages": [{"role": "user", "content": prompt}]}')
            extract = 'response.json()["content"][0]["text"]'
        else:
            headers = '{"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}'
            payload = '{"model": MODEL, "messages": [{"role": "user", "content": prompt}], "temperature": temperature}'
            extract = 'response.json()["choices"][0]["message"]["content"]'
        code.body = tpl.fill(tpl.REQUESTS_RELAY, url=proxy.endpoint, key=key, model=proxy.model, headers=headers,
                             payload=payload, extract=extract, title=self.p.title)
        self.code["app.py"] = code
        self.plant_proxy("app.py")

    def app_media_relay(self) -> None:
        proxy = self.p.proxy
        assert proxy is not None
        code = CodeFile("python", ["import os", "import tempfile", "import gradio as gr", "import requests"], "")
        key = self.python_key(code, "app.py")
        auth = {"elevenlabs": '"xi-api-key": API_KEY', "google": '"x-goog-api-key": API_KEY'}.get(
            proxy.provider, '"Authorization": f"Bearer {API_KEY}"'
        )
        if proxy.provider == "elevenlabs":
            ext, component, result = "mp3", "Audio", "audio_url"
        elif "video" in proxy.endpoint or proxy.model.startswith(("veo", "sora")):
            ext, component, result = "mp4", "Video", "video_url"
        else:
            ext, component, result = "png", "Image", "url"
        code.body = tpl.fill(tpl.MEDIA_RELAY, url=proxy.endpoint, key=key, model=proxy.model, auth_header=auth,
                             ext=ext, component=component, result_field=result, title=self.p.title)
        self.code["app.py"] = code
        self.plant_proxy("app.py")

    def app_streamlit_chat(self) -> None:
        proxy = self.p.proxy
        assert proxy is not None
        code = CodeFile("python", ["import streamlit as st", "from openai import OpenAI"], "")
        key = self.python_key(code, "app.py", streamlit=True)
        custom = proxy.endpoint != "https://api.openai.com/v1"
        args = f'api_key={key}, base_url="{proxy.endpoint}"' if custom else f"api_key={key}"
        code.body = tpl.fill(tpl.STREAMLIT_CHAT, client_args=args, model=proxy.model, title=self.p.title)
        self.code["app.py"] = code
        self.plant_proxy("app.py")

    def app_fastapi_relay(self) -> None:
        proxy = self.p.proxy
        assert proxy is not None
        code = CodeFile("python", ["import httpx", "from fastapi import FastAPI, Request",
                                   "from fastapi.responses import JSONResponse"], "")
        key = self.python_key(code, "app.py")
        code.body = tpl.fill(tpl.FASTAPI_RELAY, url=proxy.endpoint, key=key, model=proxy.model, title=self.p.title)
        self.code["app.py"] = code
        self.plant_proxy("app.py")

    def app_node_relay(self) -> None:
        proxy = self.p.proxy
        assert proxy is not None
        self.main_path = "server.js"
        self.node_dependencies.update({"express": "^4.21.2", "http-proxy-middleware": "^3.0.3"})
        code = CodeFile("js", ['const express = require("express");',
                               'const { createProxyMiddleware, fixRequestBody } = require("http-proxy-middleware");'],
                        "")
        key = self.js_key(code, "server.js")
        parts = urlsplit(proxy.endpoint)
        auth = '"x-api-key", API_KEY' if proxy.client == "anthropic" else '"Authorization", `Bearer ${API_KEY}`'
        body = tpl.fill(tpl.NODE_RELAY, key=key, url=f"{parts.scheme}://{parts.netloc}", model=proxy.model,
                        auth_header=auth, title=self.p.title)
        base_path = parts.path.rstrip("/") or "/v1"
        code.body = body.replace('pathRewrite: { "^/v1": "/v1" }', f'pathRewrite: {{ "^/v1": "{base_path}" }}')
        self.code["server.js"] = code
        self.plant_proxy("server.js")

    def app_js_chat(self) -> None:
        proxy, plan = self.p.proxy, self.p.credential
        assert proxy is not None and plan is not None
        self.main_path = "index.html"
        self.texts["style.css"] = tpl.STYLE_CSS
        code = CodeFile("js", [], tpl.fill(tpl.JS_CHAT, url=proxy.endpoint, model=proxy.model))
        if self.redacted:
            code.setup.append('const API_KEY = localStorage.getItem("apiKey") || window.prompt("Enter your API key");')
        else:
            code.setup.append(f'const API_KEY = "{plan.credential.value}";')
            self.plant_credential("script.js", plan.credential)
        self.code["script.js"] = code
        self.plant_proxy("script.js")

    def app_selfhosted_chat(self) -> None:
        endpoint = self.p.endpoint
        assert endpoint is not None
        code = CodeFile("python", ["import gradio as gr"], "")
        if endpoint.server == "gradio":
            code.add_import("from gradio_client import Client")
            template, url = tpl.GRADIO_SHARE_CHAT, endpoint.base_url
            self.requirements = ["gradio_client"]
        elif endpoint.openai_compatible:
            code.add_import("from openai import OpenAI")
            template, url = tpl.OPENAI_COMPATIBLE_CHAT, endpoint.base_url + endpoint.path
            self.requirements = ["openai"]
        else:
            code.add_import("import requests")
            template = tpl.OLLAMA_CHAT if endpoint.server == "ollama" else tpl.TGI_CHAT
            url = endpoint.base_url
        code.body = tpl.fill(template, url=url, model=endpoint.model, title=self.p.title)
        self.code["app.py"] = code
        self.plant_endpoint("app.py")

    def app_selfhosted_streamlit(self) -> None:
        endpoint = self.p.endpoint
        assert endpoint is not None
        if endpoint.server == "ollama":
            path, payload = "/api/generate", '{"model": MODEL, "prompt": prompt, "stream": False}'
            extract = 'response.json()["response"]'
        elif endpoint.openai_compatible:
            path = "/v1/chat/completions"
            payload = '{"model": MODEL, "messages": [{"role": "user", "content": prompt}]}'
            extract = 'response.json()["choices"][0]["message"]["content"]'
        else:
            path, payload = "/generate", '{"inputs": prompt, "parameters": {"max_new_tokens": 512}}'
            extract = 'response.json()["generated_text"]'
        body = tpl.fill(tpl.STREAMLIT_SELFHOSTED, url=endpoint.base_url, model=endpoint.model, title=self.p.title,
                        request_path=path, payload=payload, extract=extract)
        self.code["app.py"] = CodeFile("python", ["import requests", "import streamlit as st"], body)
        self.plant_endpoint("app.py")

    def app_selfhosted_api(self) -> None:
        endpoint = self.p.endpoint
        assert endpoint is not None
        if endpoint.server == "comfyui":
            imports = ["import json", "import requests", "from fastapi import FastAPI",
                       "from pydantic import BaseModel"]
            body = tpl.fill(tpl.COMFY_API, url=endpoint.base_url, model=endpoint.model, title=self.p.title)
        else:
            imports = ["import httpx", "from fastapi import FastAPI, Request",
                       "from fastapi.responses import JSONResponse"]
            body = tpl.fill(tpl.FASTAPI_RELAY, url=endpoint.base_url + "/v1", key='"EMPTY"', model=endpoint.model,
                            title=self.p.title)
            self.requirements.append("httpx")
        self.code["app.py"] = CodeFile("python", imports, body)
        self.plant_endpoint("app.py")

    def app_sora_relay(self) -> None:
        plan = self.p.credential
        assert plan is not None
        imports = ["import time", "import gradio as gr", "import requests"]
        self.code["app.py"] = CodeFile("python", imports, tpl.fill(tpl.SORA_APP, token=plan.credential.value))
        self.plant_credential("app.py", plan.credential)
        self.plant_proxy("app.py")

    def plant_proxy(self, path: str) -> None:
        proxy = self.p.proxy
        assert proxy is not None
        item = PlantedItem("model_proxy", path, 0, proxy.provider, None, None, None, (proxy.model,),
                           proxy.restricted, proxy.endpoint)
        self.plant(path, f'"{proxy.model}"', item)

    def plant_endpoint(self, path: str) -> None:
        endpoint = self.p.endpoint
        assert endpoint is not None
        item = PlantedItem("endpoint_reference", path, 0, endpoint.server, endpoint.exposure, None, None,
                           (endpoint.model,), False, endpoint.base_url)
        self.plant(path, endpoint.base_url, item)

    def model(self) -> str:
        return self.p.models[0] if self.p.models else "distilbert/distilbert-base-uncased"

    # --- credentials in clean apps ---------------------------------------------------------


    def literal(self, value: str, env_var: str | None) -> str:
        return f'os.environ.get("{env_var}")' if self.redacted else f'"{value}"'

    def credential_in_app(self, cred: FakeCredential) -> None:
        code = self.code.get(self.main_path)
        if code is None or code.language == "js":
            self.credential_in_js(cred, self.main_path if code is not None else "server.js")
            return
        code.add_import("import os")
        value = self.literal(cred.value, cred.env_var)
        env = cred.env_var
        setup = {
            "huggingface": ([f"{env} = {value}", f"login(token={env})"], "from huggingface_hub import login"),
            "github": ([f"{env} = {value}",
                        f'subprocess.run(["git", "clone", f"https://{{{env}}}@github.com/{self.p.author}/'
                        'private-assets.git", "assets"], check=False)'], "import subprocess"),
            "aws": (['s3 = boto3.client(', '    "s3",', f"    aws_access_key_id={value},",
                     f"    aws_secret_access_key={self.literal(cred.companion or '', cred.companion_env_var)},",
                     '    region_name="us-east-1",', ")"], "import boto3"),
            "wandb": ([f"{env} = {value}", f"wandb.login(key={env})"], "import wandb"),
            "pinecone": ([f"pc = Pinecone(api_key={value})", 'index = pc.Index("documents")'],
                         "from pinecone import Pinecone"),
            "langfuse": (["langfuse = Langfuse(",
                          f"    public_key={self.literal(cred.companion or '', cred.companion_env_var)},",
                          f"    secret_key={value},", '    host="https://cloud.langfuse.com",', ")"],
                         "from langfuse import Langfuse"),
            "langsmith": ([f'os.environ["{env}"] = {value}', 'os.environ["LANGSMITH_TRACING"] = "true"'], None),
        }.get(cred.provider, ([f"{env} = {value}  # TODO: move to Space secrets"], None))
        lines, module = setup
        if module:
            code.add_import(module)
            if _module(module) not in PYTHON_STDLIB:
                self.requirements.append(_module(module).replace("_", "-"))
        code.setup.extend(lines)
        if not self.redacted:
            self.plant_credential(self.main_path, cred)

    def credential_in_js(self, cred: FakeCredential, path: str) -> None:
        code = self.code.setdefault(path, CodeFile("js", [], ""))
        value = f"process.env.{cred.env_var}" if self.redacted else f'"{cred.value}"'
        code.setup.append(f"const {cred.env_var} = {value};")
        if cred.companion:
            companion = f"process.env.{cred.companion_env_var}" if self.redacted else f'"{cred.companion}"'
            code.setup.append(f"const {cred.companion_env_var} = {companion};")
        if not self.redacted:
            self.plant_credential(path, cred)

    def credential_in_script_js(self, cred: FakeCredential) -> None:
        self.credential_in_js(cred, "script.js")
        code = self.code["script.js"]
        if not code.body:
            code.body = (f"export function authHeaders() {{\n"
                         f"  return {{ Authorization: `Bearer ${{{cred.env_var}}}` }};\n}}\n")
        self.scripts.append('    <script type="module" src="script.js"></script>')

    @staticmethod
    def assignments(cred: FakeCredential) -> list[tuple[str, str]]:
        """(variable, value) pairs of a credential: the key, plus its other half if it has one."""
        pairs = [(cred.env_var, cred.value)]
        if cred.companion and cred.companion_env_var:
            pairs.append((cred.companion_env_var, cred.companion))
        return pairs

    def env_lines(self, cred: FakeCredential) -> list[str]:
        return [f"{env}={value}" for env, value in self.assignments(cred)]

    def credential_in_env_file(self, cred: FakeCredential) -> None:
        code = self.code.get(self.main_path)
        if code is not None and code.language == "python":
            self.use_dotenv(code)
            code.setup.append(f'{cred.env_var} = os.getenv("{cred.env_var}")')
        elif code is not None:
            code.imports.insert(0, 'require("dotenv").config();')
            self.node_dependencies["dotenv"] = "^16.4.7"
        if not self.redacted:
            self.dotenv.extend(self.env_lines(cred))
            self.plant_credential(".env", cred)

    def credential_in_config_yaml(self, cred: FakeCredential) -> None:
        section = [f"{cred.provider}:"]
        for env, value in self.assignments(cred):
            section.append(f"  {env.lower()}: ${{{env}}}" if self.redacted else f'  {env.lower()}: "{value}"')
        self.texts["config.yaml"] = self.config_yaml() + "\n".join(section) + "\n"
        code = self.code["app.py"]
        code.add_import("import yaml")
        code.setup.append('with open("config.yaml") as f:\n    CONFIG = yaml.safe_load(f)')
        self.requirements.append("pyyaml")
        if not self.redacted:
            self.plant_credential("config.yaml", cred)

    def credential_in_notebook(self, cred: FakeCredential) -> None:
        if self.redacted:
            assignments = [f"# {cred.env_var} is read from the environment\n"]
        else:
            assignments = [f'os.environ["{env}"] = "{value}"\n' for env, value in self.assignments(cred)]
        self.texts["notebooks/experiments.ipynb"] = self.notebook(["import os\n", *assignments])
        if not self.redacted:
            self.plant_credential("notebooks/experiments.ipynb", cred)

    def credential_in_dockerfile(self, cred: FakeCredential) -> None:
        if self.redacted:
            self.docker_env.append(f"# {cred.env_var} is set as a Space secret")
            return
        self.docker_env.extend(f"ENV {line}" for line in self.env_lines(cred))
        self.plant_credential("Dockerfile", cred)

    def credential_in_secrets_toml(self, cred: FakeCredential) -> None:
        self.code["app.py"].setup.append(f'API_KEY = st.secrets["{cred.env_var}"]')
        if not self.redacted:
            pairs = self.assignments(cred)
            self.texts[".streamlit/secrets.toml"] = "".join(f'{env} = "{value}"\n' for env, value in pairs)
            self.plant_credential(".streamlit/secrets.toml", cred)

    def credential_in_readme(self, cred: FakeCredential) -> None:
        exports = "".join(f"export {env}={'<your key>' if self.redacted else value}\n"
                          for env, value in self.assignments(cred))
        self.readme_sections.append(f"## Usage\n\n```bash\n{exports}python app.py\n```\n")
        if not self.redacted:
            self.plant_credential("README.md", cred)

    # --- decoys and extras -----------------------------------------------------------------

    def inject_decoy(self, decoy: DecoyPlan) -> None:
        item = PlantedItem("decoy", "", 0, decoy.provider, decoy.kind, decoy.value)
        if decoy.in_readme:
            snippet = {
                "placeholder_key": f'```bash\nexport OPENAI_API_KEY="{decoy.value}"\n```',
                "your_api_key": f'```python\nclient = OpenAI(api_key="{decoy.value}")\n```',
                "aws_example": f"```ini\n[default]\naws_access_key_id = {decoy.value}\n"
                               "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n```",
                "hf_placeholder": f"```bash\nhuggingface-cli login --token {decoy.value}\n```",
                "github_placeholder": f"```bash\ngit clone https://{decoy.value}@github.com/{self.p.space_id}.git\n```",
            }[decoy.kind]
            self.readme_sections.append(f"## Setup\n\n{snippet}\n")
            self.plant("README.md", decoy.value, item)
            return
        code = self.code["app.py"]
        line = {
            "env_lookup": f"OPTIONAL_OPENAI_KEY = {decoy.value}  # reserved for a future feature",
            "model_revision": f'MODEL_REVISION = "{decoy.value}"  # pinned commit of the model repo',
            "uuid": f'SESSION_NAMESPACE = "{decoy.value}"',
            "localhost_server": f'LOCAL_DEBUG_SERVER = "{decoy.value}"  # only used when running locally',
            "redacted_key": f'EXAMPLE_KEY_FORMAT = "{decoy.value}"',
            "sha256": f'EXPECTED_CHECKSUM = "sha256:{decoy.value}"',
        }[decoy.kind]
        if decoy.kind == "env_lookup":
            code.add_import("import os")
        code.setup.append(line)
        self.plant("app.py", decoy.value, item)

    def config_yaml(self) -> str:
        return (f"app:\n  title: {self.p.title}\n  max_new_tokens: {self.rng.choice((256, 512, 1024))}\n"
                f"  temperature: {self.rng.choice((0.2, 0.7, 1.0))}\n")

    def notebook(self, secret_cell: list[str]) -> str:
        cells = [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Experiments\n", "Quick tests before the app."]},
            {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [], "source": secret_cell},
            {"cell_type": "code", "execution_count": 2, "metadata": {}, "outputs": [],
             "source": ["from transformers import pipeline\n", 'pipe = pipeline("sentiment-analysis")\n',
                        'pipe("This works!")']},
        ]
        document = {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                                 "name": "python3"}},
                    "nbformat": 4, "nbformat_minor": 5}
        return json.dumps(document, indent=1) + "\n"

    def add_extras(self) -> None:
        extras = self.p.extras
        if "config_yaml" in extras and "config.yaml" not in self.texts:
            self.texts["config.yaml"] = self.config_yaml()
        if "notebook" in extras and not any(path.endswith(".ipynb") for path in self.texts):
            self.texts["notebooks/exploration.ipynb"] = self.notebook(["import pandas as pd\n"])
        if "dotenv" in extras and not self.dotenv:
            self.dotenv.extend([f"MODEL_ID={self.model()}", "MAX_NEW_TOKENS=512", "LOG_LEVEL=info"])
        if "utils" in extras:
            self.texts["utils.py"] = ('def truncate(text: str, limit: int = 2000) -> str:\n'
                                      '    return text if len(text) <= limit else text[:limit] + "..."\n')
        if "lfs_examples" in extras:
            for number in (1, 2, 3):
                size = self.rng.randint(8_000, 48_000)
                header = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
                self.binaries[f"examples/example_{number}.jpg"] = header + self.rng.randbytes(size) + b"\xff\xd9"

    # --- repository-level files ------------------------------------------------------------

    def card_data(self) -> dict[str, Any]:
        p = self.p
        card: dict[str, Any] = {"title": p.title, "emoji": p.emoji, "colorFrom": p.color_from, "colorTo": p.color_to,
                                "sdk": p.sdk}
        if p.sdk_version:
            card["sdk_version"] = p.sdk_version
        if p.sdk in ("gradio", "streamlit"):
            card["app_file"] = "app.py"
        elif p.sdk == "static":
            card["app_file"] = "index.html"
        else:
            card["app_port"] = 7860
        card["pinned"] = p.pinned
        if p.license:
            card["license"] = p.license
        card["short_description"] = p.short_description
        if p.models:
            card["models"] = list(p.models)
        if "mcp-server" in p.tags:
            card["tags"] = ["mcp-server"]
        return card

    def readme(self, card: dict[str, Any]) -> str:
        lines = ["---"]
        for key, value in card.items():
            if isinstance(value, list):
                lines.append(f"{key}:")
                lines.extend(f"  - {entry}" for entry in value)
            elif isinstance(value, bool):
                lines.append(f"{key}: {str(value).lower()}")
            else:
                lines.append(f"{key}: {value}")
        lines.append("---\n")
        body = tpl.SORA_README_BODY if self.p.plant == Plant.SORA else tpl.README_FOOTER
        return "\n".join(lines) + "\n" + body + "".join("\n" + section for section in self.readme_sections)

    def write_repository_files(self) -> None:
        p = self.p
        if p.sdk == "docker":
            if "server.js" in self.code:
                self.texts["Dockerfile"] = tpl.fill(tpl.NODE_DOCKERFILE, node=self.rng.choice((18, 20, 22)),
                                                    env="\n".join(self.docker_env))
            else:
                self.texts["Dockerfile"] = tpl.fill(tpl.PYTHON_DOCKERFILE, minor=self.rng.choice((9, 10, 11)),
                                                    env="\n".join(self.docker_env))
        if self.node_dependencies:
            deps = ",\n".join(f'    "{name}": "{version}"' for name, version in sorted(self.node_dependencies.items()))
            self.texts["package.json"] = tpl.fill(tpl.PACKAGE_JSON, name=p.space_id.split("/")[1].lower(),
                                                  patch=self.rng.randint(0, 9), dependencies=deps)
        if p.sdk == "static":
            template = tpl.TRANSFORMERSJS_HTML if p.archetype == "transformersjs-demo" else tpl.PORTFOLIO_HTML
            if p.archetype == "js-chat":
                template = tpl.JS_CHAT_HTML
            self.texts["index.html"] = tpl.fill(template, title=p.title, author=p.author,
                                                scripts="\n".join(self.scripts))
        elif "app.py" in self.code:
            requirements = []
            for name in dict.fromkeys(self.requirements):
                pin = PINS.get(name)
                requirements.append(f"{name}=={pin}" if pin and self.rng.random() < 0.5 else name)
            self.texts["requirements.txt"] = "\n".join(requirements) + "\n"
        if self.dotenv:
            self.texts[".env"] = "\n".join(["# local settings", *self.dotenv, "DEBUG=false"]) + "\n"
        gitattributes = tpl.GITATTRIBUTES
        if self.binaries:
            gitattributes += "*.jpg filter=lfs diff=lfs merge=lfs -text\n"
        self.texts[".gitattributes"] = gitattributes

    def apply_revision_edits(self) -> None:
        """Each later revision appends one change to the main app file, like a small commit would."""
        if self.revision == 0:
            return
        notes = [COMMIT_TITLES[(self.p.content_seed + n) % len(COMMIT_TITLES)] for n in range(1, self.revision + 1)]
        code = self.code.get(self.main_path)
        if code is not None:
            code.body = code.body.rstrip("\n") + "\n" + "".join(f"\n{code.comment} {note}" for note in notes) + "\n"
        else:
            self.texts[self.main_path] += "".join(f"<!-- {note} -->\n" for note in notes)

    APP_BUILDERS: ClassVar[dict[str, Callable[[_Renderer], None]]] = {
        "image-classifier": app_image_classifier, "text-pipeline": app_text_pipeline,
        "speech-to-text": app_speech_to_text, "text-to-image": app_text_to_image, "local-chat": app_local_chat,
        "data-dashboard": app_data_dashboard, "text-analyzer": app_text_analyzer,
        "fastapi-model-api": app_fastapi_model_api, "node-app": app_node_app, "portfolio": app_portfolio,
        "transformersjs-demo": app_transformersjs_demo, "sdk-chat": app_sdk_chat,
        "requests-relay": app_requests_relay, "media-relay": app_media_relay, "streamlit-chat": app_streamlit_chat,
        "fastapi-relay": app_fastapi_relay, "node-relay": app_node_relay, "js-chat": app_js_chat,
        "selfhosted-chat": app_selfhosted_chat, "selfhosted-streamlit": app_selfhosted_streamlit,
        "selfhosted-api": app_selfhosted_api, "sora-relay": app_sora_relay,
    }
    CREDENTIAL_WRITERS: ClassVar[dict[str, Callable[[_Renderer, FakeCredential], None]]] = {
        "app": credential_in_app, "env_file": credential_in_env_file, "config_yaml": credential_in_config_yaml,
        "notebook": credential_in_notebook, "dockerfile": credential_in_dockerfile,
        "secrets_toml": credential_in_secrets_toml, "readme": credential_in_readme,
        "script_js": credential_in_script_js,
    }

    def snapshot(self) -> Snapshot:
        self.APP_BUILDERS[self.p.archetype](self)
        if self.p.plant == Plant.CREDENTIAL and self.p.credential is not None:
            self.CREDENTIAL_WRITERS[self.p.credential.location](self, self.p.credential.credential)
        for decoy in self.p.decoys:
            self.inject_decoy(decoy)
        self.add_extras()
        self.write_repository_files()
        card = self.card_data()
        self.texts["README.md"] = self.readme(card)
        self.apply_revision_edits()
        for path, code in self.code.items():
            self.texts[path] = code.render()
        items = []
        for pending in self.pending:
            text = self.texts[pending.item.path]
            position = text.find(pending.needle)
            if position < 0:
                raise AssertionError(f"{self.p.space_id}: {pending.needle!r} missing from {pending.item.path}")
            items.append(replace(pending.item, line=text.count("\n", 0, position) + 1))
        files = {path: _text_file(path, text) for path, text in self.texts.items()}
        files.update({path: _lfs_file(path, data) for path, data in self.binaries.items()})
        ordered = dict(sorted(files.items()))
        directories = sorted({"/".join(path.split("/")[:depth]) for path in ordered
                              for depth in range(1, path.count("/") + 1)})
        return Snapshot(ordered, tuple(directories), tuple(items), card)


def _text_file(path: str, text: str) -> RepoFile:
    data = text.encode()
    return RepoFile(path, data, git_blob_oid(data))


def _lfs_file(path: str, data: bytes) -> RepoFile:
    sha256 = hashlib.sha256(data).hexdigest()
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {len(data)}\n".encode()
    return RepoFile(path, data, git_blob_oid(pointer), sha256, len(pointer))


def render_space(profile: SpaceProfile, revision: int, redacted: bool) -> Snapshot:
    """All files of `profile` at `revision`; `redacted` means its committed secrets were removed."""
    return _Renderer(profile, revision, redacted).snapshot()
