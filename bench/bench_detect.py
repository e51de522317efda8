"""Detection benchmark: exposurewatch against gitleaks, detect-secrets and CredSweeper.

Builds a seeded corpus of realistic Hugging Face Space files (Gradio/Streamlit/FastAPI apps,
helpers, notebooks with outputs, READMEs, configs, requirements with hashes, Express servers)
with planted credentials and decoys (placeholders, environment references, documented
example keys, hashes, commit ids, UUIDs, base64 images, redacted keys, dummy local keys), runs
every tool with its default rules on the same directory, and prints MB/s, precision, recall
and F1 side by side. A reported location counts as a true positive when its file and line hold
a planted credential; each tool's reports are deduplicated by file and line.

    pip install -e '.[dev,bench]'
    go install github.com/zricethezav/gitleaks/v8@v8.30.1
    python bench/bench_detect.py            # --spaces, --seed, --tools, --repeat, --keep DIR
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from services.detect import fakes

# ---------------------------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------------------------

_WORD_TEXT = (
    "model prompt image video audio text token stream chat answer question context embedding vector "
    "index search result score batch sample dataset split train eval metric loss epoch step config "
    "history message user assistant system output input file path cache device memory queue worker "
    "style theme button slider gallery upload download preview caption label value default option"
)
WORDS = _WORD_TEXT.split()
_VERB_TEXT = "load build run make get fetch parse format render clean merge split score rank embed encode decode"
VERBS = _VERB_TEXT.split()
_PROSE_TEXT = (
    "This Space demonstrates how to build a small interactive demo on top of an open model. "
    "Type a prompt, pick a few options and press the button to see the result. "
    "The app keeps a short history so that follow-up questions have context. "
    "Results are cached for a few minutes to keep the queue short during busy hours. "
    "If you duplicate this Space, add your own credentials under Settings, Variables and secrets. "
    "Please open a discussion if something breaks or if you have an idea for a new feature. "
    "The model card lists the limitations and the data the model was trained on. "
)
PROSE = _PROSE_TEXT.split(". ")
MODELS = [
    "gpt-4o-mini",
    "gpt-4o",
    "claude-3-5-sonnet-20241022",
    "gemini-1.5-flash",
    "llama-3.1-8b-instant",
    "mistral-large-latest",
    "command-r-plus",
    "meta-llama/Llama-3.1-8B-Instruct",
]


@dataclass
class Corpus:
    root: Path
    truth: set[tuple[str, int]] = field(default_factory=set)
    files: int = 0
    bytes: int = 0
    planted_by_detector: dict[str, int] = field(default_factory=dict)


class _File:
    """Lines of one file being generated; ``plant`` records the line of a credential."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lines: list[str] = []
        self.planted: list[int] = []

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def plant(self, line: str) -> None:
        self.lines.append(line)
        self.planted.append(len(self.lines))


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _ident(rng: random.Random) -> str:
    return f"{rng.choice(VERBS)}_{rng.choice(WORDS)}"


def _python_filler(rng: random.Random, f: _File, functions: int) -> None:
    for _ in range(functions):
        name, a, b = _ident(rng), rng.choice(WORDS), rng.choice(WORDS)
        f.add(
            "",
            "",
            f"def {name}({a}, {b}=None, limit={rng.randint(1, 64)}):",
            f'    """{rng.choice(VERBS).capitalize()} the {a} for each {b}; used by the UI callbacks."""',
            f"    {b} = {b} or []",
            f"    result = [{a}.strip() for {a} in {b} if {a}][:limit]",
            f"    if len(result) > {rng.randint(2, 9)}:",
            f'        logger.debug("%s: %d items", "{name}", len(result))',
            f'    return {{"{a}": result, "count": len(result), "{rng.choice(WORDS)}": {rng.random():.3f}}}',
        )


