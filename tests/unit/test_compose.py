"""docker-compose.yml parses, mounts files that exist, and runs commands the CLI has (no Docker engine here)."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.main import get_command

from services.cli import app

ROOT = Path(__file__).resolve().parents[2]


def test_compose_file_is_consistent_with_the_repository() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"kafka", "opensearch", "lister", "fetcher", "indexer", "prometheus", "grafana"} <= set(services)
    commands = set(get_command(app).commands)  # type: ignore[attr-defined]
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert (ROOT / source).exists(), f"{name} mounts missing {source}"
        if service.get("build") == ".":
            assert service["command"][0] in commands, f"{name} runs unknown command {service['command']}"
    assert (ROOT / "Dockerfile").exists()
