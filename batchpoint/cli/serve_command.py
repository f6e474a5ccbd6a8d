"""``batchpoint serve``: the HTTPS API in the foreground (what ``python -m batchpoint.api`` runs)."""

from __future__ import annotations

import dataclasses

import click

from batchpoint.config import Settings
from batchpoint.errors import BatchpointError


@click.command()
@click.option("--host", default=None, help="Interface to listen on (default: $BATCHPOINT_HOST or 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default: $BATCHPOINT_API_PORT).")
@click.option("--tls-cert", default=None, help="PEM certificate; with --tls-key the API serves HTTPS.")
@click.option("--tls-key", default=None, help="PEM private key of --tls-cert.")
def serve(host: str | None, port: int | None, tls_cert: str | None, tls_key: str | None) -> None:
    """Serve the batchpoint HTTPS API (bearer tokens from `batchpoint token create`)."""
    from batchpoint.api.server import serve as run_server
    from batchpoint.api.server import url

    settings = Settings.from_env()
    changes: dict[str, object] = {
        k: v for k, v in {"host": host, "tls_cert": tls_cert, "tls_key": tls_key}.items() if v is not None
    }
    if port is not None:
        changes["ports"] = dataclasses.replace(settings.ports, api=port)
    settings = dataclasses.replace(settings, **changes)  # type: ignore[arg-type]
    click.echo(f"batchpoint API on {url(settings)} (OpenAPI at /docs)")
    try:
        run_server(settings)
    except BatchpointError as exc:
        raise click.ClickException(str(exc)) from exc
