"""Train the demo's monthly sales forecaster, log it to MLflow and register it.

Demo code, not core: it imports MLflow and scikit-learn. The model is a scikit-learn pipeline:
the numeric features of ``sales_history.FEATURE_COLUMNS`` into a single-threaded
``HistGradientBoostingRegressor`` with Poisson loss. ``month`` and ``product_id`` are identifiers
the model accepts (they are in its signature, so scored files keep them) but does not learn from:
a product's level, trend and season are in its own lagged sales, and leaving the id out keeps the
fit at ~1 s for 1,000 products (one-hot products took 100 s) and lets new products be scored.
It is trained on every month but the last ``holdout_months`` and compared on those with the
seasonal-naive forecast (``units_same_month_last_year``); the registered model is the one
evaluated, so its reported metrics are its own.

Against an MLflow server whose artifacts live in S3, the caller provides the S3 variables
(``Settings.s3_env()``) in the environment before calling.
"""

from __future__ import annotations

import importlib.metadata
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import mean_absolute_error, mean_absolute_percentage_error
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from batchpoint.demo.sales_history import FEATURE_COLUMNS, ID_COLUMNS, TARGET
from batchpoint.errors import SpecError

with warnings.catch_warnings():
    # Importing mlflow.pyfunc (which log_model and load_model need) builds schemas of MLflow's own
    # agent types and warns about their `Any` fields; it says nothing about our model, and under
    # warnings-as-errors it would fail the import. Import it here, once, with that warning quiet.
    warnings.filterwarnings("ignore", message=r".*Any type hint is inferred as AnyType", category=UserWarning)
    import mlflow.pyfunc

# HistGradientBoosting's tree nodes are not in skops' default trust list (their indices are not
# bounds-checked); we wrote the file ourselves, so this one type is trusted when it is loaded.
SKOPS_TRUSTED_TYPES: tuple[str, ...] = ("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",)
NUMERIC_FEATURES: tuple[str, ...] = tuple(c for c in FEATURE_COLUMNS if c not in ID_COLUMNS)
BASELINE_COLUMN = "units_same_month_last_year"


@dataclass(frozen=True)
class RegisteredForecaster:
    """A registered model version: load it with ``mlflow.pyfunc.load_model(uri)``."""

    name: str
    version: int
    uri: str
    run_id: str
    metrics: Mapping[str, float]


def build_pipeline(seed: int = 0) -> Pipeline:
    """The untrained forecaster: numeric features → gradient boosting; identifier columns are dropped."""
    features = ColumnTransformer([("numeric", "passthrough", list(NUMERIC_FEATURES))], remainder="drop")
    model = HistGradientBoostingRegressor(
        loss="poisson", learning_rate=0.05, max_iter=500, max_leaf_nodes=7, random_state=seed
    )
    return Pipeline([("features", features), ("model", model)])


def model_requirements() -> list[str]:
    """What the model needs to load, pinned to the versions it was trained with.

    Explicit, because in a uv project MLflow would otherwise export the whole lock (Dagster and
    all) as the model's environment.
    """
    packages = ("mlflow", "scikit-learn", "skops", "pandas", "numpy")
    return [f"{name}=={importlib.metadata.version(name)}" for name in packages]


def train_and_register(
    history: pd.DataFrame,
    tracking_uri: str,
    model_name: str = "sales-forecaster",
    *,
    holdout_months: int = 6,
    experiment_name: str = "batchpoint-demo",
    artifact_location: str | None = None,
    seed: int = 0,
) -> RegisteredForecaster:
    """Train on all but the last ``holdout_months`` months, log and register under ``model_name``.

    ``artifact_location`` is used only when the experiment is created (e.g. a local folder next
    to a sqlite tracking store); metrics are MAE and MAPE of the model and of the seasonal-naive
    baseline on the holdout, plus the fit time in seconds.
    """
    months = sorted(history["month"].unique())
    if not 1 <= holdout_months < len(months):
        raise SpecError("holdout_months", f"got {holdout_months} for {len(months)} months", "1 .. number of months - 1")
    is_holdout = history["month"].isin(months[-holdout_months:])
    train, holdout = history.loc[~is_holdout], history.loc[is_holdout]
    features = list(FEATURE_COLUMNS)

    pipeline = build_pipeline(seed)
    started = time.perf_counter()
    # One OpenMP thread: the demo trains next to the stack's own processes on a small machine.
    with threadpool_limits(limits=1, user_api="openmp"):
        pipeline.fit(train[features], train[TARGET])
        predicted = pipeline.predict(holdout[features])
    fit_seconds = time.perf_counter() - started
    metrics = _holdout_metrics(holdout, np.asarray(predicted, dtype=np.float64)) | {"fit_seconds": fit_seconds}

    example = train[features].head(5).reset_index(drop=True)
    with warnings.catch_warnings():
        # MLflow warns that integer columns cannot hold missing values; ours never miss one, and
        # under warnings-as-errors the warning would make MLflow fall back to an untyped schema.
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer", category=UserWarning)
        signature = infer_signature(example, np.asarray(pipeline.predict(example), dtype=np.float64))

    with _tracking(tracking_uri):
        experiment_id = _experiment_id(experiment_name, artifact_location)
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"{model_name}-training") as run:
            mlflow.log_params(
                {
                    "products": history["product_id"].nunique(),
                    "train_months": len(months) - holdout_months,
                    "holdout_months": holdout_months,
                    "train_rows": len(train),
                    "seed": seed,
                }
            )
            mlflow.log_metrics(metrics)
            with warnings.catch_warnings():
                # MLflow compares the example's columns with a range() when serialising it, which
                # pandas 3 deprecates; nothing of ours to change, and the comparison still works.
                warnings.filterwarnings("ignore", message="Operation with range is deprecated")
                info = mlflow.sklearn.log_model(
                    pipeline,
                    name="model",
                    signature=signature,
                    input_example=example,
                    registered_model_name=model_name,
                    skops_trusted_types=list(SKOPS_TRUSTED_TYPES),
                    pip_requirements=model_requirements(),
                )
    version = int(info.registered_model_version)
    return RegisteredForecaster(
        name=model_name,
        version=version,
        uri=f"models:/{model_name}/{version}",
        run_id=run.info.run_id,
        metrics=metrics,
    )


def _holdout_metrics(holdout: pd.DataFrame, predicted: np.ndarray) -> dict[str, float]:
    actual = holdout[TARGET].to_numpy(dtype=np.float64)
    baseline = holdout[BASELINE_COLUMN].to_numpy(dtype=np.float64)
    return {
        "mae": float(mean_absolute_error(actual, predicted)),
        "mape": float(mean_absolute_percentage_error(actual, predicted)),
        "baseline_mae": float(mean_absolute_error(actual, baseline)),
        "baseline_mape": float(mean_absolute_percentage_error(actual, baseline)),
    }


def _experiment_id(name: str, artifact_location: str | None) -> str:
    # The fluent API, at the tracking URI `_tracking` set: the demo logs as a user's training script does.
    existing = mlflow.get_experiment_by_name(name)
    if existing is not None:
        return str(existing.experiment_id)
    return str(mlflow.create_experiment(name, artifact_location=artifact_location))


@contextmanager
def _tracking(uri: str) -> Iterator[None]:
    # MLflow's fluent API (start_run, log_model) reads a process-wide tracking URI; restore the
    # caller's afterwards so training the demo model does not redirect the caller's own logging.
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)