def _decoy_python(rng: random.Random, f: _File) -> None:
    decoys = [
        lambda: f'MODEL_REVISION = "{_hex(rng, 40)}"  # pin the commit of the weights',
        lambda: f'WEIGHTS_SHA256 = "{_hex(rng, 64)}"',
        lambda: f'RUN_ID = "{_uuid(rng)}"',
        lambda: 'OPENAI_API_KEY = os.environ["OPENAI_API_KEY"]',
        lambda: 'HF_TOKEN = os.getenv("HF_TOKEN")',
        lambda: 'api_key = st.secrets["ANTHROPIC_API_KEY"]' if rng.random() < 0.5 else 'api_key = "YOUR_API_KEY"',
        lambda: 'client = OpenAI(base_url="http://localhost:8000/v1", api_key="EMPTY")',
        lambda: 'local = OpenAI(base_url="http://127.0.0.1:11434/v1", api_key="ollama")',
        lambda: f'CACHE_KEY = "{rng.choice(WORDS)}-{rng.choice(WORDS)}-v{rng.randint(1, 9)}"',
        lambda: f'print("Using key sk-proj-...{fakes.random_string(rng, fakes.ALNUM, 4)}")',
        lambda: f'snapshot = snapshot_download("org/{rng.choice(WORDS)}", revision="{_hex(rng, 40)}")',
        lambda: f"max_tokens = {rng.choice([256, 512, 1024, 4096])}",
        lambda: f'tokenizer_name = "meta-llama/Llama-3.{rng.randint(1, 3)}-8B-Instruct"',
        lambda: f'session_token_hash = hashlib.sha256(b"{rng.choice(WORDS)}").hexdigest()  # {_hex(rng, 64)}',
        lambda: 'aws_access_key_id = "AKIAIOSFODNN7EXAMPLE"  # from the AWS docs',
        lambda: f'etag = "{_hex(rng, 32)}"',
    ]
    for _ in range(rng.randint(2, 5)):
        f.add(rng.choice(decoys)())


# Planted credentials: (detector, how it appears in a Python file).
def _planted_python(rng: random.Random, detector: str, key: str) -> str:
    name = fakes.variable_name(detector)
    forms: dict[str, list[str]] = {
        "openai-project-key": [f'client = OpenAI(api_key="{key}")', f'os.environ["OPENAI_API_KEY"] = "{key}"'],
        "openai-legacy-key": [f'openai.api_key = "{key}"'],
        "anthropic-api-key": [f'client = anthropic.Anthropic(api_key="{key}")'],
        "google-api-key": [f'genai.configure(api_key="{key}")'],
        "huggingface-token": [f'login(token="{key}")', f'headers = {{"Authorization": "Bearer {key}"}}'],
        "groq-api-key": [f'client = Groq(api_key="{key}")'],
        "replicate-api-token": [f'os.environ["REPLICATE_API_TOKEN"] = "{key}"'],
        "mistral-api-key": [f'client = Mistral(api_key="{key}")', f'MISTRAL_API_KEY = "{key}"'],
        "cohere-api-key": [f'co = cohere.Client("{key}")', f'COHERE_API_KEY = "{key}"'],
        "generic-secret-assignment": [f'app.config["SECRET_KEY"] = "{key}"', f'DB_PASSWORD = "{key}"'],
    }
    return rng.choice(forms.get(detector, [f'{name} = "{key}"']))


PLANT_MIX = [  # weights: AI provider keys dominate what leaks from Spaces
    ("openai-project-key", 10),
    ("openai-legacy-key", 2),
    ("openai-service-account-key", 1),
    ("anthropic-api-key", 6),
    ("anthropic-oauth-token", 1),
    ("huggingface-token", 10),
    ("google-api-key", 6),
    ("groq-api-key", 4),
    ("replicate-api-token", 2),
    ("xai-api-key", 1),
    ("perplexity-api-key", 1),
    ("openrouter-api-key", 2),
    ("nvidia-api-key", 2),
    ("langsmith-api-key", 1),
    ("langfuse-secret-key", 1),
    ("elevenlabs-api-key", 2),
    ("deepseek-api-key", 2),
    ("mistral-api-key", 2),
    ("cohere-api-key", 2),
    ("together-api-key", 2),
    ("fireworks-api-key", 1),
    ("azure-openai-key", 2),
    ("stability-api-key", 1),
    ("pinecone-api-key", 1),
    ("wandb-legacy-key", 1),
    ("aws-access-key-id", 2),
    ("aws-secret-access-key", 2),
    ("github-pat", 2),
    ("github-fine-grained-pat", 1),
    ("generic-secret-assignment", 4),
]


