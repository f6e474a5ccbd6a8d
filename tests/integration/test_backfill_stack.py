"""Backfills on the real embedded stack: SDK/CLI → API → Dagster asset backfill → runs → new versions.

One endpoint with a default deployment (blue) and a challenger (green), three months landed (the
last with a file that cannot be scored) and scored on arrival. A backfill of the three months writes
a new version of each and moves ``latest``; a one-month backfill with green writes a version
(``promoted: false``) but leaves ``latest`` alone; with ``--promote`` it moves ``latest``; a
``failed_only`` backfill of all three picks the month with the failed file and re-scores only that.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from batchpoint.api.app import create_app
from batchpoint.cli.main import main
from batchpoint.config import Settings
from batchpoint.demo.forecaster import train_and_register
from batchpoint.demo.sales_history import generate_history, scoring_rows, split_into_parts
from batchpoint.management.workspace import Workspace
from batchpoint.orchestration.dagster_graphql import DagsterClient
from batchpoint.orchestration.run_tags import predictions_asset_path
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.versions import LatestPointer, list_versions, read_latest, read_manifest
from batchpoint.sdk import MLClient
from batchpoint.sdk.entities.backfill import Backfill
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.specs.job import JobTrigger
from tests.integration.test_api_support import served

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(480),
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated"),
]

THIS_MONTH = pd.Period(datetime.now(UTC).strftime("%Y-%m"), freq="M")
MONTHS = [str(THIS_MONTH - n) for n in (3, 2, 1)]
WAIT_S = 200.0


@dataclass
class Landed:
    settings: Settings
    workspace: Workspace
    name: str
    url: str
    token: str

    def layout(self, month: str) -> OutputLayout:
        return OutputLayout(self.settings.output_bucket, self.name, month)

    def latest(self, month: str) -> LatestPointer | None:
        return read_latest(self.workspace.store, self.layout(month))

    def manifest_of_run(self, month: str, run_id: str) -> dict[str, Any]:
        """The manifest of the version the Dagster run ``run_id`` wrote for ``month``."""
        for version in reversed(list_versions(self.workspace.store, self.layout(month))):
            manifest = read_manifest(self.workspace.store, self.layout(month), version)
            if manifest["job_id"] == run_id:
                return manifest
        raise AssertionError(f"run {run_id} wrote no version of {month}")


@pytest.fixture(scope="module")
def landed(stack: Settings) -> Iterator[Landed]:
    """The endpoint, its two deployments, three months landed and scored once on arrival."""
    name = f"bf-{uuid.uuid4().hex[:6]}"
    history = generate_history(products=12, months=36, start="2024-01", seed=3)
    model = train_and_register(history[history["month"] < MONTHS[0]], stack.mlflow_uri, f"{name}-model", seed=3)
    workspace = Workspace(stack)
    workspace.batch_endpoints.create_or_update(
        BatchEndpoint.parse({"name": name, "data_arrival": {"prefix": f"{name}/", "start_month": "2024-01"}})
    )
    for deployment in ("blue", "green"):  # the first one becomes the default
        workspace.batch_deployments.create_or_update(
            BatchDeployment.parse(
                {"name": deployment, "endpoint_name": name, "model": model.uri, "settings": {"mini_batch_size": 2}}
            )
        )
    dagster = DagsterClient(stack.dagster_url)
    dagster.reload_location()
    deadline = time.monotonic() + 120
    while not (dagster.asset_defined(predictions_asset_path(name)) and dagster.sensor_status("datastore_events")):
        assert time.monotonic() < deadline, "Dagster never loaded the endpoint"
        time.sleep(1)
    for month in MONTHS:
        for index, part in enumerate(split_into_parts(scoring_rows(history, month), 2)):
            key = f"{name}/{month}/part-{index}.csv"
            workspace.store.put_bytes(stack.landing_bucket, key, part.to_csv(index=False).encode())
    # Lacks the model's columns: fails alone, tolerated by error_threshold -1.
    workspace.store.put_bytes(stack.landing_bucket, f"{name}/{MONTHS[2]}/bad.csv", b"foo,bar\n1,2\n")
    state = Landed(stack, workspace, name, "", workspace.tokens.create("backfill-tests")[1])
    _wait(lambda: all(state.latest(m) is not None for m in MONTHS), "the months to be scored on arrival")
    with served(create_app(lambda: workspace)) as url:
        state.url = url
        yield state
    workspace.close()


def _wait(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"waited {WAIT_S:.0f} s for {what}"
        time.sleep(1)


def _ran(backfill: Backfill, months: list[str]) -> dict[str, str]:
    """Each month's run id, after checking the backfill completed them all."""
    assert backfill.status == "Completed", [(m.month, m.status, m.error) for m in backfill.months]
    assert [m.month for m in backfill.months] == months
    return {m.month: str(m.dagster_run_id) for m in backfill.months}


