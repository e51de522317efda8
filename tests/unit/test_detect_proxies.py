"""Model-access relays: Gradio, Streamlit, FastAPI, Flask, Express and notebook forms; the watchlist;
keys typed by the visitor; and the November 2024 Sora relay."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from pathlib import Path
from textwrap import dedent

import pytest

from services.config import get_settings
from services.detect import Scanner, Watchlist, fakes
from services.events import Finding, FindingKind, Severity

DATA = Path(__file__).resolve().parents[1] / "data" / "detect"


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner()


def relays(scanner: Scanner, files: dict[str, str], asset: str = "space:o/s") -> list[Finding]:
    found = scanner.scan_files([(p, dedent(t).encode()) for p, t in files.items()], asset)
    return [f for f in found if f.kind is FindingKind.MODEL_PROXY]


def one(scanner: Scanner, path: str, text: str) -> Finding:
    found = relays(scanner, {path: text})
    assert len(found) == 1, found
    return found[0]


GRADIO_OPENAI = """
    import os
    import gradio as gr
    from openai import OpenAI

    client = OpenAI(api_key=os.environ["OPENAI_API_KEY"])
    MODEL = "gpt-4o-mini"

    def chat(message, history):
        response = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": message}])
        return response.choices[0].message.content

    gr.ChatInterface(chat).launch()
"""

STREAMLIT_ANTHROPIC = """
    import streamlit as st
    import anthropic

    client = anthropic.Anthropic(api_key=st.secrets["ANTHROPIC_API_KEY"])
    prompt = st.chat_input("Ask")
    if prompt:
        reply = client.messages.create(model="claude-3-5-sonnet-20241022", max_tokens=512,
                                       messages=[{"role": "user", "content": prompt}])
        st.write(reply.content[0].text)
"""

FASTAPI_GROQ = """
    import requests
    from fastapi import FastAPI

    app = FastAPI()
    GROQ_KEY = "{key}"

    @app.post("/chat")
    def chat(body: dict):
        r = requests.post(
            "https://api.groq.com/openai/v1/chat/completions",
            headers={{"Authorization": f"Bearer {{GROQ_KEY}}"}},
            json={{"model": "llama-3.1-70b-versatile", "messages": body["messages"]}},
        )
        return r.json()