def _pick_detector(rng: random.Random) -> str:
    return rng.choices([d for d, _ in PLANT_MIX], weights=[w for _, w in PLANT_MIX])[0]


def _app_py(rng: random.Random, leak: str | None, corpus: Corpus) -> _File:
    f = _File("app.py")
    ui = rng.choice(["gradio", "streamlit", "fastapi"])
    f.add("import os", "import json", "import logging", "import hashlib", "from pathlib import Path", "")
    f.add(
        {
            "gradio": "import gradio as gr",
            "streamlit": "import streamlit as st",
            "fastapi": "from fastapi import FastAPI",
        }[ui],
        "from openai import OpenAI",
        "",
        "logger = logging.getLogger(__name__)",
        f'MODEL = "{rng.choice(MODELS)}"',
        "",
    )
    _decoy_python(rng, f)
    _python_filler(rng, f, rng.randint(6, 18))
    if leak:
        key = fakes.fake_key(leak, rng)
        f.add("")
        f.plant(_planted_python(rng, leak, key))
        corpus.planted_by_detector[leak] = corpus.planted_by_detector.get(leak, 0) + 1
    else:
        f.add("", "client = OpenAI()  # reads OPENAI_API_KEY from the Space secrets")
    _python_filler(rng, f, rng.randint(4, 12))
    f.add(
        "",
        "",
        "def respond(message, history):",
        "    messages = [{'role': 'user', 'content': message}]",
        "    reply = client.chat.completions.create(model=MODEL, messages=messages)",
        "    return reply.choices[0].message.content",
        "",
    )
    if ui == "gradio":
        f.add("demo = gr.ChatInterface(respond, title='Demo')", "demo.queue().launch()")
    elif ui == "streamlit":
        f.add("prompt = st.chat_input('Ask')", "if prompt:", "    st.write(respond(prompt, []))")
    else:
        f.add(
            "app = FastAPI()",
            "",
            "@app.post('/chat')",
            "def chat(body: dict):",
            "    return {'answer': respond(body['message'], [])}",
        )
    return f


def _readme(rng: random.Random, leak: str | None, corpus: Corpus) -> _File:
    f = _File("README.md")
    f.add(
        "---",
        f"title: {rng.choice(WORDS).capitalize()} {rng.choice(WORDS).capitalize()}",
        "emoji: 🚀",
        f"sdk: {rng.choice(['gradio', 'streamlit', 'docker'])}",
        "app_file: app.py",
        "pinned: false",
        "license: apache-2.0",
        "---",
        "",
    )
    for _ in range(rng.randint(3, 8)):
        f.add(" ".join(rng.sample(PROSE, 3)).strip() + ".", "")
    f.add(
        "## Setup",
        "",
        "```bash",
        "export OPENAI_API_KEY=sk-...",
        "export HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxx",
        "pip install -r requirements.txt",
        "python app.py",
        "```",
        "",
        "Set `ANTHROPIC_API_KEY=<your-anthropic-key>` in the Space settings.",
        "",
    )
    if leak:
        key = fakes.fake_key(leak, rng)
        f.plant(f'Test it: `curl https://api.example.com/v1/run -H "Authorization: Bearer {key}"`')
        corpus.planted_by_detector[leak] = corpus.planted_by_detector.get(leak, 0) + 1
    f.add("", f"Model weights: `sha256:{_hex(rng, 64)}`", f"Dataset commit: {_hex(rng, 40)}", "")
    return f


def _requirements(rng: random.Random) -> _File:
    f = _File("requirements.txt")
    for package in rng.sample(
        [
            "gradio",
            "openai",
            "anthropic",
            "torch",
            "transformers",
            "numpy",
            "pandas",
            "requests",
            "httpx",
            "pillow",
            "accelerate",
            "huggingface_hub",
        ],
        6,
    ):
        f.add(f"{package}=={rng.randint(0, 5)}.{rng.randint(0, 40)}.{rng.randint(0, 9)} \\")
        f.add(f"    --hash=sha256:{_hex(rng, 64)}")
    return f


