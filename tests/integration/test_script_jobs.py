"""Acceptance tests of the scoring runtime (issue 4): ``run_scoring_job`` with user scoring scripts.

Real worker processes (``script_driver.py`` started by ``ScriptPool``) and real S3 (the embedded
stack's). Each test writes an Azure-style ``score.py`` and a model folder laid out as Azure lays out
``AZUREML_MODEL_DIR``, scores a few CSV files from a bucket of its own, and reads back what a user
would: the output file, the three ``logs/user/*.txt`` logs, the worker logs, the manifest and
``latest.json``. See ``docs/scoring-runtime.md`` for the rules asserted here.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

import joblib
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sklearn
from sklearn.exceptions import InconsistentVersionWarning

from batchpoint.config import Settings
from batchpoint.environments import EnvironmentBuilder
from batchpoint.errors import NotFoundError
from batchpoint.models.resolved import ResolvedModel
from batchpoint.outputs.layout import JOB_ERROR_LOG, JOB_PROGRESS_LOG, JOB_RESULT_LOG, OutputLayout
from batchpoint.outputs.versions import read_latest
from batchpoint.scoring.job import JobResult, ReuseMode, run_scoring_job
from batchpoint.scoring.runtime import WorkerRuntime
from batchpoint.scoring.worker_host import HostFactory
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.environment import EnvironmentSpec
from batchpoint.storage.datastore import open_datastore
from batchpoint.storage.port import ObjectInfo
from batchpoint.storage.s3 import S3Store

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

ENDPOINT = "sales-scores"
PARTITION = "2026-11"
FACTOR = 3
WORKER_LOG = "logs/user/stdout/worker-{}.txt"

# Azure's sample pattern (cli/endpoints/batch/deploy-models/*/code/batch_driver.py), slightly extended:
# the model sits in a subfolder of AZUREML_MODEL_DIR, run() reads CSVs with pandas and returns a DataFrame.
AZURE_SAMPLE = """
import argparse
import glob
import os

import pandas as pd

model_path = None
factor = None
args = None


def init():
    global model_path, factor, args
    model_path = glob.glob(os.environ["AZUREML_MODEL_DIR"] + "/*/")[0]
    factor = float(open(os.path.join(model_path, "factor.txt")).read())
    parser = argparse.ArgumentParser()
    parser.add_argument("--logging_level", default="unset")
    args, _ = parser.parse_known_args()
    print("init done", os.getpid(), model_path, flush=True)


def run(mini_batch):
    print("scoring", [os.path.basename(p) for p in mini_batch], flush=True)
    frames = []
    for path in mini_batch:
        data = pd.read_csv(path).astype({"id": "int64", "x": "float64"})
        frames.append(pd.DataFrame({
            "id": data["id"],
            "prediction": data["x"] * factor,
            "file": os.path.basename(path),
            "level": args.logging_level,
            "greeting": os.environ.get("GREETING", "missing"),
        }))
    return pd.concat(frames)
"""

# The sample's shape with a hook per test: ``{fault}`` is code run for each file path ``path``
# (with ``name`` its base name) before the file is scored.
FAULTY = """
import os
import sys
import time

import pandas as pd


def init():
    print("init done", os.getpid(), flush=True)


def run(mini_batch):
    print("scoring", [os.path.basename(p) for p in mini_batch], flush=True)
    frames = []
    for path in mini_batch:
        name = os.path.basename(path)
{fault}
        data = pd.read_csv(path)
        frames.append(pd.DataFrame({{"id": data["id"], "prediction": data["x"] * 2, "file": name}}))
    return pd.concat(frames)
