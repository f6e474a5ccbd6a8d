"""A run that is no node of the cluster scores through Ray Client (``BATCHPOINT_RAY_ADDRESS=ray://...``).

This is compose's shape: ``dagster-code`` runs no raylet, so its runs reach the head's Ray Client
server. Here the embedded head (started by the stack) serves it, and the run is a fresh process
given only the settings, as a Dagster run is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from batchpoint.stack import Stack
from tests.integration.conftest import make_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

RUN = """
import dataclasses, json, logging, sys
from pathlib import Path

from batchpoint.config import Settings
from batchpoint.ray_environment import apply_ray_environment

settings = Settings.from_env()
apply_ray_environment(settings)
from batchpoint.ray_compute.hosts import ray_hosts
from batchpoint.scoring.job import run_scoring_job
from batchpoint.storage.s3 import S3Store
from tests.integration.test_script_jobs import AZURE_SAMPLE, ENDPOINT, PARTITION, Harness, deployment

settings = dataclasses.replace(settings, output_bucket="client-out")
store = S3Store(settings.s3_url, settings.access_key, settings.secret_key, settings.region)
store.ensure_bucket("client-in")
harness = Harness(settings, store, "client-in", Path(sys.argv[1]))
inputs = harness.put_csvs({"a.csv": 3, "b.csv": 4})
model = harness.model()
runtime = harness.runtime(AZURE_SAMPLE, model)
for job in ("job-1", "job-2"):
    result = run_scoring_job(
        store=store, settings=settings, endpoint_name=ENDPOINT, deployment=deployment(workers=2, mini_batch_size=1),
        model=model, inputs=inputs, partition=PARTITION, job_id=job, runtime=runtime,
        log=logging.getLogger("client"), hosts=ray_hosts(settings, settings.ray_connect_address),
    )
    print(json.dumps({"status": result.status, "rows": result.rows, "workers": result.manifest.workers.to_dict()}))
"""


def test_a_run_outside_the_cluster_scores_through_ray_client_and_finds_its_pool_warm(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "stack")
    with Stack(settings, services=("s3", "ray")):
        client = f"ray://127.0.0.1:{settings.ports.ray_client}"
        base = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "BATCHPOINT_"))}
        env = base | settings.to_env() | {"BATCHPOINT_RAY_ADDRESS": client}
        (tmp_path / "run").mkdir()
        out = subprocess.run(
            [sys.executable, "-c", RUN, str(tmp_path / "run")],
            env=env,
            cwd=Path(__file__).parents[2],
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert out.returncode == 0, out.stderr[-3000:]
    first, second = (json.loads(line) for line in out.stdout.splitlines() if line.startswith("{"))
    assert (first["status"], first["rows"]) == (second["status"], second["rows"]) == ("Completed", 7)
    assert first["workers"]["host"] == second["workers"]["host"] == "ray"
    assert first["workers"]["pool_id"] == second["workers"]["pool_id"]
    assert (first["workers"]["started_workers"], second["workers"]["reused"], second["workers"]["warm_workers"]) == (
        2,
        True,
        2,
    )
