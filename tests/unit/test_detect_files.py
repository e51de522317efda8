"""File handling: size cap, binary skip, encodings, notebooks at raw lines, config formats, and no
input that crashes the engine."""

from __future__ import annotations

import codecs
import json
import random
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.detect import Scanner, fakes, prefilter_engine
from services.detect.files import file_kind, notebook_code, to_utf8
from services.events import FindingKind


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner()


def _key(detector: str = "anthropic-api-key") -> str:
    return fakes.fake_key(detector, random.Random(detector))


def test_prefilter_runs_on_hyperscan() -> None:
    assert prefilter_engine() == "hyperscan"


def test_size_cap(scanner: Scanner) -> None:
    data = f"KEY={_key()}\n".encode() + b"#" * 2000
    assert Scanner(max_file_bytes=1000).scan_file("a.env", data, "t") == []
    assert len(Scanner(max_file_bytes=len(data)).scan_file("a.env", data, "t")) == 1


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("model.safetensors", f"KEY={_key()}".encode()),
        ("blob.dat", b"\x00\x01\x02" + f"KEY={_key()}".encode()),
        ("image.png", f"KEY={_key()}".encode()),
    ],
)
def test_binary_files_are_skipped(scanner: Scanner, path: str, data: bytes) -> None:
    assert scanner.scan_file(path, data, "t") == []


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: s.encode("utf-8"),
        lambda s: codecs.BOM_UTF8 + s.encode("utf-8"),
        lambda s: s.encode("utf-16"),
        lambda s: s.encode("cp1252"),
        lambda s: s.replace("\u2013", "-").replace("\u201c", "\xab").replace("\u201d", "\xbb").encode("latin-1"),
    ],
)
def test_encodings(scanner: Scanner, encode) -> None:  # type: ignore[no-untyped-def]
    key = _key()
    text = f"# caf\xe9 \u2013 \u201cquoted\u201d\nANTHROPIC_API_KEY = '{key}'\n"
    found = scanner.scan_file("app.py", encode(text), "t")
    assert [(f.detector, f.line, f.column) for f in found] == [("anthropic-api-key", 2, 22)]


def test_to_utf8_rejects_binary() -> None:
    assert to_utf8(b"abc\x00def") is None
    assert to_utf8(codecs.BOM_UTF16_LE + b"\x00\xd8") is None


@pytest.mark.parametrize(
    ("path", "kind"),
    [("app.py", "python"), ("n.ipynb", "notebook"), ("a/b/index.tsx", "js"), ("w.bin", "binary"),
     ("Dockerfile", "text"), (".env", "text"), ("x.yaml", "text"), ("C:\\x\\y.PY", "python")],
)
def test_file_kind(path: str, kind: str) -> None:
    assert file_kind(path) == kind


def _notebook(key: str) -> str:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Keys ] [ \"quoted\"\n", "text\n"]},
        {"cell_type": "code", "execution_count": 1, "metadata": {},
         "source": ["import os\n", f"os.environ['OPENAI_API_KEY'] = '{key}'\n"],
         "outputs": [{"output_type": "stream", "name": "stdout", "text": [f"using {key}\n"]}]},
    ]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)


def test_notebook_findings_at_raw_lines(scanner: Scanner) -> None:
    key = _key("openai-project-key")
    raw = _notebook(key)
    lines = raw.splitlines()
    found = [f for f in scanner.scan_file("keys.ipynb", raw.encode(), "t") if f.kind is FindingKind.CREDENTIAL]
    assert len(found) == 1  # one credential per file; the first sighting is in the code cell
    assert key in lines[(found[0].line or 0) - 1] and "os.environ" in lines[(found[0].line or 0) - 1]


