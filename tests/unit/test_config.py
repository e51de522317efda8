"""Settings: environment over TOML over defaults, and secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app
from services.config import Settings, mask_url


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("EXPOSUREWATCH_CONFIG", "EXPOSUREWATCH_STORE_URL", "EXPOSUREWATCH_BUS_URL", "HF_TOKEN",
                 "EXPOSUREWATCH_HF_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_are_the_embedded_one_process_setup() -> None:
    settings = Settings()
    assert settings.bus_url == "memory://"
    assert settings.store_url == "sqlite:///./exposurewatch.db"
    assert settings.topic_prefix == "exposurewatch"


def test_environment_overrides_toml_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    toml = tmp_path / "ew.toml"
    toml.write_text('bus_url = "kafka://10.0.0.1:9092"\ntopic_prefix = "fromfile"\n')
    monkeypatch.setenv("EXPOSUREWATCH_CONFIG", str(toml))
    monkeypatch.setenv("EXPOSUREWATCH_TOPIC_PREFIX", "fromenv")
    settings = Settings()
    assert settings.bus_url == "kafka://10.0.0.1:9092"
    assert settings.topic_prefix == "fromenv"


def test_local_toml_file_is_read_when_present(tmp_path: Path) -> None:
    (tmp_path / "exposurewatch.toml").write_text('index_prefix = "lab"\n')
    assert Settings().index_prefix == "lab"


def test_missing_named_config_file_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPOSUREWATCH_CONFIG", "/nowhere/ew.toml")
    result = CliRunner().invoke(app, ["config", "show"])
    assert result.exit_code == 2
    assert "does not name a file" in result.output


def test_hf_token_is_read_from_the_hub_variable_and_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_rawtokenvalue1234")
    monkeypatch.setenv("EXPOSUREWATCH_STORE_URL", "opensearch+https://admin:hunter2secret@search:9200")
    assert Settings().hf_token is not None
    result = CliRunner().invoke(app, ["config", "show", "--json"])
    assert result.exit_code == 0, result.output
    assert "hf_rawtokenvalue1234" not in result.output and "hunter2secret" not in result.output
    assert "opensearch+https://admin:****@search:9200" in result.output


def test_mask_url_leaves_urls_without_password_alone() -> None:
    assert mask_url("kafka://a:9092,b:9092") == "kafka://a:9092,b:9092"
    assert mask_url("elasticsearch+http://u:p@h") == "elasticsearch+http://u:****@h"
