"""End-to-end tests run the real product as subprocesses against the real Kafka, OpenSearch and Prometheus.

They need the same servers as the integration tests, so they reuse its session fixture and marker
(`-m "not integration"` skips them too).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import stack

__all__ = ["stack"]

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)
