"""`exposurewatch search` over the SQLite store: formats, filters, paging and clear errors."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from services.cli import app
from services.store import open_store
from tests.store_contract import CORPUS


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/ew.db"
    store = open_store(url)
    store.upsert(CORPUS)
    store.close()
    return url


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["search", *args])
    return result.exit_code, result.output


def test_jsonl_has_scan_fields_plus_space(store_url: str) -> None:
    code, out = run("provider:anthropic", "--store", store_url, "--format", "jsonl", "--limit", "100")
    rows = [orjson.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 8
    assert {"kind", "provider", "path", "line", "fingerprint", "redacted", "severity", "detector",
            "space"} <= set(rows[0])
    assert rows[0]["space"].startswith("owner")


def test_limit_pages_past_one_request_and_filters_apply(store_url: str) -> None:
    code, out = run("--store", store_url, "--format", "jsonl", "--limit", "25", "--severity", "high",
                    "--severity", "low")
    assert code == 0 and len(out.splitlines()) == 17


def test_csv_output_parses(store_url: str) -> None:
    code, out = run("restricted:true", "--store", store_url, "--format", "csv")
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and row["models"] == "sora-turbo" and row["kind"] == "model_proxy"


def test_table_output_names_the_total(store_url: str) -> None:
    code, out = run("--store", store_url, "--limit", "3")
    assert code == 0 and f"{len(CORPUS)} finding(s)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["provider:(openai"], "cannot parse query"),
        (["--sort", "password"], "cannot sort"),
        (["nosuchfield:x"], "unknown field"),
    ],
)
def test_bad_queries_exit_2_with_a_reason(store_url: str, args: list[str], message: str) -> None:
    code, out = run(*args, "--store", store_url)
    assert code == 2 and message in out


def test_unknown_store_scheme_exits_2() -> None:
    code, out = run("--store", "mysql://x")
    assert code == 2 and "unsupported store URL" in out
