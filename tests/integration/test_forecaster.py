"""The demo forecaster trains, registers in a real MLflow tracking store, loads back and beats seasonal-naive."""

from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import mean_absolute_error

from batchpoint.demo.forecaster import RegisteredForecaster, train_and_register
from batchpoint.demo.sales_history import FEATURE_COLUMNS, TARGET, generate_history, scoring_rows, split_into_parts

pytestmark = [
    pytest.mark.integration,
    # MLflow's SQL tracking store still declares a `noload` relationship, which SQLAlchemy 2.1
    # deprecates when MLflow imports the store; nothing batchpoint can change.
    pytest.mark.filterwarnings(
        "ignore:The ``noload`` loader strategy is deprecated:sqlalchemy.exc.SADeprecationWarning"
    ),
]

PRODUCTS, MONTHS, HOLDOUT = 20, 36, 6


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return generate_history(products=PRODUCTS, months=MONTHS, start="2024-01", seed=7)


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root}/mlflow.db"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)  # for loading `models:/...` in the tests below
    yield uri
    mlflow.set_tracking_uri(previous)


@pytest.fixture(scope="module")
def registered(
    history: pd.DataFrame, tracking_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> RegisteredForecaster:
    artifacts = tmp_path_factory.mktemp("artifacts")
    return train_and_register(
        history, tracking_uri, holdout_months=HOLDOUT, artifact_location=artifacts.as_uri(), seed=0
    )


@pytest.fixture(scope="module")
def model(registered: RegisteredForecaster) -> mlflow.pyfunc.PyFuncModel:
    return mlflow.pyfunc.load_model("models:/sales-forecaster/1")


def test_registered_as_version_one(registered: RegisteredForecaster, tracking_uri: str) -> None:
    assert (registered.name, registered.version, registered.uri) == (
        "sales-forecaster",
        1,
        "models:/sales-forecaster/1",
    )
    run = mlflow.MlflowClient(tracking_uri).get_run(registered.run_id)
    assert run.data.metrics["mae"] == pytest.approx(registered.metrics["mae"])
    assert run.data.params["holdout_months"] == str(HOLDOUT)


def test_beats_seasonal_naive_on_the_holdout(registered: RegisteredForecaster) -> None:
    m = registered.metrics
    assert m["mae"] < 0.9 * m["baseline_mae"]
    assert m["mape"] < m["baseline_mape"]
    assert m["fit_seconds"] < 10


def test_signature_types_every_feature(model: mlflow.pyfunc.PyFuncModel) -> None:
    inputs = model.metadata.get_input_schema()
    assert {c.name: c.type.name for c in inputs.inputs} == {
        "month": "string",
        "product_id": "string",
        "month_of_year": "long",
        "months_since_start": "long",
        "price": "double",
        "promotion": "long",
        "units_last_month": "long",
        "units_same_month_last_year": "long",
        "units_rolling_mean_3": "double",
    }


def test_loaded_model_scores_a_month_and_beats_the_baseline(
    model: mlflow.pyfunc.PyFuncModel, history: pd.DataFrame
) -> None:
    months = sorted(history["month"].unique())[-HOLDOUT:]
    holdout = history[history["month"].isin(months)]
    predicted = np.concatenate([np.asarray(model.predict(scoring_rows(history, m))) for m in months])
    assert predicted.shape == (PRODUCTS * HOLDOUT,)
    assert np.isfinite(predicted).all()
    assert (predicted > 0).all()
    model_mae = mean_absolute_error(holdout[TARGET], predicted)
    baseline_mae = mean_absolute_error(holdout[TARGET], holdout["units_same_month_last_year"])
    assert model_mae < baseline_mae


def test_each_landed_csv_part_scores_on_its_own(
    model: mlflow.pyfunc.PyFuncModel, history: pd.DataFrame, tmp_path: Path
) -> None:
    rows = scoring_rows(history, "2026-12")
    whole = np.asarray(model.predict(rows))
    scored = []
    for i, part in enumerate(split_into_parts(rows, 3)):
        path = tmp_path / f"part-{i:03d}.csv"
        part.to_csv(path, index=False)
        scored.append(np.asarray(model.predict(pd.read_csv(path))))
    np.testing.assert_allclose(np.concatenate(scored), whole)
    assert list(rows.columns) == list(FEATURE_COLUMNS)
