"""``cardiostream serve``: run the real-time monitoring service (FastAPI + uvicorn)."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import CardiostreamError
from ._options import fail

__all__ = ["register", "serve_command"]


def serve_command(
    db: Annotated[
        str,
        typer.Option(
            "--db", help="Database URL: sqlite:///FILE (default) or postgresql+psycopg://..."
        ),
    ] = "sqlite:///cardiostream.db",
    model: Annotated[
        str,
        typer.Option(
            "--model", help="'default' (shipped model) or a run directory of `cardiostream train`."
        ),
    ] = "default",
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    rate: Annotated[
        float, typer.Option("--rate", help="Per-connection ingest message limit (messages/s).")
    ] = 50.0,
    max_batch: Annotated[
        int, typer.Option("--max-batch", help="Beats per classification micro-batch.")
    ] = 256,
    max_wait_ms: Annotated[
        float, typer.Option("--max-wait-ms", help="Longest wait to fill a micro-batch (ms).")
    ] = 5.0,
    torch_threads: Annotated[
        int | None, typer.Option("--torch-threads", help="torch intra-op threads for inference.")
    ] = None,
    inference: Annotated[
        str,
        typer.Option(
            "--inference",
            help="Beat model runtime: auto (ONNX Runtime after a parity check, else torch), "
            "onnx or torch.",
        ),
    ] = "auto",
    create_admin: Annotated[
        str | None,
        typer.Option(
            "--create-admin", help="Create this admin user if missing and print a new token."
        ),
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level.")] = "info",
) -> None:
    """Serve device ingest (WS /ingest), the read/admin API and live views; docs at /docs."""
    try:
        import uvicorn

        from ..service.app import create_app
        from ..service.config import ServiceSettings
        from ..store import Store

        settings = ServiceSettings(
            db_url=db,
            model=model,
            host=host,
            port=port,
            rate_per_s=rate,
            max_batch=max_batch,
            max_wait_ms=max_wait_ms,
            torch_threads=torch_threads,
            inference=inference,
        )
        store = Store(db)
        store.migrate()
        if create_admin:
            users = {u.username: u for u in store.list_users()}
            user = users.get(create_admin) or store.add_user(create_admin, "admin")
            token = store.create_user_token(user.id, label="serve --create-admin")
            typer.echo(f"admin token for {create_admin!r}: {token.plaintext}")
        app = create_app(settings, store=store)
    except (CardiostreamError, ImportError) as e:
        fail(str(e))
    max_size = settings.limits.max_frame_bytes * 2  # bigger messages are refused unparsed
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        ws_max_size=max(max_size, 65536),
        ws_per_message_deflate=False,
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
