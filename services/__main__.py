"""``python -m services`` runs the CLI, for environments without the console script on PATH."""

from services.cli import app

app()
