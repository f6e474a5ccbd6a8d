"""Progress people see (issue 13): bars on a terminal, and not one control code when piped.

Each command runs as a user runs it: ``python -m batchpoint.cli.main`` in a pseudo-terminal
(``pexpect``) and again with its output piped, against the real API over the session stack.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from batchpoint.config import Settings
from batchpoint.sdk import Input, MLClient
from batchpoint.sdk.entities import BatchEndpoint, Model, ModelBatchDeployment, ModelBatchDeploymentSettings
from tests.integration.test_sdk_support import Api, api_over, wait_until_ended, write_inputs, write_mlflow_model

pytestmark = pytest.mark.integration

CLI = [sys.executable, "-m", "batchpoint.cli.main"]
ESCAPE = "\x1b"
COMMAND_TIMEOUT_S = 240


@pytest.fixture(scope="module")
def api(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with api_over(stack, tmp_path_factory.mktemp("api")) as served_api:
        yield served_api


def _env(api: Api, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "TERM", "CI"}}
    return {**env, "BATCHPOINT_API_URL": api.url, "BATCHPOINT_API_TOKEN": api.token, "HOME": str(home)}


def on_terminal(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run the CLI in a pseudo-terminal (TERM=xterm-256color, 200 columns); its exit code and output."""
    child = pexpect.spawn(
        CLI[0],
        [*CLI[1:], *args],
        env={**env, "TERM": "xterm-256color", "COLUMNS": "200", "LINES": "50"},
        cwd=str(cwd),
        encoding="utf-8",
        codec_errors="replace",
        dimensions=(50, 200),
        timeout=COMMAND_TIMEOUT_S,
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.before is not None
    return int(child.exitstatus if child.exitstatus is not None else -1), str(child.before)


def without_control_codes(drawn: str) -> str:
    """What a terminal shows of ``drawn``, colours and cursor moves taken out."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", drawn)


def piped(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI with stdout and stderr piped, as a script or CI log sees it."""
    return subprocess.run(
        [*CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False
    )


def test_model_upload_shows_bytes_and_files_on_a_terminal_and_nothing_when_piped(api: Api, tmp_path: Path) -> None:
    write_mlflow_model(tmp_path / "model")
    files = sum(1 for p in (tmp_path / "model").rglob("*") if p.is_file())
    env, name = _env(api, tmp_path / "home"), f"progress-{uuid.uuid4().hex[:6]}"
    create = ["model", "create", "--name", name, "--type", "mlflow_model", "--path", "model"]

    code, shown = on_terminal(create, env, tmp_path)
    assert code == 0, shown
    assert ESCAPE in shown  # drawn in place, with control codes
    seen = without_control_codes(shown)
    assert f"uploading model {name}" in seen
    assert f"{files}/{files} files" in seen  # the bar ends with every file sent

    plain = piped(create, env, tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert ESCAPE not in plain.stdout + plain.stderr
    assert "uploading" not in plain.stdout + plain.stderr
    assert name in plain.stdout  # the answer itself is still printed

    code, as_json = on_terminal([*create, "-o", "json"], env, tmp_path)
    assert code == 0, as_json
    assert "uploading" not in as_json  # -o json: a document, no progress, even on a terminal


def test_job_stream_draws_a_mini_batch_bar_on_a_terminal_and_plain_lines_when_piped(api: Api, tmp_path: Path) -> None:
    write_mlflow_model(tmp_path / "model")
    write_inputs(tmp_path / "incoming", files=4, rows=5)
    suffix = uuid.uuid4().hex[:6]
    with MLClient(endpoint=api.url, token=api.token, show_progress=False) as ml_client:
        model = ml_client.models.create_or_update(
            Model(name=f"stream-{suffix}", path=tmp_path / "model", type="mlflow_model")
        )
        endpoint = BatchEndpoint(name=f"stream-{suffix}")
        ml_client.batch_endpoints.begin_create_or_update(endpoint).result()
        deployment = ModelBatchDeployment(
            name="scorer",
            endpoint_name=endpoint.name,
            model=model,
            settings=ModelBatchDeploymentSettings(mini_batch_size=1, max_concurrency_per_instance=1),
        )
        ml_client.batch_deployments.begin_create_or_update(deployment).result()
        endpoint = ml_client.batch_endpoints.get(endpoint.name)
        endpoint.defaults.deployment_name = deployment.name
        ml_client.batch_endpoints.begin_create_or_update(endpoint).result()
        job = ml_client.batch_endpoints.invoke(
            endpoint_name=endpoint.name, input=Input(type="uri_folder", path=str(tmp_path / "incoming"))
        )
        # The bar follows a running job as well as an ended one; streaming it once it ended makes
        # what the bar shows at its end certain: 4 of 4 mini-batches.
        assert wait_until_ended(lambda n: ml_client.jobs.get(n).status, job.name) == "Completed"

    env = _env(api, tmp_path / "home")
    code, shown = on_terminal(["job", "stream", "-n", job.name], env, tmp_path)
    assert code == 0, shown
    assert ESCAPE in shown
    seen = without_control_codes(shown)
    assert "4/4 mini-batches, 0 failed" in seen
    assert "Execution Summary" in seen and "Status: Completed" in seen

    plain = piped(["job", "stream", "-n", job.name], env, tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert ESCAPE not in plain.stdout + plain.stderr
    assert "mini-batches," not in plain.stdout  # no bar: the log and the summary only
    assert f"RunId: {job.name}" in plain.stdout and "Status: Completed" in plain.stdout
