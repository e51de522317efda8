"""Credential detectors: one true-positive table over every rule, a false-positive table, and the
guarantee that no raw secret reaches any output."""

from __future__ import annotations

import hashlib
import hmac
import logging
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.config import get_settings
from services.detect import Scanner, fakes
from services.detect.output import OutputFormat, describe, render
from services.detect.rules import RULES_BY_ID
from services.events import FindingKind

TEMPLATES = {
    "app.py": 'import os\n\n{name} = "{key}"\n',
    ".env": "# settings\n\n{name}={key}\n",
    "config.yaml": "service:\n  enabled: true\n{name}: {key}\n",
    "settings.json": '{{\n  "debug": false,\n  "{name}": "{key}"\n}}\n',
    "server.ts": 'import x from "y";\n\nconst {name} = "{key}";\n',
    "Dockerfile": "FROM python:3.11\n\nENV {name}={key}\n",
    "config.toml": "[service]\n\n{name} = '{key}'\n",
    "README.md": "# Demo\n\nexport {name}={key}\n",
}


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner()


def _credentials(scanner: Scanner, path: str, text: str) -> list:
    return [f for f in scanner.scan_file(path, text.encode(), "space:t/t") if f.kind is FindingKind.CREDENTIAL]


@pytest.mark.parametrize("detector", fakes.DETECTOR_IDS)
@pytest.mark.parametrize("path", list(TEMPLATES))
def test_every_detector_finds_its_format_in_every_file_type(scanner: Scanner, detector: str, path: str) -> None:
    key = fakes.fake_key(detector, random.Random(f"{detector}{path}"))
    text = TEMPLATES[path].format(name=fakes.variable_name(detector), key=key)
    found = _credentials(scanner, path, text)
    assert [f.detector for f in found] == [detector]
    finding = found[0]
    expected_provider = RULES_BY_ID[detector].provider if detector in RULES_BY_ID else "generic"
    assert finding.provider == expected_provider
    assert finding.line == 3
    line = text.splitlines()[2]
    assert finding.column == line.index(key) + 1
    assert finding.redacted is not None and finding.redacted.endswith(key[-4:]) and key not in finding.redacted
    assert finding.fingerprint == hmac.new(
        get_settings().fingerprint_key.get_secret_value().encode(), key.encode(), hashlib.sha256
    ).hexdigest()


PREFIXED = [d for d in fakes.DETECTOR_IDS if d in RULES_BY_ID and RULES_BY_ID[d].context is None]


@pytest.mark.parametrize("detector", PREFIXED)
def test_prefixed_formats_need_no_context(scanner: Scanner, detector: str) -> None:
    key = fakes.fake_key(detector, random.Random(detector))
    found = _credentials(scanner, "notes.txt", f"saw this in the logs: {key} then it stopped\n")
    assert [f.detector for f in found] == [detector]


CONTEXT_ONLY = [d for d in fakes.DETECTOR_IDS if d in RULES_BY_ID and RULES_BY_ID[d].context is not None]


@pytest.mark.parametrize("detector", CONTEXT_ONLY)
def test_bare_formats_without_context_are_not_attributed(scanner: Scanner, detector: str) -> None:
    key = fakes.fake_key(detector, random.Random(detector))
    found = _credentials(scanner, "app.py", f'value = "{key}"\n')
    assert all(f.detector == "generic-secret-assignment" or f.provider != RULES_BY_ID[detector].provider
               for f in found)
    assert not any(f.detector == detector for f in found)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("app.py", 'client = Mistral(\n    api_key="{k32}",\n)\n'),
        ("app.py", 'MISTRAL_KEY = "{k32}"\n'),
        ("app.py", 'headers = {{"Authorization": "Bearer {k32}"}}\nurl = "https://api.mistral.ai/v1/chat/completions"\n'),
        ("config.yaml", "mistral:\n  api_key: {k32}\n"),
    ],
)
def test_context_from_client_class_name_or_base_url(scanner: Scanner, path: str, text: str) -> None:
    key = fakes.fake_key("mistral-api-key", random.Random(text))
    found = _credentials(scanner, path, text.format(k32=key))
    assert [f.detector for f in found] == ["mistral-api-key"]


def test_unrelated_assignment_next_to_a_provider_key_stays_generic(scanner: Scanner) -> None:
    rng = random.Random(7)
    first, second = fakes.fake_key("mistral-api-key", rng), fakes.fake_key("mistral-api-key", rng)
    text = f'api_key = "{first}"\n\nMISTRAL_API_KEY = "{second}"\n'
    assert [(f.line, f.detector) for f in _credentials(scanner, "app.py", text)] == [
        (3, "mistral-api-key"),
        (1, "generic-secret-assignment"),
    ]


_RNG = random.Random(1234)
_HEX40 = fakes.random_string(_RNG, fakes.HEX, 40)
_HEX64 = fakes.random_string(_RNG, fakes.HEX, 64)
_HEX32 = fakes.random_string(_RNG, fakes.HEX, 32)
_ALNUM32 = fakes.random_string(_RNG, fakes.ALNUM, 32)
_UUID = "3f0e5c3a-9d1b-4c7e-8a2f-6b5d4e3c2a10"