"""


def faulty(fault: str) -> str:
    """``FAULTY`` with ``fault`` as the per-file hook."""
    return FAULTY.format(fault=textwrap.indent(textwrap.dedent(fault).strip(), " " * 8))


@dataclasses.dataclass
class Harness:
    """One test's settings, store, input bucket and local folders, and how to run and read a job."""

    settings: Settings
    store: S3Store
    bucket: str
    root: Path

    @property
    def layout(self) -> OutputLayout:
        return OutputLayout(self.settings.output_bucket, ENDPOINT, PARTITION)

    def put_csvs(self, rows: dict[str, int]) -> list[ObjectInfo]:
        """Upload ``name -> row count`` CSV files (columns id, x, label); return them as listed."""
        for n, (name, count) in enumerate(rows.items()):
            lines = ["id,x,label", *(f"{n * 100 + r},{r + 0.5},row{r}" for r in range(count))]
            self.store.put_bytes(self.bucket, f"sales/{PARTITION}/{name}", ("\n".join(lines) + "\n").encode())
        return list(self.store.list(self.bucket, f"sales/{PARTITION}/"))

    def model(self) -> ResolvedModel:
        """A custom model laid out as Azure does: ``<model_dir>/model/factor.txt``."""
        model_dir = self.root / "azureml-models" / "m" / "1"
        (model_dir / "model").mkdir(parents=True, exist_ok=True)
        (model_dir / "model" / "factor.txt").write_text(f"{FACTOR}\n")
        return ResolvedModel(
            name="m",
            version="1",
            uri="azureml:m:1",
            run_id=None,
            signature=None,
            local_path=model_dir / "model",
            kind="custom_model",
            model_dir=model_dir,
        )

    def runtime(self, source: str, model: ResolvedModel, python: Path | None = None) -> WorkerRuntime:
        """``source`` written as ``score.py`` in a code folder, run by ``python`` (this interpreter)."""
        code = self.root / "code"
        code.mkdir(exist_ok=True)
        (code / "score.py").write_text(textwrap.dedent(source))
        return WorkerRuntime(
            kind="script",
            python=python or Path(sys.executable),
            code_dir=code,
            entry="score.py",
            model_dir=model.model_dir,
        )

    def score(
        self,
        deployment: BatchDeployment,
        runtime: WorkerRuntime,
        model: ResolvedModel,
        inputs: Sequence[ObjectInfo],
        job_id: str,
        hosts: HostFactory | None = None,
        reuse: ReuseMode | None = None,
    ) -> JobResult:
        return run_scoring_job(
            store=self.store,
            settings=self.settings,
            layout=OutputLayout(self.settings.output_bucket, ENDPOINT, PARTITION),
            deployment=deployment,
            model=model,
            inputs=inputs,
            job_id=job_id,
            runtime=runtime,
            log=logging.getLogger("test.script_jobs"),
            hosts=hosts,
            reuse=reuse,
        )

    def uri(self, name: str) -> str:
        """The input URI of landed file ``name``."""
        return f"s3://{self.bucket}/sales/{PARTITION}/{name}"

    def read(self, uri: str) -> bytes:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return self.store.get_bytes(bucket, key)

    def version_file(self, result: JobResult, relative: str) -> bytes:
        return self.store.get_bytes(self.layout.bucket, self.layout.key(result.version_id, relative))

    def logs(self, result: JobResult) -> dict[str, str]:
        """The three job logs, read through the URIs the manifest gives."""
        uris = result.manifest.logs
        return {name: self.read(uris[name]).decode() for name in (JOB_ERROR_LOG, JOB_PROGRESS_LOG, JOB_RESULT_LOG)}

    def worker_log(self, result: JobResult, slot: int) -> str:
        return self.read(result.manifest.logs[WORKER_LOG.format(slot)]).decode()

    def latest_version(self) -> str | None:
        latest = read_latest(self.store, self.layout)
        return None if latest is None else latest.version_id


@pytest.fixture
def harness(store_and_broker: Settings, unique_name: str, tmp_path: Path) -> Harness:
    settings = dataclasses.replace(store_and_broker, output_bucket=f"{unique_name}-out", data_dir=tmp_path / "data")
    store = open_datastore(settings)
    store.ensure_bucket(unique_name)
    return Harness(settings, store, unique_name, tmp_path)


def deployment(
    *,
    workers: int = 1,
    mini_batch_size: int = 2,
    max_retries: int = 1,
    timeout: int = 30,
    error_threshold: int = -1,
    **settings: object,
) -> BatchDeployment:
    return BatchDeployment.parse(
        {
            "name": "scores-script",
            "endpoint_name": ENDPOINT,
            "model": "azureml:m:1",
            "code_configuration": {"code": "./code", "scoring_script": "score.py"},
            "resources": {"instance_count": 1},
            "settings": {
                "max_concurrency_per_instance": workers,
                "mini_batch_size": mini_batch_size,
                "retry_settings": {"max_retries": max_retries, "timeout": timeout},
                "error_threshold": error_threshold,
                **settings,
            },
        }
    )


