"""``ml_client.jobs.download`` against a fake API: a job that has not ended, or wrote nothing, is refused."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from batchpoint.errors import ConflictError, JobNotFinishedError, NotFoundError
from batchpoint.sdk import MLClient


def client_for(status: str, outputs: list[str], error: str | None = None) -> MLClient:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/jobs/batchjob-1":
            return httpx.Response(200, json={"name": "batchjob-1", "status": status, "error": error})
        if path == "/v1/jobs/batchjob-1/outputs":
            return httpx.Response(200, json={"value": [{"path": p, "size": 3} for p in outputs]})
        if path.startswith("/v1/jobs/batchjob-1/outputs/"):
            return httpx.Response(200, content=b"0,1,a.csv\n")
        return httpx.Response(404, json={"error": {"code": "NotFound", "message": path}})

    return MLClient(endpoint="http://api.test", token="t", transport=httpx.MockTransport(handler))


@pytest.mark.parametrize("status", ["Preparing", "Running"])
def test_a_job_that_has_not_ended_is_refused(status: str, tmp_path: Path) -> None:
    with pytest.raises(JobNotFinishedError) as caught:
        client_for(status, ["versions/v1/predictions.csv"]).jobs.download("batchjob-1", download_path=tmp_path)
    assert isinstance(caught.value, ConflictError) and caught.value.status == status
    assert f"is {status}, not finished" in str(caught.value) and "job stream -n batchjob-1" in str(caught.value)
    assert not (tmp_path / "named-outputs").exists()


def test_a_job_that_ended_without_outputs_says_so(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="ended Canceled without writing any: canceled by user"):
        client_for("Canceled", [], "canceled by user").jobs.download("batchjob-1", download_path=tmp_path)


def test_a_finished_job_downloads_its_newest_version(tmp_path: Path) -> None:
    listed = ["latest.json", "versions/v1/predictions.csv", "versions/v1/logs/user/job_result.txt"]
    target = client_for("Failed", listed).jobs.download("batchjob-1", download_path=tmp_path, output_name="score")
    assert (target / "predictions.csv").read_bytes() == b"0,1,a.csv\n"
    assert (target / "logs" / "user" / "job_result.txt").exists()
