"""``python -m services.detect PATH...``: the scan command without the rest of the CLI."""

import typer

from services.detect.cli import scan

typer.run(scan)
