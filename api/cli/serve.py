"""`fundledger serve`: the HTTP API on the chosen store, in one or several worker processes."""

from __future__ import annotations

import os

import click

from api.cli.kit import Ctx, errors_mapped
from api.config import ENV_DB

PORT = click.IntRange(1, 65535)
WORKERS = click.IntRange(1, 64)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="the address to listen on")
@click.option("--port", type=PORT, default=8000, show_default=True)
@click.option("--workers", type=WORKERS, default=1, show_default=True,
              help="worker processes (PostgreSQL: several share one store)")
@click.pass_obj
def serve(ctx: Ctx, host: str, port: int, workers: int) -> None:
    """Serve the HTTP API (/v1, /docs, /healthz, /readyz) until stopped. 接口服务"""
    import uvicorn

    with errors_mapped(ctx):
        ctx.open()  # the ledger must exist and be reachable before workers start
    # Each worker process builds its own app from the environment (uvicorn's factory).
    os.environ[ENV_DB] = ctx.db
    uvicorn.run("api.http.app:app_from_env", factory=True, host=host, port=port,
                workers=workers, log_level="info", proxy_headers=False)