def output_lines(harness: Harness, result: JobResult) -> list[str]:
    return harness.read(result.output_uri).decode().splitlines()


def attempts_by_index(result: JobResult) -> dict[int, int]:
    return {m.index: m.attempts for m in result.manifest.mini_batches}


FIVE = {"part-0.csv": 2, "part-1.csv": 3, "part-2.csv": 4, "part-3.csv": 5, "part-4.csv": 6}


def test_azure_sample_script_two_workers(harness: Harness) -> None:
    inputs = harness.put_csvs(FIVE)
    model = harness.model()
    deploy = deployment(workers=2, logging_level="debug", environment_variables={"GREETING": "hello-from-deployment"})

    result = harness.score(deploy, harness.runtime(AZURE_SAMPLE, model), model, inputs, "job-azure-sample")

    assert result.status == "Completed", result.error
    assert (result.rows, result.failed_items, result.mini_batches) == (20, 0, 3)
    totals = result.manifest.totals
    assert (totals.files, totals.failed_files, totals.failed_items, totals.rows) == (5, 0, 0, 20)
    assert result.output_uri == harness.layout.uri(harness.layout.key(result.version_id, "predictions.csv"))
    # Azure's custom-script format: the DataFrame's columns in order, space-separated, no header, no index.
    lines = output_lines(harness, result)
    assert len(lines) == 20
    rows = [line.split(" ") for line in lines]
    assert all(len(r) == 5 for r in rows)
    assert [r[2] for r in rows] == [name for name, count in FIVE.items() for _ in range(count)]  # mini-batch order
    assert rows[0] == ["0", str(0.5 * FACTOR), "part-0.csv", "debug", "hello-from-deployment"]
    assert {r[3] for r in rows} == {"debug"}  # --logging_level reached the script
    assert {r[4] for r in rows} == {"hello-from-deployment"}  # environment_variables too
    assert harness.latest_version() == result.version_id
    assert result.latest_moved

    logs = harness.logs(result)
    assert logs[JOB_ERROR_LOG] == "no errors\n"
    assert "mini-batches 3/3 (100%, 0 failed)" in logs[JOB_PROGRESS_LOG].splitlines()[-1]
    assert "status: Completed" in logs[JOB_RESULT_LOG]
    assert "rows: 20" in logs[JOB_RESULT_LOG]
    # Per-process logs: what each worker's script printed; two workers each ran init() once.
    worker_logs = {k for k in result.manifest.logs if k.startswith("logs/user/stdout/")}
    assert worker_logs <= {WORKER_LOG.format(0), WORKER_LOG.format(1)}
    assert WORKER_LOG.format(0) in worker_logs
    printed = "".join(harness.read(result.manifest.logs[k]).decode() for k in worker_logs)
    assert printed.count("init done") == len(worker_logs)
    assert str(model.local_path) in printed
    assert printed.count("scoring [") == 3
    for name in FIVE:
        assert f"'{name}'" in printed