"""


def test_gradio_openai_sdk_relay(scanner: Scanner) -> None:
    finding = one(scanner, "app.py", GRADIO_OPENAI)
    assert (finding.provider, finding.endpoint, finding.credential_source, finding.interface) == (
        "openai", "api.openai.com/v1/chat/completions", "env", "gradio")
    assert finding.models == ["gpt-4o-mini"]
    assert not finding.restricted and finding.severity is Severity.MEDIUM
    assert (finding.path, finding.line, finding.detector) == ("app.py", 10, "model-proxy")


def test_streamlit_secrets_anthropic_relay(scanner: Scanner) -> None:
    finding = one(scanner, "app.py", STREAMLIT_ANTHROPIC)
    assert (finding.provider, finding.endpoint, finding.credential_source, finding.interface) == (
        "anthropic", "api.anthropic.com/v1/messages", "secret", "streamlit")
    assert finding.models == ["claude-3-5-sonnet-20241022"]


def test_fastapi_http_relay_with_hardcoded_key(scanner: Scanner) -> None:
    key = fakes.fake_key("groq-api-key", random.Random(3))
    found = Scanner().scan_file("main.py", dedent(FASTAPI_GROQ.format(key=key)).encode(), "space:o/s")
    relay = next(f for f in found if f.kind is FindingKind.MODEL_PROXY)
    assert (relay.provider, relay.endpoint, relay.credential_source, relay.interface, relay.models) == (
        "groq", "api.groq.com/openai/v1/chat/completions", "hardcoded", "fastapi", ["llama-3.1-70b-versatile"])
    assert relay.severity is Severity.HIGH
    assert any(f.kind is FindingKind.CREDENTIAL and f.provider == "groq" for f in found)


@pytest.mark.parametrize(
    ("model", "restricted"),
    [("o1-preview", True), ("sora-turbo", True), ("gemini-2.0-flash-exp", True), ("gpt-4o", False)],
)
def test_watchlisted_models_are_restricted(scanner: Scanner, model: str, restricted: bool) -> None:
    finding = one(scanner, "app.py", GRADIO_OPENAI.replace("gpt-4o-mini", model))
    assert finding.restricted is restricted
    assert finding.severity is (Severity.CRITICAL if restricted else Severity.MEDIUM)


def test_custom_watchlist_replaces_the_default() -> None:
    custom = Scanner(watchlist=Watchlist.parse("# ours\ngpt-4o*\n"))
    assert one(custom, "app.py", GRADIO_OPENAI).restricted
    assert not one(custom, "app.py", GRADIO_OPENAI.replace("gpt-4o-mini", "o1-preview")).restricted


def test_models_from_default_arguments_and_model_dropdown(scanner: Scanner) -> None:
    finding = one(scanner, "app.py", """
        import os, gradio as gr
        from openai import OpenAI
        client = OpenAI()
        MODELS = ["gpt-4o", "gpt-4o-realtime-preview"]

        def answer(prompt, model="gpt-4o"):
            return client.chat.completions.create(model=model, messages=[]).choices[0].message.content

        with gr.Blocks() as demo:
            picker = gr.Dropdown(choices=MODELS, label="Model")
            size = gr.Dropdown(["small", "large"], label="Size")
    """)
    assert finding.models == ["gpt-4o", "gpt-4o-realtime-preview"]
    assert finding.restricted and finding.credential_source == "env"


def test_visitor_supplied_key_is_not_a_relay(scanner: Scanner) -> None:
    assert relays(scanner, {"app.py": """
        import gradio as gr
        from openai import OpenAI

        def chat(message, api_key):
            client = OpenAI(api_key=api_key)
            return client.chat.completions.create(model="gpt-4o", messages=[])

        gr.Interface(chat, ["text", gr.Textbox(type="password")], "text").launch()
    """}) == []


def test_visitor_key_with_server_fallback_is_a_relay(scanner: Scanner) -> None:
    finding = one(scanner, "app.py", """
        import os, gradio as gr
        from openai import OpenAI

        def chat(message, api_key):
            client = OpenAI(api_key=api_key or os.getenv("OPENAI_API_KEY"))
            return client.chat.completions.create(model="gpt-4o", messages=[])

        gr.Interface(chat, ["text", "text"], "text").launch()
    """)
    assert finding.credential_source == "env"


def test_no_public_interface_no_relay(scanner: Scanner) -> None:
    assert relays(scanner, {"batch.py": GRADIO_OPENAI.replace("import gradio as gr", "").replace(
        "gr.ChatInterface(chat).launch()", "print(chat('hi', []))")}) == []


def test_interface_from_a_sibling_file_or_the_space_card(scanner: Scanner) -> None:
    llm = """
        import os
        from anthropic import Anthropic
        client = Anthropic()
        def ask(q):
            return client.messages.create(model="claude-3-opus-20240229", max_tokens=10, messages=[])
    """
    app = "import gradio as gr\nfrom llm import ask\ngr.Interface(ask, 'text', 'text')\n"
    sibling = relays(scanner, {"app.py": app, "llm.py": llm})
    assert [(f.path, f.interface) for f in sibling] == [("llm.py", "gradio")]
    card = relays(scanner, {"README.md": "---\nsdk: streamlit\n---\n", "llm.py": llm})
    assert [(f.path, f.interface) for f in card] == [("llm.py", "streamlit")]
    assert sibling[0].confidence < one(scanner, "app.py", GRADIO_OPENAI).confidence


def test_overridden_base_url_to_an_unknown_host(scanner: Scanner) -> None:
    finding = one(scanner, "app.py", """
        import os, gradio as gr
        from openai import OpenAI
        client = OpenAI(base_url="https://llm.example-relay.net/v1", api_key=os.environ["RELAY_KEY"])
        def f(x):
            return client.chat.completions.create(model="gpt-4o", messages=[])
        gr.Interface(f, "text", "text")
    """)
    assert (finding.provider, finding.endpoint) == ("openai-compatible", "llm.example-relay.net/v1/chat/completions")


def test_dummy_key_for_a_local_server_is_not_a_relay(scanner: Scanner) -> None:
    assert relays(scanner, {"app.py": """
        import gradio as gr
        from openai import OpenAI
        client = OpenAI(base_url="http://localhost:8000/v1", api_key="EMPTY")
        def f(x):
            return client.chat.completions.create(model="qwen", messages=[])
        gr.Interface(f, "text", "text")
    """}) == []


@pytest.mark.parametrize(
    ("source", "provider", "endpoint", "models"),
    [
        ("""
         import os, gradio as gr
         import google.generativeai as genai
         genai.configure(api_key=os.environ["GOOGLE_API_KEY"])
         model = genai.GenerativeModel("gemini-1.5-pro")
         def f(x):
             return model.generate_content(x).text
         gr.Interface(f, "text", "text")
         """, "google", "generativelanguage.googleapis.com/v1beta/models/{model}:generateContent",
         ["gemini-1.5-pro"]),
        ("""
         import os, gradio as gr
         from google import genai
         client = genai.Client(api_key=os.getenv("GEMINI_API_KEY"))
         def f(x):
             return client.models.generate_content(model="gemini-2.5-flash", contents=x).text
         gr.Interface(f, "text", "text")
         """, "google", "generativelanguage.googleapis.com/v1beta/models/{model}:generateContent",
         ["gemini-2.5-flash"]),
        ("""
         import gradio as gr, replicate
         def f(x):
             return replicate.run("black-forest-labs/flux-schnell", input={"prompt": x})
         gr.Interface(f, "text", "image")
         """, "replicate", "api.replicate.com/v1/predictions", ["black-forest-labs/flux-schnell"]),
        ("""
         import os, gradio as gr
         from huggingface_hub import InferenceClient
         client = InferenceClient(token=os.environ["HF_TOKEN"])
         def f(x):
             return client.chat_completion(model="meta-llama/Llama-3.3-70B-Instruct", messages=[])
         gr.Interface(f, "text", "text")
         """, "huggingface", "router.huggingface.co/v1/chat/completions", ["meta-llama/Llama-3.3-70B-Instruct"]),
        ("""
         import os
         from flask import Flask, request
         from mistralai import Mistral
         app = Flask(__name__)
         client = Mistral(api_key=os.environ["MISTRAL_API_KEY"])
         @app.post("/chat")
         def chat():
             return client.chat.complete(model="mistral-large-latest", messages=request.json["m"]).model_dump()
         """, "mistral", "api.mistral.ai/v1/chat/completions", ["mistral-large-latest"]),
        ("""
         import os, chainlit as cl
         from langchain_openai import ChatOpenAI
         llm = ChatOpenAI(model="gpt-4o", api_key=os.environ["OPENAI_API_KEY"])
         """, "openai", "api.openai.com/v1/chat/completions", ["gpt-4o"]),
        ("""
         import os, httpx
         from fastapi import FastAPI
         app = FastAPI()
         HEADERS = {"x-api-key": os.environ["ANTHROPIC_API_KEY"], "anthropic-version": "2023-06-01"}
         @app.post("/v1/messages")
         async def relay(body: dict):
             async with httpx.AsyncClient() as http:
                 r = await http.post("https://api.anthropic.com/v1/messages", headers=HEADERS, json=body)
             return r.json()
         """, "anthropic", "api.anthropic.com/v1/messages", []),
    ],
)
def test_sdk_and_http_forms(scanner: Scanner, source: str, provider: str, endpoint: str, models: list[str]) -> None:
    finding = one(scanner, "app.py", source)
    assert (finding.provider, finding.endpoint, finding.models) == (provider, endpoint, models)


def test_one_finding_per_relay(scanner: Scanner) -> None:
    finding = one(scanner, "app.py", GRADIO_OPENAI + """
    def summarize(text):
        return client.chat.completions.create(model="gpt-4.1", messages=[])
    """)
    assert finding.models == ["gpt-4.1", "gpt-4o-mini"]


def test_proxy_fingerprint_is_keyed_hash_of_provider_endpoint_path(scanner: Scanner) -> None:
    finding = one(scanner, "src/app.py", GRADIO_OPENAI)
    expected = hmac.new(get_settings().fingerprint_key.get_secret_value().encode(),
                        b"openai\x00api.openai.com/v1/chat/completions\x00src/app.py", hashlib.sha256).hexdigest()
    assert finding.fingerprint == expected
    assert one(Scanner(), "src/app.py", GRADIO_OPENAI).id == finding.id


def test_sora_relay_reconstruction(scanner: Scanner) -> None:
    files = [(p.name, p.read_bytes()) for p in sorted((DATA / "sora_relay").iterdir())]
    found = scanner.scan_files(files, "space:PR-Puppets/PR-Puppet-Sora")
    proxies = [f for f in found if f.kind is FindingKind.MODEL_PROXY]
    assert len(proxies) == 1
    sora = proxies[0]
    assert (sora.provider, sora.endpoint, sora.credential_source, sora.interface) == (
        "openai", "api.openai.com/v1/video/generations", "env", "gradio")
    assert sora.models == ["sora-alpha-turbo"] and sora.restricted and sora.severity is Severity.CRITICAL
    assert sora.path == "app.py" and sora.line == 39
    # Not a documented path: restricted even when the model is not on the watchlist.
    lenient = Scanner(watchlist=Watchlist(())).scan_files(files, "space:x/y")
    assert [f.restricted for f in lenient if f.kind is FindingKind.MODEL_PROXY] == [True]


EXPRESS = """
import express from "express";
import OpenAI from "openai";
const BASE = "https://api.openai.com/v1";
const openai = new OpenAI({ apiKey: process.env.OPENAI_API_KEY });
const app = express();
app.post("/api/chat", async (req, res) => {
  const r = await openai.chat.completions.create({ model: "gpt-4o", messages: req.body.messages });
  res.json(r);
});
app.post("/api/video", async (req, res) => {
  const v = await fetch(`${BASE}/video/generations`, {
    method: "POST",
    headers: { Authorization: `Bearer ${process.env.SORA_TOKEN}` },
    body: JSON.stringify({ model: "sora-turbo", prompt: req.body.prompt }),
  });
  res.json(await v.json());
});
"""


def test_express_relays(scanner: Scanner) -> None:
    found = sorted(relays(scanner, {"server.js": EXPRESS}), key=lambda f: f.line or 0)
    assert [(f.line, f.endpoint, f.models, f.restricted, f.interface) for f in found] == [
        (8, "api.openai.com/v1/chat/completions", ["gpt-4o"], False, "express"),
        (12, "api.openai.com/v1/video/generations", ["sora-turbo"], True, "express"),
    ]


@pytest.mark.parametrize(
    "source",
    [
        EXPRESS.replace('import express from "express";', "").replace("app.post", "router.post").replace(
            "const app = express();", ""),  # no server: browser code
        EXPRESS.replace("process.env.OPENAI_API_KEY", "req.body.apiKey").replace(
            "process.env.SORA_TOKEN", "req.headers.token"),  # the visitor's key
    ],
)
def test_js_without_server_or_with_visitor_key(scanner: Scanner, source: str) -> None:
    assert relays(scanner, {"server.ts": source}) == []


REVERSE_PROXY = """
const express = require("express");
const { createProxyMiddleware } = require("http-proxy-middleware");
const app = express();
const KEY = process.env.OPENAI_API_KEY;
const TARGET = "https://api.openai.com";
app.use((req, res, next) => { req.body.model = req.body.model || "o3-mini"; next(); });
app.use(
  "/v1",
  createProxyMiddleware({
    target: TARGET,
    changeOrigin: true,
    on: { proxyReq: (proxyReq) => proxyReq.setHeader("Authorization", `Bearer ${KEY}`) },
  })
);
app.listen(7860);
"""


WORKER_RELAY = """
import os
import httpx
from fastapi import FastAPI, Request

