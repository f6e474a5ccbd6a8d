"""The MLflow no-code scoring path end to end: a registered sklearn model, real S3, worker processes.

MLflow registry: the stack's server when this session runs the full stack, otherwise a sqlite
registry with local artifacts (resolution goes through the same ``MlflowClient`` calls).
"""

from __future__ import annotations

import dataclasses
import io
import logging
import math
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mlflow.models import infer_signature
from sklearn.linear_model import LinearRegression

from batchpoint.config import Settings
from batchpoint.errors import ModelError
from batchpoint.models.mlflow_models import resolve_model
from batchpoint.outputs.layout import JOB_ERROR_LOG, JOB_RESULT_LOG, OutputLayout
from batchpoint.outputs.versions import list_versions, read_latest
from batchpoint.scoring.job import JobResult, run_scoring_job
from batchpoint.scoring.runtime_setup import prepare_runtime
from batchpoint.specs.deployment import BatchDeployment, BatchRetrySettings
from batchpoint.specs.job import JobProgress
from batchpoint.specs.model_ref import parse_model_ref
from batchpoint.storage.datastore import open_datastore
from batchpoint.storage.port import ObjectInfo
from batchpoint.storage.s3 import S3Store

pytestmark = [
    pytest.mark.integration,
    # MLflow's own deprecation notices while logging a model; not ours to fix.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::FutureWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::UserWarning:mlflow.*"),
]

MODEL = "bp-test-regressor"
GOOD = {"part-000.csv": 7, "part-001.csv": 5, "part-002.parquet": 6, "part-003.pqt": 4, "part-004.csv": 3}
BAD = {
    "notes.txt": "not a CSV or Parquet file",
    "part-005-missing.csv": "missing column(s) units",
    "part-006-empty.csv": "the file is empty",
}