def test_an_incremental_run_scores_only_the_mini_batches_a_change_touches(harness: Harness) -> None:
    """Five files in mini-batches [0, 1] [2, 3] [4]; a sixth lands: one file scored, the rest reused."""
    model = harness.model()
    runtime = harness.runtime(AZURE_SAMPLE, model)
    first = harness.score(deployment(), runtime, model, harness.put_csvs(FIVE), "job-first", reuse="incremental")
    assert (first.status, first.mini_batches, first.manifest.reused) == ("Completed", 3, None)
    index = first.manifest.reuse_index
    assert index is not None and index.unit == "bytes"
    assert [[uri.rsplit("/", 1)[-1] for uri, _ in s.files] for s in index.segments] == [
        ["part-0.csv", "part-1.csv"],
        ["part-2.csv", "part-3.csv"],
        ["part-4.csv"],
    ]

    six = harness.put_csvs({**FIVE, "part-5.csv": 1})
    second = harness.score(deployment(), runtime, model, six, "job-second", reuse="incremental")
    assert second.status == "Completed", second.error
    assert [m.files for m in second.manifest.mini_batches] == [(harness.uri("part-5.csv"),)]  # scored: 1 file
    assert second.manifest.reused is not None
    assert (second.manifest.reused.version_id, second.manifest.reused.files) == (first.version_id, 5)
    assert sum(1 for f in second.files if f.reused_from == first.version_id) == 5
    full = harness.score(deployment(), runtime, model, six, "job-full")
    assert full.mini_batches == 3  # reuse=None: every file scored
    assert sorted(output_lines(harness, second)) == sorted(output_lines(harness, full))
    assert second.rows == full.rows == 21

    # A changed file re-scores its mini-batch (its partner too); the others' rows come from latest,
    # the full run's version now ([0, 1] [2, 3] [4, 5]).
    harness.store.put_bytes(harness.bucket, f"sales/{PARTITION}/part-2.csv", b"id,x,label\n7,9.5,r\n")
    changed = harness.score(
        deployment(),
        runtime,
        model,
        list(harness.store.list(harness.bucket, f"sales/{PARTITION}/")),
        "job-3",
        reuse="incremental",
    )
    assert [m.files for m in changed.manifest.mini_batches] == [(harness.uri("part-2.csv"), harness.uri("part-3.csv"))]
    assert changed.manifest.reused is not None and changed.manifest.reused.files == 4
    assert "7 28.5 part-2.csv" in " ".join(output_lines(harness, changed))
    assert changed.rows == full.rows - 4 + 1

    # A run that finds nothing new (it was requested for files an earlier run already scored)
    # scores no mini-batch and publishes the same rows.
    again = harness.score(
        deployment(),
        runtime,
        model,
        list(harness.store.list(harness.bucket, f"sales/{PARTITION}/")),
        "job-4",
        reuse="incremental",
    )
    assert (again.status, again.mini_batches, again.manifest.reused.files if again.manifest.reused else 0) == (
        "Completed",
        0,
        6,
    )
    assert sorted(output_lines(harness, again)) == sorted(output_lines(harness, changed))


def test_init_failure_fails_the_job_with_its_traceback(harness: Harness) -> None:
    inputs = harness.put_csvs(FIVE)
    model = harness.model()
    source = """
    def init():
        raise RuntimeError("model file is corrupt: factor.txt")

    def run(mini_batch):
        return mini_batch
    """
    started = time.monotonic()

    result = harness.score(deployment(max_retries=1), harness.runtime(source, model), model, inputs, "job-init")

    assert time.monotonic() - started < 30
    assert result.status == "Failed"
    assert result.error is not None
    assert "init() failed" in result.error
    assert "model file is corrupt" in result.error
    assert (result.rows, result.failed_items) == (0, 5)
    assert result.manifest.totals.failed_files == 5
    assert all(f.error and f.error.startswith("not scored") for f in result.files)
    try:
        predictions = harness.read(result.output_uri)
    except NotFoundError:
        predictions = b""
    assert predictions == b""
    logs = harness.logs(result)
    assert "RuntimeError: model file is corrupt: factor.txt" in logs[JOB_RESULT_LOG]
    assert "Traceback" in logs[JOB_RESULT_LOG]
    assert "in init" in logs[JOB_RESULT_LOG]
    assert "init() failed" in logs[JOB_ERROR_LOG]
    assert "status: Failed" in logs[JOB_RESULT_LOG]
    assert not result.latest_moved
    assert harness.latest_version() is None


def test_run_raising_on_one_file_fails_its_mini_batch_after_retries(harness: Harness) -> None:
    files = {"part-0.csv": 2, "part-1.csv": 3, "part-2-bad.csv": 4, "part-3.csv": 5, "part-4.csv": 6}
    inputs = harness.put_csvs(files)
    model = harness.model()
    source = faulty("""
        if "bad" in name:
            raise ValueError(f"cannot score {name}")
    """)

    result = harness.score(deployment(max_retries=2), harness.runtime(source, model), model, inputs, "job-raise")

    assert result.status == "Completed", result.error
    # Mini-batch 1 is part-2-bad.csv and part-3.csv: both its files failed.
    assert (result.rows, result.failed_items) == (2 + 3 + 6, 2)
    totals = result.manifest.totals
    assert (totals.failed_files, totals.failed_items, totals.rows) == (2, 2, 11)
    assert attempts_by_index(result) == {0: 1, 1: 3, 2: 1}
    assert {line.split(" ")[2] for line in output_lines(harness, result)} == {"part-0.csv", "part-1.csv", "part-4.csv"}
    failed = {f.name: f.error for f in result.files if not f.ok}
    assert set(failed) == {"part-2-bad.csv", "part-3.csv"}
    logs = harness.logs(result)
    error_log = logs[JOB_ERROR_LOG]
    assert "mini-batch 1 (part-2-bad.csv, part-3.csv)" in error_log
    assert "3 attempt" in error_log
    assert "ValueError: cannot score part-2-bad.csv" in error_log
    assert "mini-batches 3/3 (100%, 1 failed)" in logs[JOB_PROGRESS_LOG].splitlines()[-1]
    assert f"s3://{harness.bucket}/sales/{PARTITION}/part-3.csv" in error_log
    result_log = logs[JOB_RESULT_LOG]
    assert result_log.count("Traceback") == 3  # every attempt's traceback
    assert "attempt 3/3" in result_log
    assert 'score.py", line' in result_log
    assert "in run" in result_log
    assert result.latest_moved
    assert harness.latest_version() == result.version_id


