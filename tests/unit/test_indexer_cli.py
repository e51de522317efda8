"""`exposurewatch index` and `index migrate` from the command line, on the embedded bus and store."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from services.cli import app


def test_index_runs_until_idle_and_reports_what_it_did(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["index", "--bus", "memory://", "--store", f"sqlite:///{tmp_path}/ew.db",
                                      "--exit-when-idle", "0.2"])
    assert result.exit_code == 0, result.output
    assert "indexed 0 event(s) in 0 batch(es)" in result.stdout


def test_index_rejects_an_unknown_store_scheme() -> None:
    result = CliRunner().invoke(app, ["index", "--bus", "memory://", "--store", "mongodb://x", "--exit-when-idle", "0"])
    assert result.exit_code == 2 and "unsupported store URL" in result.stderr


def test_migrate_refuses_sqlite_with_a_reason(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["index", "migrate", "--store", f"sqlite:///{tmp_path}/ew.db"])
    assert result.exit_code == 2 and "indices to migrate, not SQLite" in result.stderr


def test_index_rejects_an_unknown_bus_scheme(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["index", "--bus", "amqp://x", "--store", f"sqlite:///{tmp_path}/ew.db"])
    assert result.exit_code == 2 and "unsupported bus URL 'amqp://x'" in result.stderr