NOT_SECRETS = [
    'OPENAI_API_KEY = "sk-..."',
    'OPENAI_API_KEY = "sk-proj-..."',
    'OPENAI_API_KEY = "sk-proj-' + "x" * 150 + '"',
    'api_key = "YOUR_API_KEY_HERE"',
    'api_key = "<your key>"',
    'api_key = "your-openai-api-key-goes-here"',
    "ANTHROPIC_API_KEY=sk-ant-api03-" + "X" * 93 + "AA",
    'api_key = os.getenv("OPENAI_API_KEY")',
    'api_key = os.environ["OPENAI_API_KEY"]',
    "OPENAI_API_KEY: ${OPENAI_API_KEY}",
    "token: ${{ secrets.HF_TOKEN }}",
    "HF_TOKEN: {{ hf_token }}",
    "apiKey: process.env.OPENAI_API_KEY,",
    "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    'password = "aaaaaaaaaaaaaaaaaaaaaaaaaaaa"',
    'secret_key = "abcdefghijklmnopqrstuvwxyz123456"',
    f'sha256 = "{_HEX64}"',
    f'commit = "{_HEX40}"',
    f'revision = "{_HEX40}"  # mistralai/Mistral-7B-Instruct-v0.2',
    f'model_id = "{_UUID}"',
    f'checksum: {_HEX32}',
    f'etag = "{_HEX32}"',
    'OPENAI_API_KEY = "sk-proj-...Ab3x"',
    'api_key = "sk-...abcd"',
    'api_key = "****************************"',
    f'value = "{_ALNUM32}"',
    'model = "mistralai/Mistral-7B-Instruct-v0.2"',
    'path = hf_hub_download(repo_id="org/model", filename="model.safetensors")',
    "max_tokens = 4096",
    'token_count = "1234567890123456"',
    'secret_name = "OPENAI_API_KEY_FOR_PRODUCTION"',
    'key_file = "/etc/ssl/private/server-2024.key"',
    'token_url = "https://oauth2.googleapis.com/token"',
    'API_KEY = "EMPTY"',
    'tokenizer = "meta-llama/Llama-3.1-8B-Instruct"',
    'api_version = "2024-02-15-preview"',
    f'together = "{_HEX64}"  # we went together to get this hash',
]


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_not_a_secret(scanner: Scanner, text: str) -> None:
    for path in ("app.py", ".env", "config.yaml"):
        assert _credentials(scanner, path, text + "\n") == [], path


def test_generic_detector_finds_unknown_provider_secrets(scanner: Scanner) -> None:
    rng = random.Random(99)
    value = fakes.random_string(rng, fakes.ALNUM, 28)
    bearer = fakes.random_string(rng, fakes.ALNUM, 40)
    text = f'CUSTOM_SERVICE_SECRET = "{value}"\nheaders = {{"Authorization": "Bearer {bearer}"}}\n'
    found = _credentials(scanner, "app.py", text)
    assert [(f.detector, f.provider, f.line) for f in found] == [
        ("generic-secret-assignment", "generic", 1),
        ("generic-bearer-token", "generic", 2),
    ]


def test_same_key_in_two_spaces_is_one_credential(scanner: Scanner) -> None:
    key = fakes.fake_key("groq-api-key", random.Random(5))
    first = Scanner().scan_file("app.py", f'k = "{key}"'.encode(), "space:a/one")
    second = scanner.scan_file("src/llm.py", f"GROQ={key}".encode(), "space:b/two")
    assert first[0].fingerprint == second[0].fingerprint
    assert first[0].id != second[0].id


def test_fingerprint_key_changes_fingerprints() -> None:
    key = fakes.fake_key("groq-api-key", random.Random(6))
    a = Scanner(fingerprint_key="one").scan_file("a.py", key.encode(), "t")[0]
    b = Scanner(fingerprint_key=b"two").scan_file("a.py", key.encode(), "t")[0]
    assert a.fingerprint != b.fingerprint


def test_one_finding_per_secret_per_file(scanner: Scanner) -> None:
    key = fakes.fake_key("groq-api-key", random.Random(8))
    found = scanner.scan_file("a.py", f"a = '{key}'\nb = '{key}'\n".encode(), "t")
    assert [f.line for f in found] == [1]


_SURROUNDING = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=120)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    detector=st.sampled_from(fakes.DETECTOR_IDS),
    seed=st.integers(0, 2**32),
    before=_SURROUNDING,
    after=_SURROUNDING,
    path=st.sampled_from(["app.py", ".env", "index.ts", "notes.md", "nb.ipynb", "cfg.yaml"]),
)
def test_no_raw_secret_reaches_any_output(
    scanner: Scanner, caplog: pytest.LogCaptureFixture, detector: str, seed: int, before: str, after: str, path: str
) -> None:
    key = fakes.fake_key(detector, random.Random(seed))
    text = f"{before}\n{fakes.variable_name(detector)} = '{key}'\n{after}"
    with caplog.at_level(logging.DEBUG):
        findings = scanner.scan_file(path, text.encode(), "space:t/t")
    outputs = [render(findings, fmt) for fmt in OutputFormat]
    outputs += [describe(f) for f in findings] + [repr(findings), str(findings), caplog.text]
    for output in outputs:
        assert key not in output
