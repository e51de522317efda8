"""The embedded SQLite store against the shared store contract, plus what only SQLite has."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.store import Entity, Store, StoreError, open_store
from services.store.sqlite import SqliteStore
from tests.store_contract import CORPUS, StoreContract


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path}/ew.db")
    yield opened
    opened.close()


class TestSqliteStore(StoreContract):
    pass


def test_open_store_rejects_unknown_and_malformed_urls() -> None:
    with pytest.raises(ValueError, match="unsupported store URL"):
        open_store("mongodb://x")
    with pytest.raises(ValueError, match="sqlite:///"):
        open_store("sqlite://relative.db")


def test_unwritable_path_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises((StoreError, OSError)):
        SqliteStore(str(blocker / "sub" / "ew.db"))


def test_data_survives_reopening(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ew.db"
    first = open_store(url)
    first.upsert(CORPUS)
    first.close()
    assert open_store(url).get(Entity.FINDINGS, CORPUS[0].id) is not None