def _config(rng: random.Random, leak: str | None, corpus: Corpus) -> _File:
    f = _File("config.yaml")
    f.add(
        "model:",
        f"  name: {rng.choice(MODELS)}",
        f"  revision: {_hex(rng, 40)}",
        "  max_tokens: 1024",
        "providers:",
        "  openai:",
        "    api_key: ${OPENAI_API_KEY}",
        "  huggingface:",
        "    token: ${{ secrets.HF_TOKEN }}",
        f"run_id: {_uuid(rng)}",
        "cache:",
        f"  key: {rng.choice(WORDS)}-v2",
    )
    if leak:
        key = fakes.fake_key(leak, rng)
        f.add("  fallback:")
        f.plant(f"    {fakes.variable_name(leak).lower()}: {key}")
        corpus.planted_by_detector[leak] = corpus.planted_by_detector.get(leak, 0) + 1
    return f


def _env_example(rng: random.Random, leak: str | None, corpus: Corpus) -> _File:
    f = _File(".env.example" if not leak else ".env")
    f.add(
        "OPENAI_API_KEY=sk-your-key-here",
        "HF_TOKEN=",
        "ANTHROPIC_API_KEY=<replace-me>",
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        f"LOG_LEVEL={rng.choice(['INFO', 'DEBUG'])}",
    )
    if leak:
        key = fakes.fake_key(leak, rng)
        f.plant(f"{fakes.variable_name(leak)}={key}")
        corpus.planted_by_detector[leak] = corpus.planted_by_detector.get(leak, 0) + 1
    return f


def _notebook(rng: random.Random, leak: str | None, corpus: Corpus) -> _File:
    """A notebook as its raw JSON lines, with a base64 PNG output (high entropy, not a secret)."""
    f = _File(f"notebooks/{rng.choice(WORDS)}.ipynb")
    image = base64.b64encode(rng.randbytes(rng.randint(1500, 6000))).decode()
    f.add(
        "{",
        ' "cells": [',
        "  {",
        '   "cell_type": "code",',
        '   "execution_count": 1,',
        '   "metadata": {},',
        '   "outputs": [',
        "    {",
        '     "data": {',
        f'      "image/png": "{image}",',
        '      "text/plain": ["<Figure size 640x480 with 1 Axes>"]',
        "     },",
        '     "metadata": {},',
        '     "output_type": "display_data"',
        "    }",
        "   ],",
        '   "source": [',
        '    "import os\\n",',
    )
    if leak:
        key = fakes.fake_key(leak, rng)
        f.plant(f'    "os.environ[\\"{fakes.variable_name(leak)}\\"] = \\"{key}\\"\\n",')
        corpus.planted_by_detector[leak] = corpus.planted_by_detector.get(leak, 0) + 1
    f.add(
        '    "print(os.environ.get(\\"HF_TOKEN\\", \\"hf_****\\"))"',
        "   ]",
        "  }",
        " ],",
        ' "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},',
        ' "nbformat": 4,',
        ' "nbformat_minor": 5',
        "}",
    )
    return f


def _server_js(rng: random.Random, leak: str | None, corpus: Corpus) -> _File:
    f = _File("server.js")
    f.add(
        'const express = require("express");',
        'const OpenAI = require("openai");',
        "",
        'const integrity = "sha384-' + base64.b64encode(rng.randbytes(48)).decode() + '";',
    )
    if leak:
        key = fakes.fake_key(leak, rng)
        f.plant(f'const openai = new OpenAI({{ apiKey: "{key}" }});')
        corpus.planted_by_detector[leak] = corpus.planted_by_detector.get(leak, 0) + 1
    else:
        f.add("const openai = new OpenAI({ apiKey: process.env.OPENAI_API_KEY });")
    f.add("const app = express();", "app.use(express.json());", "")
    for _ in range(rng.randint(4, 12)):
        route = rng.choice(WORDS)
        f.add(
            f'app.post("/api/{route}", async (req, res) => {{',
            "  try {",
            f'    const r = await openai.chat.completions.create({{ model: "{rng.choice(MODELS)}", '
            "messages: req.body.messages });",
            "    res.json(r.choices[0].message);",
            "  } catch (e) {",
            "    res.status(500).json({ error: String(e) });",
            "  }",
            "});",
            "",
        )
    f.add(f"app.listen({rng.choice([3000, 7860, 8080])});")
    return f


