"""Session fixtures that run the real embedded stack through ``batchpoint.stack.Stack``.

- ``store_and_broker`` -> ``Settings`` with S3 (``weed mini``) and Kafka (``tansu``) running,
  buckets and topics created.
- ``stack`` -> ``Settings`` with every service running (s3, ray, kafka, mlflow, dagster,
  publisher, relay, api).

Both use a temporary data dir and ports the OS says are free. When any collected test asks for
``stack``, ``store_and_broker`` returns the full stack instead of starting a second S3 and Kafka.
Give each test its own bucket/topic names (e.g. from ``unique_name``) rather than sharing state.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import batchpoint.ray_compute  # noqa: F401 -- Ray's variables (loopback only), set before any test imports Ray
from batchpoint.config import Settings
from batchpoint.stack import Stack, default_services, free_ports


def make_settings(data_dir: Path) -> Settings:
    """Settings for a throw-away stack: its own data dir and free loopback ports."""
    return dataclasses.replace(Settings(), data_dir=data_dir, ports=free_ports())


def _wants_full_stack(request: pytest.FixtureRequest) -> bool:
    return any("stack" in getattr(item, "fixturenames", ()) for item in request.session.items)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The full embedded stack, started once."""
    settings = make_settings(tmp_path_factory.mktemp("stack"))
    with Stack(settings, services=default_services(settings)):
        yield settings


@pytest.fixture(scope="session")
def store_and_broker(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """S3 + Kafka with buckets and topics; the full stack's when this session runs it anyway."""
    if _wants_full_stack(request):
        yield request.getfixturevalue("stack")
        return
    settings = make_settings(tmp_path_factory.mktemp("store_and_broker"))
    with Stack(settings, services=("s3", "kafka")):
        yield settings


@pytest.fixture
def unique_name() -> str:
    """A short name unique to this test, valid as a bucket or topic name."""
    return f"t-{uuid.uuid4().hex[:12]}"