def _server_up(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def settings(store_and_broker: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The stack's settings, with a sqlite MLflow registry when no MLflow server runs."""
    base = store_and_broker
    if _server_up(base.mlflow_uri):
        chosen = base
    else:
        folder = tmp_path_factory.mktemp("mlflow")
        chosen = dataclasses.replace(base, mlflow_tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in chosen.s3_env().items():
            mp.setenv(key, value)
        mp.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        previous = mlflow.get_tracking_uri()
        mlflow.set_tracking_uri(chosen.mlflow_uri)
        try:
            yield chosen
        finally:
            mlflow.set_tracking_uri(previous)


def features(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "price": rng.uniform(1, 100, rows).round(2),
            "units": rng.integers(0, 50, rows).astype("int64"),
            "region": rng.choice(["north", "south"], rows),
        }
    )


@pytest.fixture(scope="module")
def registered(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Train and register two versions of a tiny regressor; returns the URI of the newest."""
    train = features(200, seed=1)
    target = 3 * train["price"] - 2 * train["units"] + 5
    experiment = f"bp-scoring-{tmp_path_factory.getbasetemp().name}"
    if settings.mlflow_uri.startswith("sqlite"):
        location = (tmp_path_factory.mktemp("artifacts")).as_uri()
        mlflow.set_experiment(experiment_id=mlflow.create_experiment(experiment, artifact_location=location))
    else:
        mlflow.set_experiment(experiment)
    model = LinearRegression().fit(train[["price", "units"]], target)
    signature = infer_signature(train[["price", "units"]], model.predict(train[["price", "units"]]))
    for _ in range(2):
        with mlflow.start_run():
            mlflow.sklearn.log_model(model, name="model", signature=signature, registered_model_name=MODEL)
    versions = mlflow.MlflowClient().search_model_versions(f"name = '{MODEL}'")
    return f"models:/{MODEL}/{max(int(v.version) for v in versions)}"


def put_inputs(store: S3Store, bucket: str) -> dict[str, pd.DataFrame]:
    store.ensure_bucket(bucket)
    frames: dict[str, pd.DataFrame] = {}
    for i, (name, rows) in enumerate(GOOD.items()):
        df = features(rows, seed=100 + i)
        if name.endswith(".csv"):
            data = df.to_csv(index=False).encode()
        else:
            # Integers where the model wants doubles: casting to the signature must handle it.
            df["price"] = df["price"].round().astype("int64")
            sink = io.BytesIO()
            pq.write_table(pa.Table.from_pandas(df, preserve_index=False), sink)
            data = sink.getvalue()
        store.put_bytes(bucket, f"sales/2026-11/{name}", data)
        frames[name] = df
    store.put_bytes(bucket, "sales/2026-11/notes.txt", b"not data")
    store.put_bytes(bucket, "sales/2026-11/part-005-missing.csv", b"price,region\n1.0,north\n")
    store.put_bytes(bucket, "sales/2026-11/part-006-empty.csv", b"")
    return frames


def deployment(model_uri: str, error_threshold: int) -> BatchDeployment:
    return BatchDeployment.parse(
        {
            "name": "forecast-mlflow",
            "endpoint_name": "sales-forecast",
            "model": model_uri,
            "resources": {"instance_count": 2},
            "settings": {"mini_batch_size": 2, "max_concurrency_per_instance": 1, "error_threshold": error_threshold},
        }
    )


def score(settings: Settings, store: S3Store, model_uri: str, inputs: list[ObjectInfo], threshold: int) -> JobResult:
    model = resolve_model(parse_model_ref(model_uri), settings)
    seen: list[JobProgress] = []
    spec = deployment(model_uri, threshold)
    result = run_scoring_job(
        store=store,
        settings=settings,
        layout=OutputLayout(settings.output_bucket, "sales-forecast", "2026-11"),
        deployment=spec,
        model=model,
        runtime=prepare_runtime(spec, model, settings=settings, store=store, environment=None),
        inputs=inputs,
        job_id=f"job-threshold-{threshold}",
        progress=seen.append,
        log=logging.getLogger("test.scoring"),
    )
    assert seen
    assert seen[-1].mini_batches_done == seen[-1].mini_batches == 4
    return result


def test_scores_every_good_file_and_names_every_bad_one(
    settings: Settings, registered: str, unique_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = dataclasses.replace(settings, output_bucket=f"{unique_name}-out")
    store = open_datastore(settings)
    frames = put_inputs(store, unique_name)
    inputs = list(store.list(unique_name, "sales/2026-11/"))

    with caplog.at_level(logging.ERROR, logger="test.scoring"):
        result = score(settings, store, registered, inputs, threshold=3)

    assert result.status == "Completed", result.error
    assert result.latest_moved
    assert result.rows == sum(GOOD.values())
    # Logged by this very environment: batchpoint's interpreter satisfies the model, nothing is built.
    assert result.manifest.runtime.environment["choice"] == "own-interpreter"
    # The session's other tests build environments in the same cache: ask the manifest, not the folder.
    assert result.manifest.runtime.environment_key is None
    assert result.manifest.runtime.python == sys.executable
    assert result.failed_items == len(BAD)
    by_name = {f.name: f for f in result.files}
    for name, problem in BAD.items():
        assert by_name[name].error is not None
        assert problem in by_name[name].error
        assert any(name in r.getMessage() and problem in r.getMessage() for r in caplog.records)
    for name, rows in GOOD.items():
        assert (by_name[name].rows, by_name[name].error) == (rows, None)

    # The output: Azure's three columns (row within its file, prediction, file name), comma-separated,
    # no header, read back the way Azure's notebooks read it; every row equal to MLflow's own.
    layout = OutputLayout(settings.output_bucket, "sales-forecast", "2026-11")
    data = store.get_bytes(layout.bucket, layout.key(result.version_id, "predictions.csv"))
    predictions = pd.read_csv(io.BytesIO(data), names=["row", "prediction", "file"])
    assert len(predictions) == sum(GOOD.values())
    assert set(predictions["file"]) == set(GOOD)
    reference = mlflow.pyfunc.load_model(registered)
    for name, df in frames.items():
        expected = reference.predict(df[["price", "units"]].astype({"price": "float64"}))
        mine = predictions[predictions["file"] == name]
        assert mine["row"].tolist() == list(range(len(df)))
        np.testing.assert_allclose(mine["prediction"].to_numpy(), expected, rtol=1e-12)

    job_error = store.get_bytes(layout.bucket, layout.key(result.version_id, JOB_ERROR_LOG)).decode()
    job_result = store.get_bytes(layout.bucket, layout.key(result.version_id, JOB_RESULT_LOG)).decode()
    for name, problem in BAD.items():
        assert any(name in line and problem in line for line in job_error.splitlines())
        assert name in job_result
    manifest = result.manifest.to_dict()  # the JSON users read
    assert manifest["model"]["uri"] == registered
    assert manifest["totals"] == {
        "files": 8,
        "succeeded_files": 5,
        "failed_files": 3,
        "failed_items": 3,
        "rows": 25,
        "mini_batches": 4,
        "input_bytes": sum(f.size for f in inputs),
        "error_threshold": 3,
    }
    assert {f["uri"]: f["etag"] for f in manifest["inputs"]} == {f"s3://{f.bucket}/{f.key}": f.etag for f in inputs}
    assert manifest["output"]["columns"] == ["row", "prediction", "file"]
    latest = read_latest(store, layout)
    assert latest is not None
    assert latest.version_id == result.version_id

    # Over the threshold: a new version, kept for diagnosis; latest stays where it was.
    failed = score(settings, store, registered, inputs, threshold=2)
    assert failed.status == "Failed"
    assert failed.error is not None
    assert "more than error_threshold 2" in failed.error
    assert not failed.latest_moved
    latest = read_latest(store, layout)
    assert latest is not None
    assert latest.version_id == result.version_id
    assert list_versions(store, layout) == sorted([result.version_id, failed.version_id])


def test_model_resolution(settings: Settings, registered: str) -> None:
    newest = resolve_model(parse_model_ref(f"models:/{MODEL}@latest"), settings)
    assert newest.uri == registered
    assert newest.run_id
    assert newest.signature is not None
    assert newest.signature.names == ("price", "units")
    assert (newest.local_path / "MLmodel").is_file()
    # Azure's layout: AZUREML_MODEL_DIR holds the model in one subfolder.
    assert newest.model_dir == settings.cache_dir / "models" / MODEL / newest.version
    assert newest.local_path == newest.model_dir / "model"
    marker = newest.local_path / "cached-marker"
    marker.write_text("x")
    again = resolve_model(parse_model_ref(f"azureml:{MODEL}:{newest.version}"), settings)
    assert again.local_path == newest.local_path
    assert marker.exists(), "a cached version must not be downloaded again"
    first = resolve_model(parse_model_ref(f"models:/{MODEL}/1"), settings)
    assert first.version == "1"
    assert not any(p.name.startswith(".") for p in first.model_dir.parent.iterdir())


@pytest.mark.parametrize("ref", [f"models:/{MODEL}/999", f"models:/{MODEL}@champion", "models:/no-such-model/1"])
def test_unknown_models_show_the_valid_form(settings: Settings, registered: str, ref: str) -> None:
    with pytest.raises(ModelError, match=r"not found in the MLflow registry.*models:/<name>/<version>"):
        resolve_model(parse_model_ref(ref), settings)


def test_a_model_that_cannot_load_fails_the_job_visibly(
    settings: Settings, registered: str, unique_name: str, tmp_path: Path
) -> None:
    settings = dataclasses.replace(settings, output_bucket=f"{unique_name}-out")
    store = open_datastore(settings)
    store.ensure_bucket(unique_name)
    store.put_bytes(unique_name, "sales/2026-11/part-000.csv", b"price,units\n1.0,2\n")
    inputs = list(store.list(unique_name, "sales/2026-11/"))
    good = resolve_model(parse_model_ref(registered), settings)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "MLmodel").write_text("flavors: {}\n")  # an MLmodel with no python_function flavor
    broken = dataclasses.replace(good, local_path=tmp_path / "model", model_dir=tmp_path)
    spec = deployment(registered, -1)
    spec = spec.model_copy(
        update={"settings": spec.settings.model_copy(update={"retry_settings": BatchRetrySettings(max_retries=1)})}
    )

    result = run_scoring_job(
        store=store,
        settings=settings,
        layout=OutputLayout(settings.output_bucket, "sales-forecast", "2026-11"),
        deployment=spec,
        model=broken,
        runtime=prepare_runtime(spec, broken, settings=settings, store=store, environment=None),
        inputs=inputs,
        job_id="job-broken-model",
        log=logging.getLogger("test.scoring"),
    )

    assert result.status == "Failed"
    assert result.error is not None
    assert "init() failed" in result.error
    assert not result.latest_moved
    assert result.rows == 0
    assert all(f.error and "init() failed" in f.error and "python_function" in f.error for f in result.files)
    layout = OutputLayout(settings.output_bucket, "sales-forecast", "2026-11")
    job_error = store.get_bytes(layout.bucket, layout.key(result.version_id, JOB_ERROR_LOG)).decode()
    assert "init() failed" in job_error
    assert read_latest(store, layout) is None


def _job(
    settings: Settings,
    store: S3Store,
    model_uri: str,
    inputs: list[ObjectInfo],
    job_id: str,
    *,
    reuse: str | None = None,
    promote: bool = True,
    relist: Callable[[], list[ObjectInfo]] | None = None,
) -> JobResult:
    model = resolve_model(parse_model_ref(model_uri), settings)
    spec = deployment(model_uri, -1)
    return run_scoring_job(
        store=store,
        settings=settings,
        layout=OutputLayout(settings.output_bucket, "sales-forecast", "2026-11"),
        deployment=spec,
        model=model,
        runtime=prepare_runtime(spec, model, settings=settings, store=store, environment=None),
        inputs=inputs,
        job_id=job_id,
        log=logging.getLogger("test.scoring"),
        reuse=reuse,  # type: ignore[arg-type]
        promote=promote,
        relist=relist,
    )


def _predictions(store: S3Store, result: JobResult) -> bytes:
    bucket, _, key = result.output_uri.removeprefix("s3://").partition("/")
    return store.get_bytes(bucket, key)


def assert_same_predictions(reused: bytes, full: bytes) -> None:
    """The same rows in the same order, text cells equal and numbers equal up to float rounding.

    A mini-batch is predicted as one matrix, and BLAS sums in an order that depends on the matrix's
    shape, so a file's predictions can differ in the last digits with the files that share its
    mini-batch (seen: 8.170000000000027 against 8.17000000000003). Reuse guarantees the rows an
    earlier run computed for the same object, not bit-equality with any other batching.
    """
    reused_rows = [line.split(",") for line in reused.decode().splitlines()]
    full_rows = [line.split(",") for line in full.decode().splitlines()]
    assert len(reused_rows) == len(full_rows)
    for got, want in zip(reused_rows, full_rows, strict=True):
        assert len(got) == len(want), (got, want)
        for a, b in zip(got, want, strict=True):
            try:
                assert math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9), (got, want)
            except ValueError:
                assert a == b, (got, want)


def test_incremental_and_failed_only_runs_equal_a_full_rescore(
    settings: Settings, registered: str, unique_name: str
) -> None:
    settings = dataclasses.replace(settings, output_bucket=f"{unique_name}-out")
    store = open_datastore(settings)
    put_inputs(store, unique_name)
    store.delete(unique_name, "sales/2026-11/notes.txt")
    store.delete(unique_name, "sales/2026-11/part-006-empty.csv")
    first = _job(settings, store, registered, list(store.list(unique_name, "sales/2026-11/")), "job-first")
    assert first.status == "Completed"
    assert first.failed_items == 1  # part-005-missing.csv lacks a column
    lineage_uri = first.manifest.lineage_uri
    assert lineage_uri and lineage_uri.endswith("/predictions.parquet")
    lineage = pq.read_table(io.BytesIO(store.get_bytes(*lineage_uri.removeprefix("s3://").split("/", 1))))
    assert lineage.column_names[-8:] == [
        "file",
        "input_uri",
        "row_index",
        "model_name",
        "model_version",
        "deployment",
        "job_id",
        "scored_at",
    ]
    assert lineage.num_rows == first.rows
    assert set(lineage["job_id"].to_pylist()) == {"job-first"}

    # Fix the failed file: a failed-files run scores only it and reuses every other file's rows.
    store.put_bytes(unique_name, "sales/2026-11/part-005-missing.csv", features(4, seed=9).to_csv(index=False).encode())
    inputs = list(store.list(unique_name, "sales/2026-11/"))
    fixed = _job(settings, store, registered, inputs, "job-fixed", reuse="failed-files")
    assert fixed.status == "Completed"
    assert fixed.mini_batches == 1
    assert fixed.manifest.reused.files == len(GOOD)
    full = _job(settings, store, registered, inputs, "job-full")
    assert_same_predictions(_predictions(store, fixed), _predictions(store, full))

    # Change one file and add one: an incremental run scores those two only, same result as in full.
    store.put_bytes(unique_name, "sales/2026-11/part-001.csv", features(6, seed=77).to_csv(index=False).encode())
    store.put_bytes(unique_name, "sales/2026-11/part-000a.csv", features(3, seed=78).to_csv(index=False).encode())
    inputs = list(store.list(unique_name, "sales/2026-11/"))
    incremental = _job(settings, store, registered, inputs, "job-incremental", reuse="incremental")
    full = _job(settings, store, registered, inputs, "job-full-2", promote=False)
    assert incremental.manifest.reused.files == len(GOOD)  # 4 unchanged GOOD files + the fixed one
    assert sum(1 for f in incremental.files if f.reused_from) == len(GOOD)
    assert_same_predictions(_predictions(store, incremental), _predictions(store, full))
    assert incremental.rows == full.rows

    # A run that does not promote leaves latest where it was.
    assert full.status == "Completed"
    assert not full.latest_moved
    assert full.manifest.promoted is False
    latest = read_latest(store, OutputLayout(settings.output_bucket, "sales-forecast", "2026-11"))
    assert latest is not None
    assert latest.version_id == incremental.version_id

    # One more file lands: the next run scores exactly that file and reuses every other one from latest.
    store.put_bytes(unique_name, "sales/2026-11/part-009.csv", features(2, seed=79).to_csv(index=False).encode())
    inputs = list(store.list(unique_name, "sales/2026-11/"))
    one_more = _job(settings, store, registered, inputs, "job-one-more", reuse="incremental")
    assert one_more.status == "Completed"
    scored = [uri for m in one_more.manifest.mini_batches for uri in m.files]
    assert scored == [f"s3://{unique_name}/sales/2026-11/part-009.csv"]
    assert one_more.manifest.reused is not None
    assert (one_more.manifest.reused.version_id, one_more.manifest.reused.files) == (
        incremental.version_id,
        len(inputs) - 1,
    )
    assert one_more.rows == incremental.rows + 2
    # part-009 sorts after every reused file: the reused rows were written first and the new ones
    # streamed after them (scoring/job.py rows_lead), the same result as in full, lineage too.
    full_3 = _job(settings, store, registered, inputs, "job-full-3", promote=False)
    assert_same_predictions(_predictions(store, one_more), _predictions(store, full_3))
    lineages = [
        pq.read_table(io.BytesIO(store.get_bytes(*str(job.manifest.lineage_uri).removeprefix("s3://").split("/", 1))))
        for job in (one_more, full_3)
    ]
    keep = ["input_uri", "row_index"]
    assert lineages[0].select(keep).to_pylist() == lineages[1].select(keep).to_pylist()
    assert lineages[0]["job_id"].to_pylist()[-2:] == ["job-one-more"] * 2


def test_files_that_land_while_a_job_runs_join_it_and_the_next_run_scores_none_again(
    settings: Settings, registered: str, unique_name: str
) -> None:
    settings = dataclasses.replace(settings, output_bucket=f"{unique_name}-out")
    store = open_datastore(settings)
    put_inputs(store, unique_name)
    for name in BAD:
        store.delete(unique_name, f"sales/2026-11/{name}")
    first = _job(settings, store, registered, list(store.list(unique_name, "sales/2026-11/")), "job-before")
    assert first.status == "Completed"
    store.put_bytes(unique_name, "sales/2026-11/part-001.csv", features(6, seed=51).to_csv(index=False).encode())
    listed = list(store.list(unique_name, "sales/2026-11/"))

    def landing_meanwhile() -> list[ObjectInfo]:
        # Two files land after the job listed its folder, one of them sorting among the listed ones.
        for name, rows in (("part-000b.csv", 3), ("part-009.csv", 2)):
            store.put_bytes(
                unique_name, f"sales/2026-11/{name}", features(rows, seed=rows).to_csv(index=False).encode()
            )
        return list(store.list(unique_name, "sales/2026-11/"))

    joined = _job(settings, store, registered, listed, "job-joined", reuse="incremental", relist=landing_meanwhile)

    assert joined.status == "Completed" and joined.latest_moved
    late = [f"s3://{unique_name}/sales/2026-11/{n}" for n in ("part-000b.csv", "part-009.csv")]
    scored = [uri for m in joined.manifest.mini_batches for uri in m.files]
    assert scored == [f"s3://{unique_name}/sales/2026-11/part-001.csv", *late]  # the change, then the late files
    assert {f"s3://{f.bucket}/{f.key}" for f in joined.manifest.inputs} >= set(late)
    assert {f.key for f in joined.inputs} == {f.key for f in store.list(unique_name, "sales/2026-11/")}
    assert joined.manifest.totals.files == len(GOOD) + 2
    assert joined.rows == first.rows - 5 + 6 + 3 + 2
    full = _job(settings, store, registered, list(store.list(unique_name, "sales/2026-11/")), "job-full", promote=False)
    assert_same_predictions(_predictions(store, joined), _predictions(store, full))  # in full-run order

    # The run the sensor requested for the late files finds them in latest: it scores nothing again.
    after = _job(
        settings, store, registered, list(store.list(unique_name, "sales/2026-11/")), "job-after", reuse="incremental"
    )
    assert after.status == "Completed"
    assert after.manifest.mini_batches == ()
    assert after.manifest.reused is not None and after.manifest.reused.files == len(GOOD) + 2


def test_a_job_whose_every_file_fails_is_failed_and_leaves_latest_alone(
    settings: Settings, registered: str, unique_name: str
) -> None:
    """error_threshold -1 tolerates failed items, not a job with no succeeded one (Azure's rule)."""
    settings = dataclasses.replace(settings, output_bucket=f"{unique_name}-out")
    store = open_datastore(settings)
    store.ensure_bucket(unique_name)
    good = features(3, seed=7).to_csv(index=False).encode()
    store.put_bytes(unique_name, "sales/2026-11/part-000.csv", good)
    first = _job(settings, store, registered, list(store.list(unique_name, "sales/2026-11/")), "job-good")
    assert first.status == "Completed" and first.latest_moved

    store.delete(unique_name, "sales/2026-11/part-000.csv")
    for i in range(4):
        store.put_bytes(unique_name, f"sales/2026-11/bad-{i}.csv", b"price,region\n1.0,north\n")
    failed = _job(settings, store, registered, list(store.list(unique_name, "sales/2026-11/")), "job-all-bad")

    assert failed.status == "Failed" and not failed.latest_moved
    assert failed.error is not None
    assert failed.error.startswith("There is no succeeded mini batch item returned from run()")
    assert (failed.rows, failed.failed_items) == (0, 4)
    layout = OutputLayout(settings.output_bucket, "sales-forecast", "2026-11")
    latest = read_latest(store, layout)
    assert latest is not None and latest.version_id == first.version_id
    job_result = store.get_bytes(layout.bucket, layout.key(failed.version_id, JOB_RESULT_LOG)).decode()
    assert job_result.startswith("status: Failed\n")
    assert "There is no succeeded mini batch item" in job_result


def test_header_only_inputs_complete_with_no_rows(settings: Settings, registered: str, unique_name: str) -> None:
    """0 rows from files that have none is a result, not a failure."""
    settings = dataclasses.replace(settings, output_bucket=f"{unique_name}-out")
    store = open_datastore(settings)
    store.ensure_bucket(unique_name)
    for i in range(2):
        store.put_bytes(unique_name, f"sales/2026-11/part-{i}.csv", b"price,units\n")
    result = _job(settings, store, registered, list(store.list(unique_name, "sales/2026-11/")), "job-headers")
    assert (result.status, result.rows, result.failed_items) == ("Completed", 0, 0), result.error
