"""Endpoint references: self-hosted model servers named in code become work for the prober."""

from __future__ import annotations

import pytest

from services.detect import Scanner
from services.detect.endpoints import classify
from services.events import FindingKind, Severity


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://34.12.5.6:11434/api/generate", ("http://34.12.5.6:11434", "ollama")),
        ("http://34.12.5.6:11434", ("http://34.12.5.6:11434", "ollama")),
        ("https://ollama.my-lab.dev:11434/api/chat", ("https://ollama.my-lab.dev:11434", "ollama")),
        ("https://abcd1234ef56.gradio.live/", ("https://abcd1234ef56.gradio.live", "gradio")),
        ("https://3f2a-1-2-3-4.ngrok-free.app/v1/chat/completions",
         ("https://3f2a-1-2-3-4.ngrok-free.app/v1", "openai-compatible")),
        ("https://words-like-these.trycloudflare.com", ("https://words-like-these.trycloudflare.com", "unknown")),
        ("https://user:pw@8.8.4.4:8080/v1?key=abc#x", ("https://8.8.4.4:8080/v1", "openai-compatible")),
        ("http://[2606:4700::1111]:8000/v1/models", ("http://[2606:4700::1111]:8000/v1", "openai-compatible")),
        ("http://vllm.mylab.org:8000/v1", ("http://vllm.mylab.org:8000/v1", "openai-compatible")),
        ("http://51.15.1.2:7860/", ("http://51.15.1.2:7860", "gradio")),
        ("HTTP://51.15.1.2:80/run/predict", ("http://51.15.1.2", "unknown")),
        ("http://192.0.2.10:11434", ("http://192.0.2.10:11434", "ollama")),  # TEST-NET stands for public
        ("http://203.0.113.7:8000/v1", ("http://203.0.113.7:8000/v1", "openai-compatible")),
    ],
)
def test_self_hosted_endpoints(url: str, expected: tuple[str, str]) -> None:
    assert classify(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:11434",
        "http://localhost:11434/api/generate",
        "http://0.0.0.0:7860",
        "http://[::1]:8000/v1",
        "http://192.168.1.20:11434",
        "http://10.0.0.5:8000/v1",
        "http://172.16.4.4:11434",
        "http://169.254.169.254/latest/meta-data",
        "https://example.com/v1",
        "https://api.example.org/v1/chat/completions",
        "http://my-server:11434".replace("my-server", "your-server"),
        "https://api.openai.com/v1",
        "https://api.groq.com/openai/v1/chat/completions",
        "https://api.stripe.com/v1",
        "https://github.com/ollama/ollama",
        "https://huggingface.co/spaces/org/app",
        "https://org-app.hf.space/",
        "https://docs.vllm.ai/v1",
        "http://{HOST}:11434",
        "http://${OLLAMA_HOST}:11434",
        "https://%s:11434",
    ],
)
def test_not_endpoints(url: str) -> None:
    assert classify(url) is None


def test_endpoint_findings(scanner: Scanner) -> None:
    text = (
        'OLLAMA = "http://34.12.5.6:11434/api/generate"\n'
        "# same server again\n"
        'TAGS = "http://34.12.5.6:11434/api/tags"\n'
        'client = OpenAI(base_url="https://3f2a.ngrok-free.app/v1", api_key="EMPTY")\n'
        'LOCAL = "http://localhost:11434"\n'
    )
    found = [f for f in scanner.scan_file("app.py", text.encode(), "space:o/s")
             if f.kind is FindingKind.ENDPOINT_REFERENCE]
    assert [(f.line, f.column, f.endpoint, f.provider) for f in found] == [
        (1, 11, "http://34.12.5.6:11434", "ollama"),
        (4, 27, "https://3f2a.ngrok-free.app/v1", "openai-compatible"),
    ]
    assert all(f.severity is Severity.MEDIUM and f.detector == "endpoint-reference" for f in found)
    again = Scanner().scan_file("other.py", b"url='http://34.12.5.6:11434'", "space:x/y")
    assert again[0].fingerprint == found[0].fingerprint


def test_endpoints_in_markdown_and_notebook_outputs(scanner: Scanner) -> None:
    notebook = (
        '{"cells": [{"cell_type": "code", "source": ["demo.launch(share=True)"], "outputs": [\n'
        ' {"name": "stdout", "output_type": "stream", "text": [\n'
        '  "Running on public URL: https://0a1b2c3d4e5f.gradio.live\\n"]}]}], "nbformat": 4}\n'
    )
    found = scanner.scan_file("demo.ipynb", notebook.encode(), "t")
    assert [(f.line, f.endpoint) for f in found] == [(3, "https://0a1b2c3d4e5f.gradio.live")]
    markdown = scanner.scan_file("README.md", b"Try it at <https://0a1b2c3d4e5f.gradio.live>.\n", "t")
    assert [f.endpoint for f in markdown] == ["https://0a1b2c3d4e5f.gradio.live"]
