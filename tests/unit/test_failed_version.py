"""A job that fails before scoring leaves a version with its logs, and latest stays where it was."""

import json

from batchpoint.outputs.failed_version import FailedBeforeScoring, write_failed_version
from batchpoint.outputs.layout import JOB_ERROR_LOG, JOB_PROGRESS_LOG, JOB_RESULT_LOG, OutputLayout
from batchpoint.outputs.version_views import list_version_summaries
from batchpoint.outputs.versions import read_latest
from batchpoint.storage.memory import MemoryStore

LAYOUT = OutputLayout("outputs", "sales-forecast", "2026-11")


def test_the_error_is_in_job_error_and_job_result_and_latest_does_not_move() -> None:
    store = MemoryStore()
    error = "EnvironmentBuildError: uv could not install requirement 'xgboost==1.7.6'"
    failed = FailedBeforeScoring("batchjob-0123456789ab", "sales-forecast", "2026-11", error, model_uri="models:/m/1")
    uri = write_failed_version(store, LAYOUT, failed)
    prefix = uri.removeprefix("s3://outputs/")
    keys = sorted(o.key.removeprefix(prefix) for o in store.list("outputs", prefix))
    assert keys == [
        "logs/user/job_error.txt",
        "logs/user/job_progress_overview.txt",
        "logs/user/job_result.txt",
        "manifest.json",
    ]
    job_error = store.get_bytes("outputs", prefix + JOB_ERROR_LOG).decode()
    job_result = store.get_bytes("outputs", prefix + JOB_RESULT_LOG).decode()
    assert "failed before scoring" in job_error and "xgboost==1.7.6" in job_error
    assert job_result.startswith("status: Failed\n") and "xgboost==1.7.6" in job_result
    manifest = json.loads(store.get_bytes("outputs", prefix + "manifest.json"))
    assert (manifest["status"], manifest["promoted"], manifest["totals"]["rows"]) == ("Failed", False, 0)
    assert read_latest(store, LAYOUT) is None
    (summary,) = list_version_summaries(store, LAYOUT)
    assert summary.status == "Failed"


def test_the_environment_lines_come_first_in_the_progress_overview() -> None:
    store = MemoryStore()
    lines = (
        "2026-12-01T15:00:00+0000 environment: the deployment's environment old asks for python 3.5 and 1 requirements",
        "2026-12-01T15:00:00+0000 ERROR environment 0123456789abcdef: build failed: python 3.5 is not on this machine",
    )
    failed = FailedBeforeScoring(
        "batchjob-0123456789ab", "sales-forecast", "2026-11", "SpecError: python 3.5", environment_lines=lines
    )
    prefix = write_failed_version(store, LAYOUT, failed).removeprefix("s3://outputs/")
    progress = store.get_bytes("outputs", prefix + JOB_PROGRESS_LOG).decode()
    assert progress == "\n".join(lines) + "\n0 mini-batches processed: the job failed before scoring\n"
