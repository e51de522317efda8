"""`exposurewatch crawl` from the command line: what a user sees when the bus or store URL is wrong."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from services.cli import app


@pytest.mark.parametrize(("args", "message"), [
    (["crawl", "spaces", "--bus", "memory://", "--store", "mongodb://x"], "unsupported store URL 'mongodb://x'"),
    (["crawl", "worker", "--bus", "amqp://x", "--store", "sqlite:///ew.db"], "unsupported bus URL 'amqp://x'"),
])
def test_a_bad_url_is_a_one_line_error_before_any_crawling(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {message}") and "Usage:" not in result.stderr