def _dockerfile(rng: random.Random) -> _File:
    f = _File("Dockerfile")
    f.add(
        f"FROM python:3.{rng.randint(9, 12)}-slim",
        "WORKDIR /app",
        "COPY requirements.txt .",
        "RUN pip install --no-cache-dir -r requirements.txt",
        "COPY . .",
        "RUN --mount=type=secret,id=HF_TOKEN,mode=0444,required=true cat /run/secrets/HF_TOKEN > /dev/null",
        "ENV GRADIO_SERVER_NAME=0.0.0.0",
        'CMD ["python", "app.py"]',
    )
    return f


def build_corpus(root: Path, spaces: int, seed: int) -> Corpus:
    rng = random.Random(seed)
    corpus = Corpus(root)
    for index in range(spaces):
        space = root / f"space-{index:05d}"
        leaky = rng.random() < 0.35

        def leak(p: float, leaky: bool = leaky) -> str | None:
            return _pick_detector(rng) if leaky and rng.random() < p else None

        builders: list[Callable[[], _File]] = [
            lambda: _app_py(rng, leak(0.6), corpus),
            lambda: _readme(rng, leak(0.1), corpus),
            lambda: _requirements(rng),
            lambda: _config(rng, leak(0.2), corpus),
        ]
        if rng.random() < 0.5:
            builders.append(lambda: _env_example(rng, leak(0.3), corpus))
        if rng.random() < 0.3:
            builders.append(lambda: _notebook(rng, leak(0.4), corpus))
        if rng.random() < 0.2:
            builders.append(lambda: _server_js(rng, leak(0.4), corpus))
        if rng.random() < 0.4:
            builders.append(lambda: _dockerfile(rng))
        for build in builders:
            generated = build()
            path = space / generated.path
            path.parent.mkdir(parents=True, exist_ok=True)
            data = ("\n".join(generated.lines) + "\n").encode()
            path.write_bytes(data)
            corpus.files += 1
            corpus.bytes += len(data)
            relative = str(path.relative_to(root))
            corpus.truth.update((relative, line) for line in generated.planted)
    return corpus


# ---------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------


@dataclass
class Run:
    tool: str
    seconds: float
    reported: set[tuple[str, int]]
    error: str = ""


def _relative(root: Path, path: str) -> str:
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = (root / candidate).resolve()
    try:
        return str(candidate.resolve().relative_to(root.resolve()))
    except ValueError:
        return path


def _timed(command: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, check=False)
    return time.perf_counter() - start, done


def run_exposurewatch(root: Path, out: Path) -> Run:
    seconds, done = _timed([sys.executable, "-m", "services.detect", str(root), "--format", "jsonl"], Path.cwd())
    reported = set()
    for line in done.stdout.decode().splitlines():
        row = json.loads(line)
        if row["kind"] == "credential":
            reported.add((_relative(root, row["path"]), row["line"]))
    return Run("exposurewatch", seconds, reported, done.stderr.decode()[-300:] if done.returncode else "")