def test_backfill_rescores_months_and_a_challenger_promotes_only_when_asked(landed: Landed, tmp_path: Path) -> None:
    started = time.monotonic()
    arrival = {m: landed.latest(m) for m in MONTHS}
    with MLClient(endpoint=landed.url, token=landed.token) as ml_client:
        poller = ml_client.batch_endpoints.begin_backfill(landed.name, from_month=MONTHS[0], to_month=MONTHS[-1])
        assert [m.month for m in poller.backfill.months] == MONTHS
        runs = _ran(poller.result(timeout=WAIT_S), MONTHS)
        print(f"\nbackfill of 3 months: {time.monotonic() - started:.1f} s")
        for month in MONTHS:
            latest = landed.latest(month)
            assert latest is not None and latest != arrival[month]
            assert latest.job_id == runs[month], f"latest of {month} is not the backfill's version"
            manifest = landed.manifest_of_run(month, runs[month])
            assert (manifest["status"], manifest["deployment"]["name"], manifest.get("promoted", True)) == (
                "Completed",
                "blue",
                True,
            )
        jobs = {j.dagster_run_id: j for j in landed.workspace.jobs.list(endpoint=landed.name)}
        assert {jobs[r].trigger for r in runs.values()} == {JobTrigger.BACKFILL}

        # At once: a challenger without --promote on the first month, with it on the second, and a
        # failed-only backfill of all three, which finds the third (its bad file failed).
        before = {m: landed.latest(m) for m in MONTHS}
        started = time.monotonic()
        quiet = ml_client.batch_endpoints.begin_backfill(
            landed.name, from_month=MONTHS[0], to_month=MONTHS[0], deployment_name="green"
        )
        assert quiet.backfill.promote is False
        failed_only = ml_client.batch_endpoints.begin_backfill(
            landed.name, from_month=MONTHS[0], to_month=MONTHS[-1], failed_only=True
        )
        assert [m.month for m in failed_only.backfill.months] == [MONTHS[2]]
        env = {"BATCHPOINT_API_URL": landed.url, "BATCHPOINT_API_TOKEN": landed.token, "HOME": str(tmp_path)}
        args = ["batch-endpoint", "backfill", "-n", landed.name, "--from", MONTHS[1], "--to", MONTHS[1]]
        promoted = CliRunner().invoke(main, [*args, "-d", "green", "--promote", "-o", "json"], env=env)
        assert promoted.exit_code == 0, promoted.output
        promoted_run = _ran(Backfill(json.loads(promoted.stdout)), [MONTHS[1]])[MONTHS[1]]
        quiet_run = _ran(quiet.result(timeout=WAIT_S), [MONTHS[0]])[MONTHS[0]]
        rescore_run = _ran(failed_only.result(timeout=WAIT_S), [MONTHS[2]])[MONTHS[2]]
        print(f"three backfills at once: {time.monotonic() - started:.1f} s")

    kept = landed.manifest_of_run(MONTHS[0], quiet_run)
    assert (kept["status"], kept["deployment"]["name"], kept["promoted"]) == ("Completed", "green", False)
    assert landed.latest(MONTHS[0]) == before[MONTHS[0]], "a challenger's backfill moved latest without --promote"
    moved = landed.latest(MONTHS[1])
    assert moved is not None and moved.job_id == promoted_run
    assert landed.manifest_of_run(MONTHS[1], promoted_run)["deployment"]["name"] == "green"
    rescored = landed.manifest_of_run(MONTHS[2], rescore_run)
    previous = landed.manifest_of_run(MONTHS[2], runs[MONTHS[2]])
    assert previous["totals"]["failed_files"] == 1
    assert rescored["reused"] == rescored["reused"] | {"version_id": previous["version_id"], "files": 2}
    assert (rescored["status"], rescored["totals"]["files"], rescored["totals"]["failed_files"]) == ("Completed", 3, 1)
    rescored_latest = landed.latest(MONTHS[2])
    assert rescored_latest is not None and rescored_latest.job_id == rescore_run


def test_compare_scores_a_month_with_a_challenger_and_diffs_it_against_latest(landed: Landed, tmp_path: Path) -> None:
    month = MONTHS[0]
    before = landed.latest(month)
    env = {"BATCHPOINT_API_URL": landed.url, "BATCHPOINT_API_TOKEN": landed.token, "HOME": str(tmp_path)}
    args = ["batch-endpoint", "compare", "-n", landed.name, "-d", "green", "-p", month]

    shown = CliRunner().invoke(main, args, env=env)

    assert shown.exit_code == 0, shown.output
    assert f"Comparing green with {landed.name}'s latest of {month}" in shown.stdout
    assert "(only in latest: 0, only in the challenger: 0)" in shown.stdout
    assert "prediction: mean |diff| 0, max |diff| 0" in shown.stdout  # the same model in both deployments
    assert landed.latest(month) == before, "compare moved latest"
    with MLClient(endpoint=landed.url, token=landed.token) as ml_client:
        version = ml_client.outputs.list_versions(landed.name, month)[0]
        report = ml_client.batch_endpoints.compare_report(landed.name, month, version.version_id)
    assert report["champion_version"] == before.version_id if before else False
    assert report["rows_compared"] > 0 and report["top_rows"] == []
