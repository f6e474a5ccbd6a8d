"""`batchpoint token create|list|revoke` write the registry the API reads; `batchpoint serve` serves it."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
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


@pytest.fixture
def api_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The API served over a registry of its own; the CLI's environment pointing at it with a token."""
    settings = dataclasses.replace(Settings(), data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    with api_client(settings) as (client, _):
        yield {
            "BATCHPOINT_API_URL": str(client.base_url).rstrip("/"),
            "BATCHPOINT_API_TOKEN": client.headers["Authorization"].removeprefix("Bearer "),
            "HOME": str(tmp_path),
        }


def test_compute_create_takes_azures_flags_and_values(api_env: dict[str, str]) -> None:
    runner = CliRunner()
    made = runner.invoke(
        main,
        [
            "compute", "create", "-n", "batch-cluster", "--type", "AmlCompute", "--size", "STANDARD_DS3_V2",
            "--min-instances", "0", "--max-instances", "5", "--idle-time-before-scale-down", "120",
            "--tier", "Dedicated",
        ],
        env=api_env,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "Compute.size has no meaning" in made.stderr and "Compute.tier has no meaning" in made.stderr
    shown = runner.invoke(main, ["compute", "show", "-n", "batch-cluster", "-o", "json"], env=api_env)
    assert json.loads(shown.stdout) | {"size": None} == {
        "name": "batch-cluster",
        "type": "amlcompute",
        "size": None,
        "min_instances": 0,
        "max_instances": 5,
        "idle_time_before_scale_down": 120,
        "description": "",
        "tags": {},
    }
    wrong = runner.invoke(main, ["compute", "create", "-n", "ci", "--type", "ComputeInstance"], env=api_env)
    assert wrong.exit_code == 1 and "Compute.type: got 'computeinstance' (expected one of 'amlcompute')" in wrong.output


def test_compute_create_reads_azures_compute_yaml(api_env: dict[str, str], tmp_path: Path) -> None:
    yml = tmp_path / "compute.yml"
    yml.write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json\n"
        "name: low-pri-example\ntype: amlcompute\nsize: STANDARD_DS3_v2\nmin_instances: 0\nmax_instances: 2\n"
        "idle_time_before_scale_down: 120\ntier: low_priority\nlocation: westus\n"
    )
    runner = CliRunner()
    made = runner.invoke(main, ["compute", "create", "-f", str(yml), "--max-instances", "3"], env=api_env)
    assert made.exit_code == 0, made.output
    shown = runner.invoke(main, ["compute", "show", "-n", "low-pri-example", "--query", "max_instances"], env=api_env)
    assert json.loads(shown.stdout) == 3


def test_query_without_output_prints_json_as_az_does(api_env: dict[str, str]) -> None:
    runner = CliRunner()
    for name in ("cpu-a", "cpu-b"):
        assert runner.invoke(main, ["compute", "create", "-n", name], env=api_env).exit_code == 0
    names = runner.invoke(main, ["compute", "list", "--query", "[].name"], env=api_env)
    assert names.exit_code == 0, names.output
    assert sorted(json.loads(names.stdout)) == ["cpu-a", "cpu-b"]
    picked = runner.invoke(
        main, ["compute", "list", "--query", "[?name=='cpu-b'].{n:name, max:max_instances}"], env=api_env
    )
    assert json.loads(picked.stdout) == [{"n": "cpu-b", "max": 1}]
    table = runner.invoke(main, ["compute", "list", "--query", "[].name", "-o", "table"], env=api_env)
    assert table.stdout.split() == ["RESULT", "cpu-a", "cpu-b"] or sorted(table.stdout.split()[1:]) == [
        "cpu-a",
        "cpu-b",
    ]
    bad = runner.invoke(main, ["compute", "list", "--query", "[].("], env=api_env)
    assert bad.exit_code == 1 and "--query: '[].(' is not valid JMESPath" in bad.output