def gitleaks_binary() -> str | None:
    found = shutil.which("gitleaks")
    if found:
        return found
    try:
        gopath = subprocess.run(["go", "env", "GOPATH"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    candidate = Path(gopath) / "bin" / "gitleaks"
    return str(candidate) if candidate.exists() else None


def run_gitleaks(root: Path, out: Path) -> Run:
    binary = gitleaks_binary()
    if binary is None:
        return Run("gitleaks", 0.0, set(), "not installed (go install github.com/zricethezav/gitleaks/v8@v8.30.1)")
    report = out / "gitleaks.json"
    seconds, done = _timed(
        [
            binary,
            "dir",
            str(root),
            "--report-format",
            "json",
            "--report-path",
            str(report),
            "--no-banner",
            "--exit-code",
            "0",
            "--log-level",
            "error",
        ],
        root,
    )
    rows = json.loads(report.read_text()) if report.exists() else []
    reported = {(_relative(root, r["File"]), r["StartLine"]) for r in rows}
    return Run("gitleaks", seconds, reported, done.stderr.decode()[-300:] if done.returncode else "")


def run_detect_secrets(root: Path, out: Path) -> Run:
    executable = shutil.which("detect-secrets")
    if executable is None:
        return Run("detect-secrets", 0.0, set(), "not installed (pip install -e '.[bench]')")
    seconds, done = _timed([executable, "scan", "--all-files", "."], root)
    reported: set[tuple[str, int]] = set()
    if done.returncode == 0:
        for filename, secrets in json.loads(done.stdout)["results"].items():
            reported.update((_relative(root, filename), s["line_number"]) for s in secrets)
    return Run("detect-secrets", seconds, reported, done.stderr.decode()[-300:] if done.returncode else "")


def run_credsweeper(root: Path, out: Path) -> Run:
    executable = shutil.which("credsweeper")
    if executable is None:
        return Run("CredSweeper", 0.0, set(), "not installed (pip install -e '.[bench]')")
    report = out / "credsweeper.json"
    seconds, done = _timed([executable, "--path", str(root), "--save-json", str(report), "--no-stdout"], root)
    reported: set[tuple[str, int]] = set()
    if report.exists():
        for candidate in json.loads(report.read_text()):
            for line_data in candidate["line_data_list"]:
                reported.add((_relative(root, line_data["path"]), line_data["line_num"]))
    return Run("CredSweeper", seconds, reported, done.stderr.decode()[-300:] if done.returncode else "")


TOOLS: dict[str, Callable[[Path, Path], Run]] = {
    "exposurewatch": run_exposurewatch,
    "gitleaks": run_gitleaks,
    "detect-secrets": run_detect_secrets,
    "credsweeper": run_credsweeper,
}


def tool_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": sys.version.split()[0]}
    for package in ("exposurewatch", "detect-secrets", "credsweeper", "hyperscan"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    binary = gitleaks_binary()
    if binary:
        info = subprocess.run(["go", "version", "-m", binary], capture_output=True, text=True, check=False).stdout
        modules = [line.split() for line in info.splitlines() if line.strip().startswith("mod")]
        found["gitleaks"] = modules[0][2] if modules and len(modules[0]) > 2 else "unknown"
    return found


def score(run: Run, truth: set[tuple[str, int]]) -> tuple[float, float, float, int, int]:
    true_positives = len(run.reported & truth)
    precision = true_positives / len(run.reported) if run.reported else 0.0
    recall = true_positives / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, true_positives, len(run.reported) - true_positives


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spaces", type=int, default=1500, help="Spaces in the corpus (default 1500)")
    parser.add_argument("--seed", type=int, default=20241126)
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of " + ",".join(TOOLS))
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; the fastest is reported")
    parser.add_argument("--keep", type=Path, help="build the corpus here and keep it")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ew-bench-"))
    root = args.keep or work / "corpus"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    corpus = build_corpus(root, args.spaces, args.seed)
    megabytes = corpus.bytes / 1e6
    print("versions: " + ", ".join(f"{name} {version}" for name, version in tool_versions().items()))
    print(
        f"corpus: {args.spaces} spaces, {corpus.files} files, {megabytes:.1f} MB, "
        f"{len(corpus.truth)} planted credentials (seed {args.seed}), {os.cpu_count()} CPUs"
    )

    rows = []
    for name in args.tools.split(","):
        runs = [TOOLS[name](root, work) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r.seconds)
        precision, recall, f1, tp, fp = score(best, corpus.truth)
        rows.append(
            (
                best.tool,
                megabytes / best.seconds if best.seconds else 0.0,
                best.seconds,
                precision,
                recall,
                f1,
                tp,
                fp,
                best.error,
            )
        )
    print(f"\n{'tool':<15}{'MB/s':>9}{'seconds':>9}{'precision':>11}{'recall':>8}{'F1':>7}{'TP':>6}{'FP':>7}")
    for tool, speed, seconds, precision, recall, f1, tp, fp, error in rows:
        print(
            f"{tool:<15}{speed:>9.2f}{seconds:>9.2f}{precision:>11.3f}{recall:>8.3f}{f1:>7.3f}{tp:>6}{fp:>7}"
            + (f"  ! {error.strip().splitlines()[-1]}" if error else "")
        )
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
