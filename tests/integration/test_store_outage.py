"""A job meeting a real S3 outage: its own ``weed mini``, stopped while the job's workers are busy.

- short (the server restarted at once): the store's retries outlast it; the job completes with every row;
- longer than ``store_retry_seconds``: the job fails saying the store was unreachable, counts no
  failed item, and ``latest`` stays on the version before it.

The job is ``run_scoring_job`` as the Dagster asset calls it, with a scoring script that takes a
little time per file so that downloads of later mini-batches fall into the outage.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from batchpoint.config import Settings
from batchpoint.models.resolved import ResolvedModel
from batchpoint.outputs.layout import JOB_ERROR_LOG, JOB_RESULT_LOG, OutputLayout
from batchpoint.outputs.versions import read_latest
from batchpoint.scoring.job import JobResult, run_scoring_job
from batchpoint.scoring.runtime import WorkerRuntime
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.job import JobProgress
from batchpoint.stack import Stack
from batchpoint.stack.locations import project_root
from batchpoint.stack.process import Child
from batchpoint.stack.readiness import wait_ready
from batchpoint.stack.services import child_env, launches, weed_sockets
from batchpoint.storage.datastore import open_datastore
from batchpoint.storage.port import ObjectInfo
from batchpoint.storage.s3 import S3Store
from tests.integration.conftest import make_settings

# Stops and freezes the store of a stack of its own: a fault case, run with the fault suite.
pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(300)]

ENDPOINT = "outage-scores"
PARTITION = "2026-11"
FILES = 160
ROWS_PER_FILE = 2
SCRIPT = """
import os
import time

import pandas as pd


def init():
    pass


def run(mini_batch):
    frames = []
    for path in mini_batch:
        time.sleep(0.05)  # a model's worth of work: later downloads overlap the outage
        data = pd.read_csv(path)
        frames.append(pd.DataFrame({"id": data["id"], "prediction": data["x"] * 2, "file": os.path.basename(path)}))
    return pd.concat(frames)
"""


@pytest.fixture(scope="module")
def s3_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """An S3 server of this module's own: the tests stop it, so no other test may share it."""
    settings = dataclasses.replace(make_settings(tmp_path_factory.mktemp("outage")), store_retry_backoff_seconds=0.2)
    with Stack(settings, services=("s3",)) as stack:
        # The tests stop and start S3 themselves: a supervisor restarting it too would race them
        # for its ports (seen: the second weed exited, "port ... is not available").
        stack.stop_supervising()
        yield stack


def stop_s3(stack: Stack) -> None:
    for child in stack.children["s3"]:
        child.stop()
    for socket in weed_sockets(stack.settings):
        Path(socket).unlink(missing_ok=True)


def start_s3(stack: Stack) -> None:
    """Start S3 again the way ``Stack.up`` does (same data dir: every object is still there)."""
    settings = stack.settings
    children = []
    for launch in launches("s3", settings):
        log = settings.data_dir.resolve() / "logs" / f"{launch.name}.log"
        children.append(Child.start(launch.name, launch.command, child_env(settings) | launch.env, log, project_root()))
    stack.children["s3"] = children
    wait_ready("s3", settings, children)


@dataclasses.dataclass
class Job:
    """What one outage test needs: its settings, the store, the inputs and how to score them."""

    settings: Settings
    store: S3Store
    inputs: list[ObjectInfo]
    root: Path

    @property
    def layout(self) -> OutputLayout:
        return OutputLayout(self.settings.output_bucket, ENDPOINT, PARTITION)

    def score(self, job_id: str, retry_seconds: float, progress: JobProgressHook, log: logging.Logger) -> JobResult:
        code = self.root / "code"
        code.mkdir(exist_ok=True)
        (code / "score.py").write_text(textwrap.dedent(SCRIPT))
        model_dir = self.root / "model" / "m" / "1"
        (model_dir / "model").mkdir(parents=True, exist_ok=True)
        model = ResolvedModel(
            name="m",
            version="1",
            uri="azureml:m:1",
            run_id=None,
            signature=None,
            local_path=model_dir / "model",
            kind="custom_model",
            model_dir=model_dir,
        )
        deployment = BatchDeployment.parse(
            {
                "name": "outage-script",
                "endpoint_name": ENDPOINT,
                "model": "azureml:m:1",
                "code_configuration": {"code": "./code", "scoring_script": "score.py"},
                "resources": {"instance_count": 1},
                "settings": {"max_concurrency_per_instance": 2, "mini_batch_size": 2, "error_threshold": -1},
            }
        )
        runtime = WorkerRuntime(
            kind="script", python=Path(sys.executable), code_dir=code, entry="score.py", model_dir=model_dir
        )
        return run_scoring_job(
            store=self.store,
            settings=dataclasses.replace(self.settings, store_retry_seconds=retry_seconds),
            layout=OutputLayout(self.settings.output_bucket, ENDPOINT, PARTITION),
            deployment=deployment,
            model=model,
            inputs=self.inputs,
            job_id=job_id,
            runtime=runtime,
            progress=progress,
            log=log,
        )

    def latest_version(self) -> str | None:
        latest = read_latest(self.store, self.layout)
        return None if latest is None else latest.version_id

    def version_text(self, result: JobResult, relative: str) -> str:
        return self.store.get_bytes(self.layout.bucket, self.layout.key(result.version_id, relative)).decode()


