"""``exposurewatch scan``: formats, exit codes, paths, watchlist option and SARIF 2.1.0 validity."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import jsonschema
import pytest
import typer
from typer.testing import CliRunner

from services.detect import fakes
from services.detect.cli import scan

DATA = Path(__file__).resolve().parents[1] / "data"
SARIF_SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())

app = typer.Typer()
app.command()(scan)
runner = CliRunner()


@pytest.fixture
def space(tmp_path: Path) -> tuple[Path, str]:
    """A Space with a leaked key, the Sora relay and a tunnel URL."""
    root = tmp_path / "space"
    shutil.copytree(DATA / "detect" / "sora_relay", root)
    key = fakes.fake_key("anthropic-api-key", random.Random(11))
    (root / "src").mkdir()
    (root / "src" / "settings.env").write_text(f"ANTHROPIC_API_KEY={key}\nBACKEND=https://a1b2.trycloudflare.com\n")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text(f"token = {key}\n")
    return root, key


def _rows(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_jsonl(space: tuple[Path, str]) -> None:
    root, key = space
    result = runner.invoke(app, [str(root), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    assert key not in result.output
    rows = _rows(result.stdout)
    by_kind = {row["kind"]: row for row in rows}
    assert sorted(by_kind) == ["credential", "endpoint_reference", "model_proxy"]
    for row in rows:
        assert {"kind", "provider", "path", "line", "fingerprint", "redacted", "severity", "detector"} <= row.keys()
        assert row["asset_id"] == f"path:{root}"
    credential = by_kind["credential"]
    assert (credential["path"], credential["line"], credential["provider"]) == (
        str(root / "src" / "settings.env"), 1, "anthropic")
    assert credential["redacted"].startswith("sk-ant-api03-…")
    proxy = by_kind["model_proxy"]
    assert (proxy["path"], proxy["models"], proxy["restricted"], proxy["endpoint"]) == (
        str(root / "app.py"), ["sora-alpha-turbo"], True, "api.openai.com/v1/video/generations")
    assert by_kind["endpoint_reference"]["endpoint"] == "https://a1b2.trycloudflare.com"


def test_single_file_path_is_reported_as_given(space: tuple[Path, str]) -> None:
    root, _ = space
    result = runner.invoke(app, [str(root / "src" / "settings.env"), "-f", "jsonl"])
    assert [r["path"] for r in _rows(result.stdout)] == [str(root / "src" / "settings.env")] * 2


def test_json_and_table(space: tuple[Path, str]) -> None:
    root, key = space
    as_json = runner.invoke(app, [str(root), "--format", "json"])
    assert as_json.exit_code == 0 and len(json.loads(as_json.stdout)) == 3
    table = runner.invoke(app, [str(root)])
    assert table.exit_code == 0 and key not in table.stdout
    assert "RESTRICTED openai relay" in table.stdout and "3 finding(s)" in table.stdout
    empty = runner.invoke(app, [str(root / "requirements.txt")])
    assert empty.exit_code == 0 and "No findings." in empty.stdout


def test_sarif_is_valid_2_1_0(space: tuple[Path, str]) -> None:
    root, key = space
    result = runner.invoke(app, [str(root), "--format", "sarif"])
    assert result.exit_code == 0 and key not in result.stdout
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    run = log["runs"][0]
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == {
        "anthropic-api-key", "model-proxy", "endpoint-reference"}
    for result_ in run["results"]:
        assert run["tool"]["driver"]["rules"][result_["ruleIndex"]]["id"] == result_["ruleId"]
        assert result_["partialFingerprints"]["exposurewatch/v1"]
    empty = json.loads(runner.invoke(app, [str(root / "requirements.txt"), "-f", "sarif"]).stdout)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(empty)


def test_fail_flag_exit_codes(space: tuple[Path, str]) -> None:
    root, _ = space
    assert runner.invoke(app, [str(root), "--fail", "-f", "jsonl"]).exit_code == 1
    assert runner.invoke(app, [str(root / "requirements.txt"), "--fail"]).exit_code == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["/no/such/path"], "no such file or directory"),
        (["{root}", "--format", "xml"], "xml"),
        (["{root}", "--watchlist", "/no/such/watchlist.txt"], "cannot read watchlist"),
        (["{root}", "--watchlist", "{bad}"], "is not a glob pattern"),
        ([], "Missing argument"),
    ],
)
def test_usage_errors_exit_2(space: tuple[Path, str], tmp_path: Path, arguments: list[str], message: str) -> None:
    root, _ = space
    bad = tmp_path / "bad.txt"
    bad.write_text("sora*\ngpt 4o\n")
    result = runner.invoke(app, [a.format(root=root, bad=bad) for a in arguments])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_watchlist_option_replaces_the_default(space: tuple[Path, str], tmp_path: Path) -> None:
    root, _ = space
    (root / "app.py").write_text((root / "app.py").read_text().replace("/video/generations", "/videos"))
    watchlist = tmp_path / "watch.txt"
    watchlist.write_text("# only this\nclaude-*\n")
    default = [r for r in _rows(runner.invoke(app, [str(root), "-f", "jsonl"]).stdout) if r["kind"] == "model_proxy"]
    custom = [r for r in _rows(runner.invoke(app, [str(root), "-f", "jsonl", "--watchlist", str(watchlist)]).stdout)
              if r["kind"] == "model_proxy"]
    assert [r["restricted"] for r in default] == [True]
    assert [r["restricted"] for r in custom] == [False]


def test_max_file_bytes_and_several_paths(space: tuple[Path, str], tmp_path: Path) -> None:
    root, _ = space
    other = tmp_path / "other.py"
    other.write_text(f"GROQ = '{fakes.fake_key('groq-api-key', random.Random(2))}'\n")
    rows = _rows(runner.invoke(app, [str(root), str(other), "-f", "jsonl", "--max-file-bytes", "200"]).stdout)
    assert sorted({(r["asset_id"], r["kind"]) for r in rows}) == [
        (f"path:{other}", "credential"), (f"path:{root}", "credential"), (f"path:{root}", "endpoint_reference")]


def test_parallel_and_sequential_scans_agree(tmp_path: Path) -> None:
    rng = random.Random(21)
    for index in range(70):
        detector = fakes.DETECTOR_IDS[index % len(fakes.DETECTOR_IDS)]
        (tmp_path / f"f{index:02d}.py").write_text(
            f"# file {index}\n{fakes.variable_name(detector)} = '{fakes.fake_key(detector, rng)}'\n")
    (tmp_path / "app.py").write_text((DATA / "detect" / "sora_relay" / "app.py").read_text())

    def stable(output: str) -> list[tuple[str, str, int | None]]:
        return sorted((r["id"], r["path"], r["line"]) for r in _rows(output))

    parallel = runner.invoke(app, [str(tmp_path), "-f", "jsonl", "--jobs", "2"])
    sequential = runner.invoke(app, [str(tmp_path), "-f", "jsonl", "--jobs", "1"])
    assert parallel.exit_code == sequential.exit_code == 0
    assert stable(parallel.stdout) == stable(sequential.stdout)
    assert len(stable(parallel.stdout)) == 71  # a key per file and the Sora relay


def test_no_secret_in_cli_output_or_errors(tmp_path: Path) -> None:
    keys = [fakes.fake_key(d, random.Random(d)) for d in fakes.DETECTOR_IDS]
    (tmp_path / "keys.env").write_text("".join(f"K{i}={k}\n" for i, k in enumerate(keys)))
    for output_format in ("table", "jsonl", "json", "sarif"):
        result = runner.invoke(app, [str(tmp_path), "-f", output_format, "--fail"])
        assert result.exit_code == 1
        text = result.output + repr(result.exception)
        assert not [k for k in keys if k in text]
