"""``Workspace.backfills`` over a sqlite registry, an in-memory store and a fake Dagster GraphQL API."""

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from batchpoint.errors import ConflictError, NotFoundError, SpecError, StackError
from batchpoint.management.workspace import Workspace
from batchpoint.outputs.layout import OutputLayout
from batchpoint.specs.backfill import BackfillStatus, MonthStatus
from batchpoint.specs.job import JobInput, JobStatus, JobTrigger
from tests.backfill_fakes import ENDPOINT, FakeDagster, backfill, fake_workspace, run

THIS_MONTH = datetime.now(UTC).strftime("%Y-%m")


@pytest.fixture
def dagster() -> FakeDagster:
    return FakeDagster()


@pytest.fixture
def workspace(tmp_path: Path, dagster: FakeDagster) -> Iterator[Workspace]:
    ws = fake_workspace(tmp_path, dagster)
    yield ws
    ws.close()


def _tags(params: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in params["tags"]}


def test_a_backfill_with_the_default_deployment_promotes(workspace: Workspace, dagster: FakeDagster) -> None:
    info = workspace.backfills.start(ENDPOINT, "2026-01", "2026-03")
    assert (info.id, info.deployment_name, info.promote, info.failed_only) == ("qwertyui", "blue", True, False)
    assert [m.month for m in info.months] == ["2026-01", "2026-02", "2026-03"]
    assert {m.status for m in info.months} == {MonthStatus.NOT_STARTED}
    assert info.studio_url and info.studio_url.endswith("/runs/b/qwertyui")
    (params,) = dagster.launched
    assert params["assetSelection"] == [{"path": ["sales_forecast", "predictions"]}]
    assert params["partitionNames"] == ["2026-01", "2026-02", "2026-03"]
    assert _tags(params) == {
        "batchpoint/endpoint": ENDPOINT,
        "batchpoint/deployment": "blue",
        "batchpoint/promote": "true",
    }
    assert "2026-01..2026-03" in params["title"]


@pytest.mark.parametrize(
    ("deployment", "promote", "tag"), [("green", None, "false"), ("green", True, "true"), ("blue", False, "false")]
)
def test_another_deployment_does_not_promote_unless_asked(
    workspace: Workspace, dagster: FakeDagster, deployment: str, promote: bool | None, tag: str
) -> None:
    info = workspace.backfills.start(ENDPOINT, "2026-02", "2026-02", deployment_name=deployment, promote=promote)
    assert info.promote is (tag == "true")
    assert _tags(dagster.launched[0])["batchpoint/promote"] == tag
    assert _tags(dagster.launched[0])["batchpoint/deployment"] == deployment


def test_failed_only_selects_months_and_asks_for_failed_files(workspace: Workspace, dagster: FakeDagster) -> None:
    bucket = workspace.settings.output_bucket
    workspace.store.ensure_bucket(bucket)
    for month, status, failed in [("2026-01", "Completed", 0), ("2026-02", "Failed", 3), ("2026-03", "Completed", 1)]:
        layout = OutputLayout(bucket, ENDPOINT, month)
        manifest = {"status": status, "totals": {"failed_items": failed}}
        workspace.store.put_bytes(bucket, layout.manifest_key("20260401T000000.000Z-x"), json.dumps(manifest).encode())
    info = workspace.backfills.start(ENDPOINT, "2026-01", "2026-04", failed_only=True)
    assert [m.month for m in info.months] == ["2026-02", "2026-03"]
    assert dagster.launched[0]["partitionNames"] == ["2026-02", "2026-03"]
    assert _tags(dagster.launched[0])["batchpoint/rescore"] == "failed-files"


def test_failed_only_with_nothing_failed_launches_nothing(workspace: Workspace, dagster: FakeDagster) -> None:
    with pytest.raises(ConflictError, match="nothing to re-score"):
        workspace.backfills.start(ENDPOINT, "2026-01", "2026-02", failed_only=True)
    assert dagster.launched == []


@pytest.mark.parametrize(
    ("kwargs", "field", "form"),
    [
        ({"from_month": "2026-1", "to_month": "2026-02"}, "from", "YYYY-MM"),
        ({"from_month": "2026-03", "to_month": "2026-02"}, "to", "at or after 2026-03"),
        ({"from_month": "2025-12", "to_month": "2026-02"}, "from", "start_month 2026-01"),
        ({"from_month": "2026-01", "to_month": "2099-01"}, "to", f"current month {THIS_MONTH}"),
        ({"from_month": "2026-01", "to_month": "2026-02", "deployment_name": "red"}, "deployment_name", "blue, green"),
    ],
)
def test_bad_requests_name_the_field(
    workspace: Workspace, dagster: FakeDagster, kwargs: dict[str, Any], field: str, form: str
) -> None:
    with pytest.raises(SpecError) as caught:
        workspace.backfills.start(ENDPOINT, **kwargs)
    assert caught.value.field == field
    assert form in str(caught.value.valid_form)
    assert dagster.launched == []


