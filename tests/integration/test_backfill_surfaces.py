"""Backfills through the HTTP API, the SDK and the CLI, over a fake Dagster (no stack): shapes, errors, progress."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from batchpoint.api.app import create_app
from batchpoint.cli.main import main
from batchpoint.errors import ConflictError, SpecError
from batchpoint.management.workspace import Workspace
from batchpoint.sdk import MLClient
from batchpoint.sdk.backfill_poller import BackfillPoller
from tests.backfill_fakes import ENDPOINT, FakeDagster, backfill, fake_workspace, run
from tests.integration.test_api_support import served

MONTHS = ["2026-01", "2026-02", "2026-03"]


@dataclass
class Served:
    url: str
    token: str
    dagster: FakeDagster
    workspace: Workspace

    def http(self, token: bool = True) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers)

    def env(self, home: Path) -> dict[str, str]:
        return {"BATCHPOINT_API_URL": self.url, "BATCHPOINT_API_TOKEN": self.token, "HOME": str(home)}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Served]:
    dagster = FakeDagster()
    workspace = fake_workspace(tmp_path, dagster)
    _, token = workspace.tokens.create("tests")
    with served(create_app(lambda: workspace)) as url:
        yield Served(url, token, dagster, workspace)


def _error(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    return dict(response.json()["error"])


def test_post_answers_202_with_id_and_months_and_get_reads_it(api: Served) -> None:
    with api.http() as http:
        started = http.post(f"/v1/batch-endpoints/{ENDPOINT}/backfills", json={"from": "2026-01", "to": "2026-03"})
        assert started.status_code == 202, started.text
        body = started.json()
        assert (body["id"], body["status"], body["deployment_name"], body["promote"]) == (
            "qwertyui",
            "Running",
            "blue",
            True,
        )
        assert [m["month"] for m in body["months"]] == MONTHS
        api.dagster.backfill = backfill("REQUESTED", [run("r1", "2026-01", "SUCCESS")])
        got = http.get("/v1/backfills/qwertyui")
        assert got.status_code == 200, got.text
        assert [(m["month"], m["status"]) for m in got.json()["months"]] == [
            ("2026-01", "Completed"),
            ("2026-02", "NotStarted"),
            ("2026-03", "NotStarted"),
        ]
        params = api.dagster.launched[0]
        assert params["partitionNames"] == MONTHS


@pytest.mark.parametrize(
    ("body", "field", "expected"),
    [
        ({"from": "2026-1", "to": "2026-03"}, "from", "YYYY-MM"),
        ({"from": "2026-01"}, "to", "required"),
        ({"from": "2026-03", "to": "2026-01"}, "to", "at or after 2026-03"),
        ({"from": "2019-01", "to": "2026-01"}, "from", "start_month 2026-01"),
        ({"from": "2026-01", "to": "2026-02", "deployment_name": "red"}, "deployment_name", "blue, green"),
        ({"from": "2026-01", "to": "2026-02", "promote": "maybe"}, "promote", None),
        (
            {"from": "2026-01", "to": "2026-02", "colour": "red"},
            "colour",
            "one of: compare, deployment_name, failed_only, from",
        ),
    ],
)
def test_invalid_requests_answer_422_naming_the_field(
    api: Served, body: dict[str, object], field: str, expected: str | None
) -> None:
    with api.http() as http:
        error = _error(http.post(f"/v1/batch-endpoints/{ENDPOINT}/backfills", json=body), 422)
    assert error["code"] == "InvalidSpec"
    assert error["field"] == field
    if expected:
        assert expected in str(error["expected"])
    assert api.dagster.launched == []


def test_not_found_conflict_and_auth(api: Served) -> None:
    with api.http() as http:
        assert "nope" in str(
            _error(http.post("/v1/batch-endpoints/nope/backfills", json={"from": "2026-01", "to": "2026-01"}), 404)[
                "message"
            ]
        )
        conflict = http.post(
            f"/v1/batch-endpoints/{ENDPOINT}/backfills", json={"from": "2026-01", "to": "2026-02", "failed_only": True}
        )
        assert "nothing to re-score" in str(_error(conflict, 409)["message"])
        assert "backfill 'zzz'" in str(_error(http.get("/v1/backfills/zzz"), 404)["message"])
    with api.http(token=False) as anonymous:
        _error(anonymous.get("/v1/backfills/qwertyui"), 401)
        _error(anonymous.post(f"/v1/batch-endpoints/{ENDPOINT}/backfills", json={}), 401)


def _progress(dagster: FakeDagster, last: str) -> None:
    """Reads: one month queued, then running and done, then the last month ends ``last``."""
    dagster.reads = [
        backfill("REQUESTED", [run("r1", "2026-01", "QUEUED")]),
        backfill("REQUESTED", [run("r1", "2026-01", "SUCCESS"), run("r2", "2026-02", "STARTED")]),
        backfill(
            "REQUESTED", [run("r1", "2026-01", "SUCCESS"), run("r2", "2026-02", "SUCCESS"), run("r3", "2026-03", last)]
        ),
    ]


def test_sdk_poller_result_waits_for_every_month(api: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("batchpoint.sdk.backfill_poller.POLL_INTERVAL_S", 0.01)
    with MLClient(endpoint=api.url, token=api.token) as ml_client:
        poller = ml_client.batch_endpoints.begin_backfill(
            ENDPOINT, from_month="2026-01", to_month="2026-03", deployment_name="green"
        )
        assert isinstance(poller, BackfillPoller)
        assert (poller.backfill.name, poller.backfill.promote, poller.status()) == ("qwertyui", False, "InProgress")
        _progress(api.dagster, "SUCCESS")
        result = poller.result()
        assert (result.status, poller.status(), poller.done()) == ("Completed", "Succeeded", True)
        assert [m.status for m in result.months] == ["Completed"] * 3
        with pytest.raises(SpecError) as caught:
            ml_client.batch_endpoints.begin_backfill(ENDPOINT, from_month="2026-01", to_month="01-2026")
        assert caught.value.field == "to"
        with pytest.raises(ConflictError, match="nothing to re-score"):
            ml_client.batch_endpoints.begin_backfill(
                ENDPOINT, from_month="2026-01", to_month="2026-01", failed_only=True
            )


def test_cli_prints_months_and_progress_and_fails_when_a_month_failed(api: Served, tmp_path: Path) -> None:
    _progress(api.dagster, "FAILURE")
    args = [
        "batch-endpoint",
        "backfill",
        "-n",
        ENDPOINT,
        "--from",
        "2026-01",
        "--to",
        "2026-03",
        "--poll-interval",
        "0",
    ]
    result = CliRunner().invoke(main, [*args, "-d", "green", "--promote"], env=api.env(tmp_path))
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert "Months: 2026-01, 2026-02, 2026-03" in lines
    assert any("2026-01: Preparing" in line and "(0/3 done, 0 failed)" in line for line in lines)
    assert any("2026-02: Running" in line and "(1/3 done, 0 failed)" in line for line in lines)
    assert any("2026-02: Completed" in line for line in lines)
    assert any("2026-03: Failed" in line and "(3/3 done, 1 failed)" in line for line in lines)
    assert "Backfill qwertyui Failed: 2 of 3 month(s) completed" in result.output
    assert {t["key"]: t["value"] for t in api.dagster.launched[0]["tags"]}["batchpoint/promote"] == "true"


def test_cli_exits_0_when_every_month_completed(api: Served, tmp_path: Path) -> None:
    _progress(api.dagster, "SUCCESS")
    args = [
        "batch-endpoint",
        "backfill",
        "-n",
        ENDPOINT,
        "--from",
        "2026-01",
        "--to",
        "2026-03",
        "--poll-interval",
        "0",
    ]
    result = CliRunner().invoke(main, args, env=api.env(tmp_path))
    assert result.exit_code == 0, result.output
    assert "Backfill qwertyui Completed: 3 of 3 month(s) completed" in result.output


def test_cli_no_wait_json_and_errors(api: Served, tmp_path: Path) -> None:
    env = api.env(tmp_path)
    base = ["batch-endpoint", "backfill", "-n", ENDPOINT]
    started = CliRunner().invoke(
        main, [*base, "--from", "2026-01", "--to", "2026-02", "--no-wait", "-o", "json"], env=env
    )
    assert started.exit_code == 0, started.output
    assert [m["month"] for m in json.loads(started.output)["months"]] == ["2026-01", "2026-02"]
    bad = CliRunner().invoke(main, [*base, "--from", "2026-02", "--to", "2026-01", "--no-promote"], env=env)
    assert bad.exit_code == 1
    assert "error: to: 2026-01 is before from 2026-02" in bad.output
    missing = CliRunner().invoke(main, [*base, "--from", "2026-02"], env=env)
    assert missing.exit_code == 2
    assert "--to" in missing.output
    assert "Examples:" in CliRunner().invoke(main, [*base, "--help"]).output
