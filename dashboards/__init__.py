"""Grafana dashboards as code: ``build`` generates ``generated/*.json`` (needs the dev extra's
grafana-foundation-sdk), ``push`` uploads them, ``provisioning/`` lets Grafana load them from files."""

from pathlib import Path

GENERATED = Path(__file__).resolve().parent / "generated"
