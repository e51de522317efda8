"""`exposurewatch hubsim`: run the Hub simulator in the foreground."""

from __future__ import annotations

from typing import Annotated

import typer

from services.hubsim.server import HubSimulator, RateLimitConfig


def hubsim(
    spaces: Annotated[int, typer.Option(help="Number of synthetic Spaces in the world.")] = 10_000,
    seed: Annotated[int, typer.Option(help="World seed: the same seed and size give the same world.")] = 1,
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 7860,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    rate_limit: Annotated[
        int, typer.Option(help="API requests allowed per client and window (0: unlimited); the Hub allows 500.")
    ] = 0,
    resolver_rate_limit: Annotated[
        int, typer.Option(help="File downloads allowed per client and window (0: unlimited); the Hub allows 3000.")
    ] = 0,
    rate_window: Annotated[int, typer.Option(help="Rate-limit window in seconds (the Hub uses 300).")] = 300,
    page_size: Annotated[int, typer.Option(help="Default page size of listings and trees (max 1000).")] = 1000,
    tick_seconds: Annotated[
        float, typer.Option(help="Advance the world every N seconds (0: only on POST /_sim/tick).")
    ] = 0.0,
) -> None:
    """Serve a seeded synthetic Hub (Spaces API, planted leaks, ground truth at /_sim/ground-truth)."""
    simulator = HubSimulator(
        spaces,
        seed,
        host=host,
        port=port,
        rate_limit=RateLimitConfig(rate_limit or None, resolver_rate_limit or None, rate_window),
        page_size=page_size,
        tick_seconds=tick_seconds or None,
    )
    typer.echo(f"hubsim: {spaces} Spaces, seed {seed}")
    simulator.run(on_ready=lambda url: typer.echo(f"hubsim: serving on {url} (ground truth: {url}/_sim/ground-truth)"))