def test_unknown_endpoint_is_not_found(workspace: Workspace) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        workspace.backfills.start("nope", "2026-01", "2026-02")


def test_an_asset_dagster_does_not_know_yet_is_reloaded_for(workspace: Workspace, dagster: FakeDagster) -> None:
    dagster.assets = set()
    with pytest.raises(StackError, match="sales_forecast/predictions"):
        workspace.backfills.start(ENDPOINT, "2026-01", "2026-02")
    assert dagster.reloads == 1
    assert dagster.launched == []


def test_get_shows_each_months_run_and_job(workspace: Workspace, dagster: FakeDagster) -> None:
    job = workspace.jobs.record_data_arrival_job(
        ENDPOINT,
        "green",
        partition="2026-01",
        inputs={"input": JobInput(path="s3://landing/sales/2026-01/")},
        dagster_run_id="run-a2",
        trigger=JobTrigger.BACKFILL,
    )
    workspace.jobs.record_finished(job.name, status=JobStatus.COMPLETED, output_uri="s3://batchpoint/x/")
    dagster.backfill = backfill(
        "REQUESTED",
        # 2026-01 was retried: its newest run counts
        [
            run("run-a1", "2026-01", "FAILURE", 50.0),
            run("run-a2", "2026-01", "SUCCESS"),
            run("run-b", "2026-02", "STARTED"),
        ],
    )
    info = workspace.backfills.get("qwertyui")
    assert info.status is BackfillStatus.RUNNING
    assert (info.endpoint_name, info.deployment_name, info.promote, info.failed_only) == (
        ENDPOINT,
        "green",
        None,
        False,
    )
    by_month = {m.month: m for m in info.months}
    assert list(by_month) == ["2026-01", "2026-02", "2026-03"]
    assert (by_month["2026-01"].status, by_month["2026-01"].job_name) == (MonthStatus.COMPLETED, job.name)
    assert by_month["2026-01"].output_uri == "s3://batchpoint/x/"
    assert (by_month["2026-02"].status, by_month["2026-02"].job_name) == (MonthStatus.RUNNING, None)
    assert by_month["2026-03"].status is MonthStatus.NOT_STARTED


@pytest.mark.parametrize(
    ("dagster_status", "runs", "expected"),
    [
        ("REQUESTED", ["SUCCESS", "SUCCESS", "SUCCESS"], BackfillStatus.COMPLETED),
        ("REQUESTED", ["SUCCESS", "FAILURE", "SUCCESS"], BackfillStatus.FAILED),
        ("REQUESTED", ["SUCCESS", "QUEUED", "SUCCESS"], BackfillStatus.RUNNING),
        ("REQUESTED", ["SUCCESS", "SUCCESS"], BackfillStatus.RUNNING),
        ("COMPLETED_FAILED", ["SUCCESS", "SUCCESS"], BackfillStatus.FAILED),
        ("CANCELED", ["SUCCESS", "CANCELED"], BackfillStatus.CANCELED),
        ("CANCELING", ["SUCCESS", "CANCELING"], BackfillStatus.RUNNING),
    ],
)
def test_overall_status(
    workspace: Workspace, dagster: FakeDagster, dagster_status: str, runs: list[str], expected: BackfillStatus
) -> None:
    months = ["2026-01", "2026-02", "2026-03"]
    dagster.backfill = backfill(dagster_status, [run(f"r{i}", months[i], s) for i, s in enumerate(runs)])
    assert workspace.backfills.get("qwertyui").status is expected


def test_a_backfill_started_in_dagsters_ui_is_found_by_its_asset(workspace: Workspace, dagster: FakeDagster) -> None:
    dagster.backfill = backfill("REQUESTED", [], tags={})
    info = workspace.backfills.get("qwertyui")
    assert (info.endpoint_name, info.deployment_name, info.promote) == (ENDPOINT, None, None)


@pytest.mark.parametrize("backfill_id", ["zzz", "zzzzzzzz", "QWERTYUI", "../jobs/x"])
def test_unknown_backfill_is_not_found(workspace: Workspace, backfill_id: str) -> None:
    with pytest.raises(NotFoundError, match=f"backfill '{re.escape(backfill_id)}'"):
        workspace.backfills.get(backfill_id)