def test_a_hanging_mini_batch_times_out_and_the_worker_is_replaced(harness: Harness) -> None:
    files = {"part-0.csv": 2, "part-1.csv": 3, "part-2-hang.csv": 4, "part-3.csv": 5, "part-4.csv": 6}
    inputs = harness.put_csvs(files)
    model = harness.model()
    source = faulty("""
        if "hang" in name:
            time.sleep(3600)
    """)
    started = time.monotonic()

    result = harness.score(
        deployment(max_retries=1, timeout=2), harness.runtime(source, model), model, inputs, "job-hang"
    )

    assert time.monotonic() - started < 40
    assert result.status == "Completed", result.error
    assert (result.rows, result.failed_items) == (11, 2)
    assert result.manifest.totals.failed_items == 2
    assert attempts_by_index(result) == {0: 1, 1: 2, 2: 1}
    logs = harness.logs(result)
    assert "mini-batch 1 (part-2-hang.csv, part-3.csv)" in logs[JOB_ERROR_LOG]
    assert "timeout" in logs[JOB_ERROR_LOG]
    assert "no answer from run() within 2s" in logs[JOB_RESULT_LOG]
    # The hung process was killed and a fresh one ran init() again (the log keeps every generation).
    assert harness.worker_log(result, 0).count("init done") >= 2
    assert harness.latest_version() == result.version_id


def test_a_crashing_worker_is_replaced_and_its_mini_batch_retried(harness: Harness) -> None:
    files = {"part-0.csv": 2, "part-1-crash.csv": 3, "part-2.csv": 4, "part-3.csv": 5, "part-4.csv": 6}
    inputs = harness.put_csvs(files)
    model = harness.model()
    source = faulty("""
        if "crash" in name:
            print("about to exit", file=sys.stderr, flush=True)
            os._exit(3)
    """)

    result = harness.score(deployment(max_retries=1), harness.runtime(source, model), model, inputs, "job-crash")

    assert result.status == "Completed", result.error
    # Mini-batch 0 is part-0.csv and part-1-crash.csv.
    assert (result.rows, result.failed_items) == (4 + 5 + 6, 2)
    assert attempts_by_index(result) == {0: 2, 1: 1, 2: 1}
    assert {line.split(" ")[2] for line in output_lines(harness, result)} == {"part-2.csv", "part-3.csv", "part-4.csv"}
    logs = harness.logs(result)
    assert "mini-batch 0 (part-0.csv, part-1-crash.csv)" in logs[JOB_ERROR_LOG]
    assert "crash" in logs[JOB_ERROR_LOG]
    assert "exited with code 3" in logs[JOB_ERROR_LOG]
    assert "attempt 2/2" in logs[JOB_RESULT_LOG]
    assert "about to exit" in logs[JOB_RESULT_LOG]  # the worker's log tail stands in for a traceback
    worker_log = harness.worker_log(result, 0)
    assert worker_log.count("init done") >= 2
    assert worker_log.count("about to exit") == 2
    assert harness.latest_version() == result.version_id