UPSTREAM = "https://orbit-relay.example-worker.workers.dev/v1"
KEY = os.environ["OPENAI_ADMIN_KEY"]
app = FastAPI()


@app.post("/v1/chat/completions")
async def chat(request: Request):
    body = await request.json()
    body.setdefault("model", "o3-mini")
    async with httpx.AsyncClient() as client:
        r = await client.post(f"{UPSTREAM}/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"})
    return r.json()
"""


def test_openai_style_call_to_an_unknown_host_with_the_apps_key() -> None:
    relay = one(Scanner(), "app.py", WORKER_RELAY)
    assert (relay.provider, relay.endpoint, relay.credential_source) == (
        "openai-compatible", "orbit-relay.example-worker.workers.dev/v1/chat/completions", "env")
    assert relays(Scanner(), {"app.py": WORKER_RELAY.replace("/chat/completions\"", "/status\"")}) == []


def test_reverse_proxy_middleware_adding_the_apps_key(scanner: Scanner) -> None:
    relay = one(scanner, "server.js", REVERSE_PROXY)
    assert (relay.provider, relay.endpoint, relay.models, relay.restricted, relay.line, relay.credential_source) == (
        "openai", "api.openai.com/v1", ["o3-mini"], False, 10, "env")


def test_reverse_proxy_forwarding_the_visitors_key_is_not_a_relay(scanner: Scanner) -> None:
    forwarded = REVERSE_PROXY.replace("`Bearer ${KEY}`", "req.headers.authorization")
    assert relays(scanner, {"server.js": forwarded}) == []


def test_nextjs_route_with_vercel_ai_sdk(scanner: Scanner) -> None:
    finding = one(scanner, "app/api/chat/route.ts", """
        import { openai } from "@ai-sdk/openai";
        import { streamText } from "ai";
        export async function POST(req: Request) {
          const { messages } = await req.json();
          const result = streamText({ model: openai("gpt-4o-mini"), messages });
          return result.toDataStreamResponse();
        }
    """)
    assert (finding.interface, finding.endpoint, finding.models) == (
        "nextjs", "api.openai.com/v1/chat/completions", ["gpt-4o-mini"])


def test_notebook_relay_reported_at_raw_line(scanner: Scanner) -> None:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Demo\n"]},
        {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [],
         "source": ["!pip install gradio openai\n", "import os, gradio as gr\n", "from openai import OpenAI\n",
                    "client = OpenAI(api_key=os.environ['OPENAI_API_KEY'])\n"]},
        {"cell_type": "code", "metadata": {}, "execution_count": 2, "outputs": [],
         "source": ["def f(x):\n", "    return client.chat.completions.create(model='o1-preview', messages=[])\n",
                    "gr.Interface(f, 'text', 'text').launch(share=True)\n"]},
    ]
    raw = json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)
    finding = one(scanner, "demo.ipynb", raw)
    assert "client.chat.completions.create" in raw.splitlines()[(finding.line or 0) - 1]
    assert finding.restricted and finding.interface == "gradio"


@pytest.mark.parametrize("source", ["def broken(:\n", "x = 'unterminated\n", "\x00\x01", "import gradio\n" * 3])
def test_unparseable_or_irrelevant_code_yields_nothing(scanner: Scanner, source: str) -> None:
    assert relays(scanner, {"app.py": source}) == []


def test_pruning_skips_helpers_but_keeps_relays(scanner: Scanner) -> None:
    helpers = "".join(f"\n\ndef helper_{i}(items):\n    return [x.strip() for x in items]\n" for i in range(30))
    source = "import os, gradio as gr\nfrom openai import OpenAI\nclient = OpenAI()\n" + helpers + dedent("""

        def answer(q):
            return client.chat.completions.create(model="gpt-4o", messages=[])

        gr.Interface(answer, "text", "text")
    """)
    finding = one(scanner, "app.py", source)
    assert source.splitlines()[(finding.line or 0) - 1].strip().startswith("return client.chat")


def test_pruning_that_breaks_syntax_falls_back_to_the_full_module(scanner: Scanner) -> None:
    source = dedent('''
        import os, gradio as gr
        from openai import OpenAI
        client = OpenAI(api_key=os.environ["K"])

        def banner():
            return """
        A multi-line string whose lines sit at column 0
        """

        def answer(q):
            return client.chat.completions.create(model="gpt-4o", messages=[])

        gr.Interface(answer, "text", "text")
    ''')
    assert one(scanner, "app.py", source).line == 12
