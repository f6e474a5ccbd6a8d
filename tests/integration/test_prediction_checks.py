"""Every version checked before it becomes ``latest`` (issue 14), on the real store and MLflow registry.

Each test scores months of its own endpoint with the built-in MLflow scorer, through
``run_scoring_job`` (what the Dagster step calls), and reads what the version says of its checks:
the manifest's ``checks`` section, ``job_result.txt``, and where ``latest`` points.
"""

from __future__ import annotations

import dataclasses
import io
import logging

import mlflow
import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from mlflow.models import infer_signature
from sklearn.linear_model import LinearRegression

from batchpoint.checks.results import CheckStatus
from batchpoint.config import Settings
from batchpoint.models.mlflow_models import resolve_model
from batchpoint.outputs.layout import JOB_RESULT_LOG, OutputLayout
from batchpoint.outputs.version_views import rollback
from batchpoint.outputs.versions import load_manifest, read_latest
from batchpoint.scoring.job import JobResult, run_scoring_job
from batchpoint.scoring.runtime_setup import prepare_runtime
from batchpoint.specs.model_ref import parse_model_ref
from batchpoint.specs.prediction_checks import DriftCheck, PredictionChecks, ValidityCheck
from batchpoint.storage.datastore import open_datastore
from batchpoint.storage.s3 import S3Store
from tests.integration.test_scoring_job import deployment, features, registered, settings

__all__ = ["registered", "settings"]  # the fixtures this module shares with test_scoring_job

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore::DeprecationWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::FutureWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::UserWarning:mlflow.*"),
]

ENDPOINT = "checked"


def _experiment(settings: Settings, tmp_path_factory: pytest.TempPathFactory, name: str) -> None:
    """Log into experiment ``name``, its artifacts in a temporary folder when MLflow is a local sqlite file.

    Without an artifact location a sqlite-backed MLflow writes ``./mlruns`` into the working tree.
    """
    experiment = f"{name}-{tmp_path_factory.getbasetemp().name}"
    if settings.mlflow_uri.startswith("sqlite"):
        location = tmp_path_factory.mktemp("artifacts").as_uri()
        mlflow.set_experiment(experiment_id=mlflow.create_experiment(experiment, artifact_location=location))
    else:
        mlflow.set_experiment(experiment)


