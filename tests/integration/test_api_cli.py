"""`batchpoint token create|list|revoke` write the registry the API reads; `batchpoint serve` serves it."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from batchpoint.cli.main import main
from batchpoint.config import Settings
from batchpoint.management.workspace import Workspace
from tests.integration.test_api_support import api_client, free_port


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"BATCHPOINT_DATA_DIR": str(tmp_path / "data")}


def test_token_create_list_revoke(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    created = runner.invoke(main, ["token", "create", "--name", "ci-bot"], env=env)
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    assert "shown only now" in created.stderr

    listed = runner.invoke(main, ["token", "list", "--output", "json"], env=env)
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["revoked_at"]) for r in rows] == [("ci-bot", None)]
    assert secret not in listed.stdout
    token_id = rows[0]["id"]

    settings = dataclasses.replace(Settings(), data_dir=tmp_path / "data")
    with api_client(settings, token=False) as (client, _):
        headers = {"Authorization": f"Bearer {secret}"}
        assert client.get("/v1/computes", headers=headers).status_code == 200
        revoked = runner.invoke(main, ["token", "revoke", "--id", token_id], env=env)
        assert revoked.exit_code == 0, revoked.output
        assert client.get("/v1/computes", headers=headers).status_code == 401

    table = runner.invoke(main, ["token", "list"], env=env)
    assert token_id in table.stdout and "ci-bot" in table.stdout


def test_token_commands_explain_mistakes(env: dict[str, str]) -> None:
    runner = CliRunner()
    unnamed = runner.invoke(main, ["token", "create"], env=env)
    assert unnamed.exit_code == 2 and "--name" in unnamed.output
    unknown = runner.invoke(main, ["token", "revoke", "--id", "tok_00000000"], env=env)
    assert unknown.exit_code == 1 and "token 'tok_00000000' not found" in unknown.output


def test_a_positional_name_works_too(env: dict[str, str], tmp_path: Path) -> None:
    created = CliRunner().invoke(main, ["token", "create", "laptop"], env=env)
    assert created.exit_code == 0, created.output
    with Workspace(dataclasses.replace(Settings(), data_dir=tmp_path / "data")) as workspace:
        assert workspace.tokens.verify(created.stdout.strip().splitlines()[-1]) is not None


def test_serve_runs_the_api(env: dict[str, str]) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "batchpoint.cli.main", "serve", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1.0)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else b""
                assert time.monotonic() < deadline, "batchpoint serve did not answer"
                time.sleep(0.1)
        assert answer.json() == {"status": "ok"}
        assert httpx.get(f"http://127.0.0.1:{port}/v1/computes").status_code == 401
    finally:
        process.terminate()
        process.communicate(timeout=15)
