"""Output versions over real S3 through the API, the CLI and the SDK: list, show, roll back, prune.

Versions are written with ``publish_version`` as a job would (no Dagster, no scoring): the API is
served in a thread over a Workspace with the session's S3 and a sqlite registry of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from batchpoint.api.app import create_app
from batchpoint.cli.main import main
from batchpoint.config import Settings
from batchpoint.management.workspace import Workspace
from batchpoint.outputs.layout import JOB_ERROR_LOG, OutputLayout
from batchpoint.outputs.manifest import Manifest
from batchpoint.outputs.publishing import publish_version
from batchpoint.outputs.versions import list_versions, read_latest
from batchpoint.sdk import MLClient
from batchpoint.specs.endpoint import BatchEndpoint
from tests.integration.test_api_support import registry_only, served

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

PARTITION = "2026-05"
V1, V2, V3, V4 = (f"2026050{i}T101500.000Z-job{i}" for i in range(1, 5))


CHECKS = {
    "results": [
        {
            "name": "completeness",
            "status": "passed",
            "blocking": True,
            "summary": "all 3 files once, 12 rows as expected",
        },
        {"name": "drift", "status": "failed", "blocking": False, "summary": "'prediction' PSI 0.412 (threshold 0.2)"},
    ],
    "baseline": {"partition": "2026-04", "version_id": "20260401T101500.000Z-job0"},
    "blocked": False,
    "seconds": 0.05,
}


def _manifest(layout: OutputLayout, version_id: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "format": 2,
        "job_id": f"job{version_id[-1]}",
        "endpoint": layout.endpoint,
        "partition": layout.partition,
        "version_id": version_id,
        "status": status,
        "error": None if status == "Completed" else "3 failed items, more than error_threshold 1",
        "deployment": {"name": "challenger" if extra.get("promoted") is False else "classifier"},
        "model": {"name": "heart-classifier", "version": version_id[7]},
        "totals": {"files": 3, "failed_files": 0 if status == "Completed" else 3, "failed_items": 0, "rows": 12},
        "timings": {"started_at": f"2026-05-0{version_id[7]}T10:15:00+00:00"},
        "output": {"uri": layout.uri(layout.key(version_id, "predictions.csv"))},
        "logs": {JOB_ERROR_LOG: layout.uri(layout.key(version_id, JOB_ERROR_LOG))},
        **extra,
    }


@pytest.fixture
def api(
    store_and_broker: Settings, tmp_path: Path, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Workspace, OutputLayout, httpx.Client]]:
    """Four versions of a fresh endpoint's May (V2 Failed, V4 not promoted, V3 latest), the API serving them."""
    settings = registry_only(store_and_broker, tmp_path)
    workspace = Workspace(settings)
    endpoint = f"ep-{unique_name[2:]}"
    # Straight to the registry: the facade would also ask a Dagster this test does not run to reload.
    workspace.backends.registry.create_or_update_endpoint(BatchEndpoint(name=endpoint))
    layout = OutputLayout(settings.output_bucket, endpoint, PARTITION)
    workspace.store.ensure_bucket(layout.bucket)
    predictions = tmp_path / "predictions.csv"
    predictions.write_text("1,heart-0.csv\n0,heart-1.csv\n")
    for version_id, status, extra, latest in (
        (V1, "Completed", {}, True),
        (V2, "Failed", {}, False),
        (V3, "Completed", {"checks": CHECKS}, True),
        (V4, "Completed", {"promoted": False}, False),
    ):
        publish_version(
            workspace.store,
            layout,
            version_id=version_id,
            job_id=f"job{version_id[-1]}",
            predictions=predictions,
            output_file_name="predictions.csv",
            logs={JOB_ERROR_LOG: "no errors\n"},
            manifest=Manifest.from_dict(_manifest(layout, version_id, status, **extra)),
            make_latest=latest,
        )
    token = workspace.tokens.create("outputs-tests")[1]
    with served(create_app(lambda: workspace)) as url:
        monkeypatch.setenv("BATCHPOINT_API_URL", url)
        monkeypatch.setenv("BATCHPOINT_API_TOKEN", token)
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
            yield workspace, layout, client
    workspace.close()


