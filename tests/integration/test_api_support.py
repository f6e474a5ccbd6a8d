"""Helpers of the API tests (no tests here): the app served by uvicorn in a thread on a free port.

A real server instead of starlette's TestClient: the same ASGI stack as production, and no
deprecated httpx shim.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from batchpoint.api.app import create_app
from batchpoint.config import Settings
from batchpoint.management.workspace import Workspace
from batchpoint.stack import Stack
from tests.integration.conftest import make_settings

START_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` on loopback until the block ends; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="api-under-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def api_client(settings: Settings, *, token: bool = True) -> Iterator[tuple[httpx.Client, Workspace]]:
    """An httpx client of the API over a real Workspace of ``settings`` (with a valid token unless told)."""
    workspace = Workspace(settings)
    headers = {"Authorization": f"Bearer {workspace.tokens.create('tests')[1]}"} if token else {}
    with served(create_app(lambda: workspace)) as url, httpx.Client(base_url=url, headers=headers) as client:
        yield client, workspace


def registry_only(settings: Settings, tmp: object) -> Settings:
    """``settings`` with a sqlite registry of its own under ``tmp`` (a test's tmp_path)."""
    return dataclasses.replace(settings, registry_url=f"sqlite:///{tmp}/registry.db")


_started: dict[str, Settings] = {}


@pytest.fixture(scope="session")
def store_and_models(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """S3 and MLflow for the API tests: the full ``stack`` when this session runs it anyway.

    The API needs no Kafka or Dagster (the relay and the sensor take invocations from the outbox).
    Cached here so test modules that import this fixture share one stack.
    """
    if any("stack" in getattr(item, "fixturenames", ()) for item in request.session.items):
        yield request.getfixturevalue("stack")
        return
    if "settings" in _started:
        yield _started["settings"]
        return
    settings = make_settings(tmp_path_factory.mktemp("api_stack"))
    with Stack(settings, services=("s3", "mlflow")):
        _started["settings"] = settings
        try:
            yield settings
        finally:
            _started.clear()