def test_notebook_code_maps_every_line() -> None:
    raw = _notebook("k")
    code = notebook_code(raw)
    assert code is not None
    lines = raw.splitlines()
    for number, text in enumerate(code.source.splitlines(), start=1):
        if text:
            assert json.dumps(text + "\n")[1:-1] in lines[code.raw_line(number) - 1]
    assert notebook_code("{not json") is None
    assert notebook_code('{"cells": 3}') is None


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("config.yaml", "providers:\n  openai:\n    api_key: {key}\n"),
        ("config.json", '{{"providers": {{"openai": {{"api_key": "{key}"}}}}}}'),
        ("pyproject.toml", '[tool.app]\nopenai_key = "{key}"\n'),
        ("Dockerfile", "FROM python:3.11\nENV OPENAI_API_KEY={key}\n"),
        (".env.local", "OPENAI_API_KEY={key}\n"),
        ("docs/setup.md", "Run `export OPENAI_API_KEY={key}` first.\n"),
        ("k8s/secret.yml", "stringData:\n  OPENAI_API_KEY: \"{key}\"\n"),
        ("start.sh", "curl -H \"Authorization: Bearer {key}\" https://api.openai.com/v1/models\n"),
    ],
)
def test_config_and_docs_formats(scanner: Scanner, path: str, template: str) -> None:
    key = _key("openai-project-key")
    found = scanner.scan_file(path, template.format(key=key).encode(), "t")
    assert [f.detector for f in found if f.kind is FindingKind.CREDENTIAL] == ["openai-project-key"]


def test_thread_safety(scanner: Scanner) -> None:
    keys = [_key(d) for d in ("groq-api-key", "xai-api-key", "github-pat", "nvidia-api-key")]
    errors: list[str] = []

    def work(key: str) -> None:
        for _ in range(50):
            found = scanner.scan_file("a.py", f"x = '{key}'\n".encode() * 20, "t")
            if len(found) != 1:
                errors.append(key[:4])

    threads = [threading.Thread(target=work, args=(k,)) for k in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.binary(max_size=3000),
    path=st.sampled_from(["app.py", "nb.ipynb", "server.ts", ".env", "README.md", "x.json", "Dockerfile"]),
)
def test_no_bytes_crash_the_engine(scanner: Scanner, data: bytes, path: str) -> None:
    scanner.scan_file(path, data, "t")


_CODEY = st.lists(
    st.sampled_from([
        "import gradio as gr\n", "from openai import OpenAI\n", "client = OpenAI(", "api_key=", "os.environ[",
        "'K']", ")\n", "client.chat.completions.create(model=", "'gpt-4o'", "requests.post(", "f\"{B}/v1\"",
        "headers={'Authorization': f'Bearer {T}'}", "def f(x", "):\n    return ", "[", "]", "{", "}", "\"", "'",
        "fetch(`${U}`, {headers: {Authorization: process.env.K}})", "new OpenAI({", "https://1.2.3.4:11434",
        '{"cells": [{"cell_type": "code", "source": [', "\n", "    ", "\\", "#", "sk-proj-", "AIza", "hf_",
    ]),
    max_size=60,
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=_CODEY, path=st.sampled_from(["app.py", "server.js", "nb.ipynb", "app.tsx"]))
def test_no_code_like_input_crashes_the_engine(scanner: Scanner, source: str, path: str) -> None:
    scanner.scan_files([(path, source.encode()), ("README.md", b"---\nsdk: gradio\n---\n")], "t")


def test_pure_python_prefilter_matches_hyperscan(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.detect import prefilter

    patterns = [b"sk-proj-", b"hf_", rb"(?:api[_.\-]?key|token)[a-z_]{0,5}\s*=", b"https?://"]
    data = b"x = 1\napi_key = 'v'\nHF_token= hf_abc https://a.b sk-proj-1 SK-PROJ-2\n"
    fast = prefilter.Prefilter(patterns)
    monkeypatch.setattr(prefilter, "_hyperscan", None)
    slow = prefilter.Prefilter(patterns)
    assert (fast.engine, slow.engine) == ("hyperscan", "python")
    assert sorted(fast.scan(data)) == sorted(slow.scan(data))
