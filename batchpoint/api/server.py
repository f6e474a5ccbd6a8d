"""Run the API with uvicorn on ``Settings.host:Settings.ports.api``; HTTPS when a certificate is set."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from batchpoint.api.app import create_app
from batchpoint.config import Settings
from batchpoint.errors import SpecError
from batchpoint.management.workspace import Workspace

TLS_FORM = "both BATCHPOINT_TLS_CERT and BATCHPOINT_TLS_KEY, paths to PEM files"


def uvicorn_config(settings: Settings) -> uvicorn.Config:
    """uvicorn's configuration for ``settings``: TLS when both ``tls_cert`` and ``tls_key`` are given."""
    if bool(settings.tls_cert) != bool(settings.tls_key):
        given = "BATCHPOINT_TLS_CERT" if settings.tls_cert else "BATCHPOINT_TLS_KEY"
        raise SpecError(given, "is set alone", TLS_FORM)
    for name, value in (("BATCHPOINT_TLS_CERT", settings.tls_cert), ("BATCHPOINT_TLS_KEY", settings.tls_key)):
        if value and not Path(value).is_file():
            raise SpecError(name, f"{value!r} is not a file", TLS_FORM)
    if not settings.registry_url:  # the default sqlite registry lives in data_dir
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(lambda: Workspace(settings))
    return uvicorn.Config(
        app,
        host=settings.api_bind_host or settings.host,
        port=settings.ports.api,
        ssl_certfile=settings.tls_cert or None,
        ssl_keyfile=settings.tls_key or None,
        log_level="info",
        proxy_headers=False,
    )


def serve(settings: Settings) -> None:
    """Serve until interrupted."""
    uvicorn.Server(uvicorn_config(settings)).run()


def url(settings: Settings) -> str:
    """Where clients reach this server."""
    scheme = "https" if settings.tls_cert else "http"
    return f"{scheme}://{settings.host}:{settings.ports.api}"