@pytest.mark.parametrize(("threshold", "status"), [(0, "Failed"), (1, "Completed"), (-1, "Completed")])
def test_a_short_return_counts_the_missing_items_as_failed(harness: Harness, threshold: int, status: str) -> None:
    files = {"part-0.csv": 1, "part-1.csv": 1, "part-2.csv": 1, "part-3.csv": 1}
    inputs = harness.put_csvs(files)
    model = harness.model()
    source = """
    import os

    def run(mini_batch):
        return [os.path.basename(p) for p in mini_batch][:-1]
    """
    deploy = deployment(mini_batch_size=4, error_threshold=threshold)

    result = harness.score(deploy, harness.runtime(source, model), model, inputs, f"job-short-{threshold}")

    assert result.status == status, result.error
    assert (result.rows, result.failed_items) == (3, 1)
    assert result.manifest.totals.failed_items == 1
    assert attempts_by_index(result) == {0: 1}  # a short return is not retried
    assert output_lines(harness, result) == ["part-0.csv", "part-1.csv", "part-2.csv"]
    logs = harness.logs(result)
    assert "run() returned 3 item(s) for 4 file(s): 1 failed item(s)" in logs[JOB_ERROR_LOG]
    assert "failed items: 1" in logs[JOB_RESULT_LOG]
    if status == "Failed":
        assert result.error is not None
        assert "more than error_threshold 0" in result.error
        assert "more than error_threshold 0" in logs[JOB_RESULT_LOG]
        assert not result.latest_moved
        assert harness.latest_version() is None
    else:
        assert result.error is None
        assert harness.latest_version() == result.version_id


def test_exceeding_error_threshold_stops_the_job_early(harness: Harness) -> None:
    files = {f"part-{i:02d}.csv": 1 for i in range(12)}
    inputs = harness.put_csvs(files)
    model = harness.model()
    # Slow enough failures that the job can stop before the worker has run them all.
    source = """
    import time

    def run(mini_batch):
        print("scoring", mini_batch, flush=True)
        time.sleep(0.3)
        raise ValueError("every file is bad")
    """
    deploy = deployment(mini_batch_size=1, max_retries=0, error_threshold=1)
    started = time.monotonic()

    result = harness.score(deploy, harness.runtime(source, model), model, inputs, "job-threshold")

    assert time.monotonic() - started < 30
    assert result.status == "Failed"
    assert result.error is not None
    assert "error_threshold 1" in result.error
    assert result.rows == 0
    assert result.failed_items == 12  # failed or never scored, each counts
    not_scored = [f for f in result.files if f.error and f.error.startswith("not scored")]
    ran = [f for f in result.files if f.error == "ValueError: every file is bad"]
    assert not_scored, [f.error for f in result.files]
    assert 2 <= len(ran) < 12
    assert len(ran) + len(not_scored) == 12
    assert harness.worker_log(result, 0).count("scoring [") < 12
    logs = harness.logs(result)
    assert "error_threshold 1" in logs[JOB_RESULT_LOG]
    assert "not scored" in logs[JOB_ERROR_LOG]
    assert not result.latest_moved
    assert harness.latest_version() is None


def test_summary_only_uploads_the_scripts_own_files(harness: Harness) -> None:
    inputs = harness.put_csvs(FIVE)
    model = harness.model()
    source = """
    import os

    import pandas as pd

    def run(mini_batch):
        frames = [pd.read_csv(p).assign(file=os.path.basename(p)) for p in mini_batch]
        first = os.path.splitext(os.path.basename(mini_batch[0]))[0]
        out = os.path.join(os.environ["AZUREML_BI_OUTPUT_PATH"], f"scores-{first}.parquet")
        pd.concat(frames).to_parquet(out, index=False)
        return [os.path.basename(p) for p in mini_batch]
    """
    deploy = deployment(workers=2, output_action="summary_only")

    result = harness.score(deploy, harness.runtime(source, model), model, inputs, "job-summary")

    assert result.status == "Completed", result.error
    assert result.failed_items == 0
    totals = result.manifest.totals
    assert (totals.files, totals.succeeded_files, totals.failed_items) == (5, 5, 0)
    assert result.output_uri == harness.layout.uri(harness.layout.version_prefix(result.version_id))
    names = ["scores-part-0.parquet", "scores-part-2.parquet", "scores-part-4.parquet"]
    assert sorted(result.manifest.output.files) == [
        harness.layout.uri(harness.layout.key(result.version_id, n)) for n in names
    ]
    scored: list[str] = []
    for name in names:
        table = pq.read_table(io.BytesIO(harness.version_file(result, name)))
        assert table.schema.names == ["id", "x", "label", "file"]
        scored += table["file"].to_pylist()
    assert sorted(scored) == sorted(name for name, count in FIVE.items() for _ in range(count))
    with pytest.raises(NotFoundError):
        harness.version_file(result, "predictions.csv")
    assert harness.latest_version() == result.version_id