class JobProgressHook:
    """The job's progress callback: ``busy`` is set once a few mini-batches are done, many left."""

    def __init__(self, after: int = 3) -> None:
        self.after = after
        self.busy = threading.Event()
        self.at_outage: JobProgress | None = None

    def __call__(self, progress: JobProgress) -> None:
        if progress.mini_batches_done >= self.after and not self.busy.is_set():
            self.at_outage = progress
            self.busy.set()


class RestartOnError(logging.Handler):
    """Starts S3 again when the job logs that the store was unreachable, before it writes its version.

    The handler runs on the job's thread, so the job waits for the store to be back; without it,
    the store would still be down when the failed version is written (covered by the retries' unit tests).
    It starts S3 only once ``stopped`` is set: the job can give up on the store while the test's
    ``stop_s3`` is still waiting for the old server to exit, and a new one started then finds its
    ports taken (seen in CI: "port ... is not available", the new weed exited).
    """

    def __init__(self, stack: Stack) -> None:
        super().__init__(logging.ERROR)
        self.stack = stack
        self.seen: list[str] = []
        self.stopped = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("the store was unreachable") and not self.seen:
            self.seen.append(message)
            assert self.stopped.wait(120), "the test never finished stopping S3"
            start_s3(self.stack)


@pytest.fixture
def job(s3_stack: Stack, tmp_path: Path) -> Job:
    settings = dataclasses.replace(s3_stack.settings, data_dir=tmp_path / "data")
    store = open_datastore(settings)
    bucket = f"in-{tmp_path.name[-20:].lower().replace('_', '-')}"
    store.ensure_bucket(bucket)
    for n in range(FILES):
        lines = ["id,x", *(f"{n * 10 + r},{r + 0.5}" for r in range(ROWS_PER_FILE))]
        store.put_bytes(bucket, f"sales/{PARTITION}/part-{n:04d}.csv", ("\n".join(lines) + "\n").encode())
    inputs = list(store.list(bucket, f"sales/{PARTITION}/"))
    assert len(inputs) == FILES
    return Job(settings, store, inputs, tmp_path)


def run_in_thread(target: Callable[[], JobResult]) -> tuple[threading.Thread, dict[str, object]]:
    outcome: dict[str, object] = {}

    def body() -> None:
        try:
            outcome["result"] = target()
        except BaseException as exc:  # re-raised by the test thread
            outcome["error"] = exc

    thread = threading.Thread(target=body, name="job", daemon=True)
    thread.start()
    return thread, outcome


def finished(thread: threading.Thread, outcome: dict[str, object]) -> JobResult:
    thread.join(timeout=240)
    assert not thread.is_alive(), "the job did not end"
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    result = outcome["result"]
    assert isinstance(result, JobResult)
    return result


def test_a_short_outage_is_outlasted_and_a_long_one_fails_the_job_without_counting_files(
    s3_stack: Stack, job: Job, caplog: pytest.LogCaptureFixture
) -> None:
    # Short: stopped while workers score, started again at once; the job waits for its downloads.
    hook = JobProgressHook()
    log = logging.getLogger("test.store_outage.short")
    with caplog.at_level(logging.WARNING, logger="batchpoint.storage.retrying"):
        thread, outcome = run_in_thread(lambda: job.score("job-short", 120.0, hook, log))
        assert hook.busy.wait(120), "the job never got going"
        stopped = time.monotonic()
        stop_s3(s3_stack)
        threading.Event().wait(1.5)
        start_s3(s3_stack)
        down = time.monotonic() - stopped
        result = finished(thread, outcome)
    print(f"\nS3 down {down:.1f} s (stopped, 1.5 s, started until ready); job Completed in {result.seconds:.1f} s")
    assert hook.at_outage is not None and hook.at_outage.mini_batches_done < hook.at_outage.mini_batches
    assert any("retrying for up to" in r.getMessage() for r in caplog.records), "the job never met the outage"
    assert result.status == "Completed", result.error
    assert result.rows == FILES * ROWS_PER_FILE
    assert result.failed_items == 0
    assert all(f.ok for f in result.files)
    assert result.latest_moved
    assert job.latest_version() == result.version_id
    completed = result.version_id

    # Long: the store stays down past store_retry_seconds; it is started again only once the job
    # has given up on it (so the failed version can be written for diagnosis).
    hook = JobProgressHook()
    log = logging.getLogger("test.store_outage.long")
    restart = RestartOnError(s3_stack)
    log.addHandler(restart)
    try:
        thread, outcome = run_in_thread(lambda: job.score("job-long", 3.0, hook, log))
        assert hook.busy.wait(120), "the job never got going"
        stop_s3(s3_stack)
        restart.stopped.set()
        failed = finished(thread, outcome)
    finally:
        log.removeHandler(restart)
        if not s3_stack.children["s3"][0].alive():
            start_s3(s3_stack)
    assert restart.seen, "the job never said the store was unreachable"
    print(f"job failed after {failed.seconds:.1f} s: {failed.error}")
    assert failed.status == "Failed"
    assert failed.error is not None
    assert failed.error.startswith("the store was unreachable: downloading s3://")
    assert failed.failed_items == 0, "an outage is no file's failure"
    assert failed.manifest.totals.failed_items == 0
    unscored = [f for f in failed.manifest.inputs if not f.ok]
    assert unscored, "the job stopped before scoring everything"
    assert {f.cause.value for f in unscored} == {"infrastructure"}
    assert not failed.latest_moved
    assert job.latest_version() == completed
    assert "the store was unreachable" in job.version_text(failed, JOB_RESULT_LOG)
    assert "the store was unreachable" in job.version_text(failed, JOB_ERROR_LOG)