@pytest.fixture(scope="module")
def nan_model(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A model that predicts the price, but NaN for every third row (a broken feature path's output).

    Defined here, not at module level: importing ``mlflow.pyfunc.model`` warns (MLflow's own
    notices), and a local class is pickled by value, so the scorer's worker needs no test module.
    """

    class EveryThirdNaN(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
        def predict(self, context: object, model_input: pd.DataFrame, params: object = None) -> np.ndarray:
            values = model_input["price"].to_numpy(dtype="float64").copy()
            values[::3] = np.nan
            return values

    _experiment(settings, tmp_path_factory, "bp-checks-nan")
    with mlflow.start_run():
        mlflow.pyfunc.log_model(name="model", python_model=EveryThirdNaN(), registered_model_name="bp-test-nan")
    versions = mlflow.MlflowClient().search_model_versions("name = 'bp-test-nan'")
    return f"models:/bp-test-nan/{max(int(v.version) for v in versions)}"


def _land(store: S3Store, bucket: str, month: str, frames: dict[str, pd.DataFrame]) -> None:
    store.ensure_bucket(bucket)
    for name, frame in frames.items():
        store.put_bytes(bucket, f"sales/{month}/{name}", frame.to_csv(index=False).encode())


def _score(
    settings: Settings,
    store: S3Store,
    model_uri: str,
    bucket: str,
    month: str,
    job_id: str,
    *,
    checks: PredictionChecks | None = None,
    reuse: str | None = None,
    compare: bool = False,
) -> JobResult:
    model = resolve_model(parse_model_ref(model_uri), settings)
    spec = deployment(model_uri, -1)
    return run_scoring_job(
        store=store,
        settings=settings,
        layout=OutputLayout(settings.output_bucket, ENDPOINT, month),
        deployment=spec,
        model=model,
        runtime=prepare_runtime(spec, model, settings=settings, store=store, environment=None),
        inputs=list(store.list(bucket, f"sales/{month}/")),
        job_id=job_id,
        log=logging.getLogger("test.checks"),
        reuse=reuse,  # type: ignore[arg-type]
        checks=checks,
        promote=not compare,
        compare=compare,
    )


def _job_result(store: S3Store, settings: Settings, month: str, result: JobResult) -> str:
    layout = OutputLayout(settings.output_bucket, ENDPOINT, month)
    return store.get_bytes(layout.bucket, layout.key(result.version_id, JOB_RESULT_LOG)).decode()


def _latest(store: S3Store, settings: Settings, month: str) -> str | None:
    pointer = read_latest(store, OutputLayout(settings.output_bucket, ENDPOINT, month))
    return pointer.version_id if pointer else None


def test_a_first_month_says_no_baseline_and_a_shifted_month_trips_drift(
    settings: Settings, registered: str, unique_name: str
) -> None:
    settings = dataclasses.replace(settings, output_bucket=f"{unique_name}-out")
    store = open_datastore(settings)
    for month, seed in (("2026-10", 10), ("2026-11", 20)):
        _land(store, unique_name, month, {f"part-{i}.csv": features(200, seed=seed + i) for i in range(3)})
    first = _score(settings, store, registered, unique_name, "2026-10", "job-october")

    assert first.status == "Completed" and first.latest_moved
    report = first.manifest.checks
    assert report is not None and report.baseline_version is None
    assert [(r.name, r.status) for r in report.results] == [
        ("completeness", CheckStatus.PASSED),
        ("validity", CheckStatus.PASSED),
        ("drift", CheckStatus.NOT_EVALUATED),
    ]
    drift = report.by_name("drift")
    assert drift is not None and drift.summary == "no baseline: the previous month (2026-09) has no latest version yet"
    assert "drift: not evaluated: no baseline" in _job_result(store, settings, "2026-10", first)

    # The same distribution a month later: within the thresholds, measured against October's latest.
    same = _score(settings, store, registered, unique_name, "2026-11", "job-november")
    assert same.manifest.checks is not None
    assert (same.manifest.checks.baseline_partition, same.manifest.checks.baseline_version) == (
        "2026-10",
        first.version_id,
    )
    calm = same.manifest.checks.by_name("drift")
    assert calm is not None and calm.status is CheckStatus.PASSED
    steps = same.manifest.checks.step_seconds  # where the checks' seconds went, a baseline read included
    assert list(steps) == ["predictions", "completeness", "baseline", "validity", "drift", "pictures"]
    assert abs(sum(steps.values()) - same.manifest.checks.seconds) < 0.01
    assert float(calm.per_column["prediction"]["psi"]) < 0.2

    # December's prices are four times November's: the predictions move, and drift says by how much.
    shifted = {f"part-{i}.csv": features(200, seed=30 + i).assign(price=lambda f: f["price"] * 4) for i in range(3)}
    _land(store, unique_name, "2026-12", shifted)
    moved = _score(settings, store, registered, unique_name, "2026-12", "job-december")
    tripped = moved.manifest.checks.by_name("drift") if moved.manifest.checks else None
    assert tripped is not None and tripped.status is CheckStatus.FAILED
    assert float(tripped.per_column["prediction"]["psi"]) > 1.0
    assert "'prediction' PSI" in tripped.summary
    histogram, before = (
        tripped.per_column["prediction"]["histogram"],
        tripped.per_column["prediction"]["baseline_histogram"],
    )
    assert len(str(histogram)) == len(str(before)) == 20 and histogram != before
    picture = moved.manifest.checks.pictures["drift[prediction]"] if moved.manifest.checks else ""
    svg = store.get_bytes(*picture.removeprefix("s3://").split("/", 1)).decode()
    assert svg.startswith("<svg") and "prediction: 2026-12 (filled) against 2026-11&#x27;s latest (outlined)" in svg
    assert moved.status == "Completed" and moved.latest_moved  # drift does not block by default

    # An endpoint that makes drift blocking keeps latest where it is; the version is still written.
    blocking = PredictionChecks(drift=DriftCheck(blocking=True))
    held = _score(settings, store, registered, unique_name, "2026-12", "job-december-2", checks=blocking)
    assert held.status == "Failed-check" and not held.latest_moved
    assert held.error is not None and held.error.startswith("check drift failed:")
    assert _latest(store, settings, "2026-12") == moved.version_id
    stored = load_manifest(store, OutputLayout(settings.output_bucket, ENDPOINT, "2026-12"), held.version_id)
    assert stored.status == "Failed-check" and stored.checks is not None and stored.checks.blocked_by
    text = _job_result(store, settings, "2026-12", held)
    assert "status: Failed-check" in text and "drift: failed (blocking): 'prediction' PSI" in text
    assert "latest: not moved: check drift failed" in text


def test_nan_predictions_fail_validity(settings: Settings, nan_model: str, unique_name: str) -> None:
    settings = dataclasses.replace(settings, output_bucket=f"{unique_name}-out")
    store = open_datastore(settings)
    _land(store, unique_name, "2026-11", {"part-0.csv": features(9, seed=1), "part-1.csv": features(6, seed=2)})

    reported = _score(settings, store, nan_model, unique_name, "2026-11", "job-nan")
    validity = reported.manifest.checks.by_name("validity") if reported.manifest.checks else None
    assert validity is not None and validity.status is CheckStatus.FAILED
    assert validity.summary == "5 of 15 predictions of 'prediction' are null or NaN"
    assert reported.status == "Completed"  # validity reports unless the endpoint makes it block

    blocking = PredictionChecks(validity=ValidityCheck(blocking=True))
    held = _score(settings, store, nan_model, unique_name, "2026-11", "job-nan-2", checks=blocking)
    assert held.status == "Failed-check" and _latest(store, settings, "2026-11") == reported.version_id

    allowed = PredictionChecks(validity=ValidityCheck(blocking=True, allow_nulls=True))
    let_through = _score(settings, store, nan_model, unique_name, "2026-11", "job-nan-3", checks=allowed)
    assert let_through.status == "Completed" and _latest(store, settings, "2026-11") == let_through.version_id


def test_a_file_missing_from_the_output_fails_completeness_and_keeps_latest(
    settings: Settings, registered: str, unique_name: str
) -> None:
    settings = dataclasses.replace(settings, output_bucket=f"{unique_name}-out")
    store = open_datastore(settings)
    _land(store, unique_name, "2026-11", {f"part-{i}.csv": features(5 + i, seed=i) for i in range(3)})
    first = _score(settings, store, registered, unique_name, "2026-11", "job-first")
    assert first.status == "Completed"
    complete = first.manifest.checks.by_name("completeness") if first.manifest.checks else None
    assert complete is not None and complete.status is CheckStatus.PASSED
    assert complete.figures["rows_expected"] == complete.figures["rows_predicted"] == 5 + 6 + 7

    # The first version's lineage is damaged: part-1's rows are attributed to part-0. The row count
    # still matches its manifest, so the next run reuses them, and only completeness can tell.
    lineage_uri = first.manifest.lineage_uri
    assert lineage_uri is not None
    bucket, _, key = lineage_uri.removeprefix("s3://").partition("/")
    table = pq.read_table(io.BytesIO(store.get_bytes(bucket, key)))
    part_0, part_1 = (f"s3://{unique_name}/sales/2026-11/part-{i}.csv" for i in (0, 1))
    relabelled = pc.if_else(pc.equal(table["input_uri"], part_1), part_0, table["input_uri"])
    damaged = table.set_column(table.column_names.index("input_uri"), "input_uri", relabelled)
    sink = io.BytesIO()
    pq.write_table(damaged, sink)
    store.put_bytes(bucket, key, sink.getvalue())
    _land(store, unique_name, "2026-11", {"part-3.csv": features(4, seed=3)})

    second = _score(settings, store, registered, unique_name, "2026-11", "job-second", reuse="incremental")

    assert second.status == "Failed-check" and not second.latest_moved
    assert _latest(store, settings, "2026-11") == first.version_id
    missing = second.manifest.checks.by_name("completeness") if second.manifest.checks else None
    assert missing is not None and missing.status is CheckStatus.FAILED and missing.blocking
    assert missing.summary == (f"files 1 missing ({part_1}); 1 with extra rows ({part_0}); 1 scored twice ({part_0})")
    text = _job_result(store, settings, "2026-11", second)
    assert "status: Failed-check" in text and "completeness: failed (blocking): files 1 missing" in text

    # Moving latest to it is still a person's decision.
    pointer = rollback(store, OutputLayout(settings.output_bucket, ENDPOINT, "2026-11"), second.version_id)
    assert pointer.version_id == second.version_id == _latest(store, settings, "2026-11")


@pytest.fixture(scope="module")
def retrained(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The regressor of ``registered`` trained on a target 10 higher: every prediction moves by 10."""
    train = features(200, seed=1)
    target = 3 * train["price"] - 2 * train["units"] + 15
    _experiment(settings, tmp_path_factory, "bp-checks-retrained")
    model = LinearRegression().fit(train[["price", "units"]], target)
    signature = infer_signature(train[["price", "units"]], model.predict(train[["price", "units"]]))
    with mlflow.start_run():
        mlflow.sklearn.log_model(model, name="model", signature=signature, registered_model_name="bp-test-retrained")
    versions = mlflow.MlflowClient().search_model_versions("name = 'bp-test-retrained'")
    return f"models:/bp-test-retrained/{max(int(v.version) for v in versions)}"


def test_compare_reports_full_agreement_for_the_same_model_and_the_shift_of_a_retrained_one(
    settings: Settings, registered: str, retrained: str, unique_name: str
) -> None:
    settings = dataclasses.replace(settings, output_bucket=f"{unique_name}-out")
    store = open_datastore(settings)
    _land(store, unique_name, "2026-11", {f"part-{i}.csv": features(30, seed=40 + i) for i in range(2)})
    champion = _score(settings, store, registered, unique_name, "2026-11", "job-champion")

    same = _score(settings, store, registered, unique_name, "2026-11", "job-same", compare=True)
    assert not same.latest_moved and _latest(store, settings, "2026-11") == champion.version_id
    report = same.manifest.compare
    assert report is not None and report["champion_version"] == champion.version_id
    assert (report["rows_compared"], report["only_in_champion"], report["only_in_challenger"]) == (60, 0, 0)
    assert report["columns"] == [{"column": "prediction", "kind": "numbers", "mean_abs_diff": 0.0, "max_abs_diff": 0.0}]
    assert report["top_rows"] == []
    layout = OutputLayout(settings.output_bucket, ENDPOINT, "2026-11")
    text = store.get_bytes(layout.bucket, layout.key(same.version_id, "compare/report.txt")).decode()
    assert "prediction: mean |diff| 0, max |diff| 0" in text

    moved = _score(settings, store, retrained, unique_name, "2026-11", "job-retrained", compare=True)
    shifted = moved.manifest.compare
    assert shifted is not None and shifted["rows_compared"] == 60
    (column,) = shifted["columns"]
    assert column["mean_abs_diff"] == pytest.approx(10.0) and column["max_abs_diff"] == pytest.approx(10.0)
    assert len(shifted["top_rows"]) == 10 and shifted["top_rows"][0]["challenger"] == pytest.approx(
        shifted["top_rows"][0]["latest"] + 10.0
    )