def bp(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(main, ["output", *args])
    assert result.exit_code == code, f"{args}: {result.output}"
    return result


def test_list_show_rollback_prune_through_the_cli(api: tuple[Workspace, OutputLayout, httpx.Client]) -> None:
    workspace, layout, _ = api
    where = ("--endpoint", layout.endpoint, "--partition", PARTITION)

    listed = json.loads(bp("versions", *where, "-o", "json").stdout)
    assert [(v["version_id"], v["status"], v["is_latest"], v["promoted"]) for v in listed] == [
        (V4, "Completed", False, False),
        (V3, "Completed", True, True),
        (V2, "Failed", False, True),
        (V1, "Completed", False, True),
    ]
    table = bp("versions", *where, "-o", "table").stdout.splitlines()
    assert table[0].split() == ["VERSION", "STATUS", "ROWS", "FAILED", "MODEL", "DEPLOYMENT", "PROMOTED", "LATEST"]
    assert table[2].split() == [V3, "Completed", "12", "0", "heart-classifier:3", "classifier", "yes", "*"]

    shown = json.loads(bp("show", *where, "-o", "json").stdout)
    assert (shown["version_id"], shown["is_latest"], shown["totals"]["rows"]) == (V3, True, 12)
    assert shown["checks"]["baseline"] == CHECKS["baseline"]
    assert [(c["name"], c["status"]) for c in shown["checks"]["results"]] == [
        ("completeness", "passed"),
        ("drift", "failed"),
    ]
    checked = bp("show", *where, "-o", "table").stdout
    assert "completeness: passed (blocking): all 3 files once, 12 rows as expected" in checked
    assert "drift: failed: 'prediction' PSI 0.412 (threshold 0.2)" in checked
    assert "drift baseline: 2026-04's latest, 20260401T101500.000Z-job0" in checked
    failed = bp("show", *where, "--version", V2, "-o", "table").stdout
    assert "Failed" in failed and "more than error_threshold" in failed

    refused = bp("rollback", *where, "--version", V2, code=1)
    assert f"version '{V2}' is Failed" in refused.output and f"{V4}, {V3}, {V1}" in refused.output
    rolled = bp("rollback", *where, "--version", V1, "-o", "table").stdout.splitlines()
    assert rolled[1].split()[0] == V1 and rolled[1].split()[-1] == "*"
    assert read_latest(workspace.store, layout).version_id == V1  # type: ignore[union-attr]

    pruned = json.loads(bp("prune", *where, "--keep", "1", "-o", "json").stdout)
    assert pruned == {"deleted": [V2, V3], "kept": [V4, V1]}
    assert list_versions(workspace.store, layout) == [V1, V4]
    left = {obj.key for obj in workspace.store.list(layout.bucket, layout.versions_prefix)}
    assert not any(V2 in key or V3 in key for key in left)
    assert "deleted 0 version(s)" in bp("prune", *where, "--keep", "1", "-o", "table").stdout


def test_the_sdk_and_the_api_answers(api: tuple[Workspace, OutputLayout, httpx.Client]) -> None:
    _, layout, client = api
    with MLClient() as ml_client:
        assert [v.version_id for v in ml_client.outputs.list_versions(layout.endpoint, PARTITION)] == [V4, V3, V2, V1]
        assert ml_client.outputs.get_version(layout.endpoint, PARTITION)["version_id"] == V3
        assert ml_client.outputs.rollback(layout.endpoint, PARTITION, V4).is_latest  # promotes the challenger
        assert ml_client.outputs.prune(layout.endpoint, PARTITION, keep=3) == {"deleted": [V1], "kept": [V4, V3, V2]}

    base = f"/v1/batch-endpoints/{layout.endpoint}/outputs"
    bad_month = client.get(f"{base}/2026-13/versions").json()["error"]
    assert (bad_month["code"], bad_month["field"], bad_month["expected"]) == (
        "InvalidSpec",
        "partition",
        "a month as YYYY-MM, e.g. 2026-05",
    )
    unknown = client.get(f"{base}/{PARTITION}/versions/20990101T000000.000Z-nope")
    assert unknown.status_code == 404 and f"versions: {V4}, {V3}, {V2}" in unknown.json()["error"]["message"]
    refused = client.post(f"{base}/{PARTITION}/rollback", json={"version_id": V2})
    assert refused.status_code == 409 and "is Failed" in refused.json()["error"]["message"]
    keep_zero = client.post(f"{base}/{PARTITION}/prune", json={"keep": 0})
    assert (keep_zero.status_code, keep_zero.json()["error"]["field"]) == (422, "keep")
    assert client.get(f"/v1/batch-endpoints/nope-{layout.endpoint}/outputs/{PARTITION}/versions").status_code == 404
    assert client.get(f"{base}/2026-06/versions").json() == {"value": []}
    no_latest = client.get(f"{base}/2026-06/versions/latest")
    assert no_latest.status_code == 404 and "no version of it completed yet" in no_latest.json()["error"]["message"]
    assert httpx.get(f"{client.base_url}{base}/{PARTITION}/versions").status_code == 401