def test_parquet_output_keeps_the_returned_types(harness: Harness) -> None:
    inputs = harness.put_csvs(FIVE)
    model = harness.model()
    source = """
    import os

    import pandas as pd

    def run(mini_batch):
        frames = []
        for path in mini_batch:
            data = pd.read_csv(path)
            frames.append(pd.DataFrame({
                "id": data["id"].astype("int64"),
                "score": data["x"].astype("float64") * 2,
                "file": os.path.basename(path),
            }))
        return pd.concat(frames)
    """
    deploy = deployment(workers=2, output_file_name="predictions.parquet")

    result = harness.score(deploy, harness.runtime(source, model), model, inputs, "job-parquet")

    assert result.status == "Completed", result.error
    assert (result.rows, result.failed_items) == (20, 0)
    assert result.output_uri.endswith("/predictions.parquet")
    table = pq.read_table(io.BytesIO(harness.read(result.output_uri)))
    assert table.num_rows == 20
    assert table.schema.names == ["id", "score", "file"]
    assert table.schema.field("id").type == pa.int64()
    assert table.schema.field("score").type == pa.float64()
    file_type = table.schema.field("file").type
    assert pa.types.is_string(file_type) or pa.types.is_large_string(file_type)
    assert table["file"].to_pylist() == [name for name, count in FIVE.items() for _ in range(count)]
    assert table["score"].to_pylist()[:2] == [1.0, 3.0]
    assert result.manifest.output.columns == ("id", "score", "file")
    assert harness.latest_version() == result.version_id


SK15 = EnvironmentSpec.parse(
    {"name": "sk15", "pip_requirements": ["scikit-learn==1.5.2", "numpy<2", "pandas<2.3", "joblib"]}
)

TRAIN_IN_ENV = """
import sys

import joblib
import numpy as np
from sklearn.linear_model import LinearRegression

x = np.arange(20, dtype="float64").reshape(-1, 1)
joblib.dump(LinearRegression().fit(x, 2 * x[:, 0] + 1), sys.argv[1])
"""

SKLEARN_SCRIPT = """
import glob
import os

import joblib
import pandas as pd
import sklearn

model = None


def init():
    global model
    model = joblib.load(glob.glob(os.environ["AZUREML_MODEL_DIR"] + "/*/model.joblib")[0])


def run(mini_batch):
    frames = []
    for path in mini_batch:
        data = pd.read_csv(path)
        frames.append(pd.DataFrame({
            "prediction": model.predict(data[["x"]].to_numpy()).round(3),
            "sklearn": sklearn.__version__,
            "file": os.path.basename(path),
        }))
    return pd.concat(frames)
"""


@pytest.mark.timeout(600)
def test_a_pinned_environment_scores_with_its_own_scikit_learn(harness: Harness) -> None:
    built = EnvironmentBuilder(harness.settings.cache_dir).ensure(SK15)
    model = harness.model()
    subprocess.run(
        [str(built.python), "-c", TRAIN_IN_ENV, str(model.local_path / "model.joblib")],
        check=True,
        capture_output=True,
        text=True,
    )
    # The pickle is scikit-learn 1.5.2's: the project's own scikit-learn only loads it with a warning.
    with pytest.warns(InconsistentVersionWarning, match="1.5.2"):
        joblib.load(model.local_path / "model.joblib")
    inputs = harness.put_csvs(FIVE)

    runtime = harness.runtime(SKLEARN_SCRIPT, model, python=built.python)
    result = harness.score(deployment(workers=2), runtime, model, inputs, "job-sk15")

    assert result.status == "Completed", (result.error, harness.logs(result)[JOB_RESULT_LOG])
    assert (result.rows, result.failed_items) == (20, 0)
    rows = [line.split(" ") for line in output_lines(harness, result)]
    assert {r[1] for r in rows} == {"1.5.2"}
    assert sklearn.__version__.startswith("1.9")  # the project keeps its own
    assert rows[0] == ["2.0", "1.5.2", "part-0.csv"]  # 2 * 0.5 + 1
    assert result.manifest.runtime.python == str(built.python)
    assert harness.latest_version() == result.version_id
