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
from tests.store_contract import CORPUS, finding


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


def test_table_folds_long_values_on_an_80_column_terminal_instead_of_cutting_them(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/long.db"
    store = open_store(url)
    store.upsert([finding(1, asset_id="space:a-rather-long-owner-name/an-even-longer-space-name-v2",
                          path="notebooks/experiments/demo.ipynb", line=1234)])
    store.close()
    result = CliRunner().invoke(app, ["search", "--store", url], env={"COLUMNS": "80"})
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if " space " in line)
    columns = lines[header]
    rows = [line for line in lines[header + 2:] if line.strip()]

    def cell(name: str, following: str) -> str:
        start, end = columns.index(name), columns.index(following)
        return "".join(line[start:end].strip() for line in rows)

    assert result.exit_code == 0 and max(map(len, lines)) <= 80
    assert cell("space", "file") == "a-rather-long-owner-name/an-even-longer-space-name-v2"
    assert cell("file", "redacted") == "notebooks/experiments/demo.ipynb:1234"


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


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


BIG = 12_000


@pytest.fixture(scope="module")
def big_store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """More findings than a search engine's default 10,000-hit result window."""
    url = f"sqlite:///{tmp_path_factory.mktemp('big')}/ew.db"
    store = open_store(url)
    store.upsert([finding(i, provider=("openai", "anthropic", "mistral")[i % 3]) for i in range(BIG)])
    store.close()
    return url


def test_all_streams_every_hit_past_ten_thousand(big_store_url: str) -> None:
    code, out, _ = invoke("search", "--store", big_store_url, "--all", "--format", "jsonl")
    rows = [orjson.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == BIG
    assert len({(r["space"], r["fingerprint"]) for r in rows}) == BIG


def test_export_writes_every_matching_hit_to_a_csv_file(big_store_url: str, tmp_path: Path) -> None:
    target = tmp_path / "openai.csv"
    code, _, err = invoke("search", "provider:openai", "--store", big_store_url, "--export", str(target))
    rows = list(csv.DictReader(target.open()))
    assert code == 0 and len(rows) == BIG // 3 and {r["provider"] for r in rows} == {"openai"}
    assert f"wrote {BIG // 3} finding(s)" in err


def test_failed_export_leaves_no_file(big_store_url: str, tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    code, _, err = invoke("search", "provider:(openai", "--store", big_store_url, "--export", str(target))
    assert code == 2 and "cannot parse query" in err
    assert list(tmp_path.iterdir()) == []


def test_table_prints_a_cursor_that_continues_where_the_page_ended(store_url: str) -> None:
    _, out, _ = invoke("search", "--store", store_url, "--format", "jsonl", "--sort", "id", "--limit", "20")
    first_twenty = [orjson.loads(line)["fingerprint"] for line in out.splitlines()]
    code, table, _ = invoke("search", "--store", store_url, "--sort", "id", "--limit", "10")
    cursor = table.split("next page: --after '", 1)[1].split("'", 1)[0]
    code2, rest, _ = invoke("search", "--store", store_url, "--format", "jsonl", "--sort", "id", "--limit", "10",
                            "--after", cursor)
    assert (code, code2) == (0, 0)
    assert [orjson.loads(line)["fingerprint"] for line in rest.splitlines()] == first_twenty[10:]


def test_several_sort_keys_apply_in_order(store_url: str) -> None:
    code, out, _ = invoke("search", "--store", store_url, "--format", "jsonl", "--limit", "100",
                          "--sort", "-severity_rank,provider,-first_seen")
    rows = [orjson.loads(line) for line in out.splitlines()]
    rank = {"low": 1, "high": 4, "critical": 5}
    keys = [(-rank[r["severity"]], r["provider"]) for r in rows]
    assert code == 0 and len(rows) == len(CORPUS) and keys == sorted(keys)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--all"], "write jsonl or csv"),
        (["--after", "not-json"], "not the JSON array"),
        (["--sort", ","], "names no field"),
    ],
)
def test_bad_paging_options_exit_2_with_a_reason(store_url: str, args: list[str], message: str) -> None:
    code, _, err = invoke("search", "--store", store_url, *args)
    assert code == 2 and message in err


def test_stats_json_counts_by_field_and_day(store_url: str) -> None:
    code, out, _ = invoke("stats", "--store", store_url, "--format", "json")
    counted = orjson.loads(out)
    assert code == 0 and counted["total"] == len(CORPUS)
    assert counted["by_provider"] == {"openai": 13, "anthropic": 8, "huggingface": 5}
    assert counted["by_severity"] == {"high": 12, "critical": 9, "low": 5}
    assert sum(counted["by_day"].values()) == len(CORPUS)


def test_stats_table_follows_query_and_filters(store_url: str) -> None:
    code, out, _ = invoke("stats", "provider:openai", "--severity", "critical", "--store", store_url)
    assert code == 0 and "1 finding(s)" in out and "model_proxy" in out


def test_stats_bad_query_exits_2(store_url: str) -> None:
    code, _, err = invoke("stats", "severity:(high", "--store", store_url)
    assert code == 2 and "cannot parse query" in err
