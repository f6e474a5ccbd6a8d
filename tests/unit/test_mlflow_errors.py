"""The MLflow edge's error translation: MLflow's errors as batchpoint's, worded for the user."""

import pytest
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INTERNAL_ERROR, NOT_FOUND, RESOURCE_DOES_NOT_EXIST

from batchpoint.errors import ModelError, NotFoundError
from batchpoint.models.mlflow_edge import (
    is_missing,
    registry_error,
    registry_errors,
    resolution_error,
    resolution_errors,
)
from batchpoint.specs.model_ref import VALID_FORMS, ParsedModelRef

URI = "http://127.0.0.1:5000"


@pytest.mark.parametrize(
    ("exc", "missing"),
    [
        (MlflowException("Registered Model with name=m not found", error_code=RESOURCE_DOES_NOT_EXIST), True),
        (MlflowException("no such thing", error_code=NOT_FOUND), True),
        (MlflowException("Model version not found", error_code=INTERNAL_ERROR), True),  # some stores say only this
        (MlflowException("database is locked", error_code=INTERNAL_ERROR), False),
        (ConnectionError("refused"), False),
    ],
)
def test_missing_is_said_by_the_error_code_or_the_message(exc: Exception, missing: bool) -> None:
    assert is_missing(exc) is missing


def test_a_missing_registry_entry_is_not_found_with_name_and_version() -> None:
    exc = MlflowException("RESOURCE_DOES_NOT_EXIST: no version 7", error_code=RESOURCE_DOES_NOT_EXIST)
    error = registry_error(exc, "heart", "7", URI)
    assert isinstance(error, NotFoundError)
    assert (error.kind, error.name) == ("model", "heart:7")
    assert str(error) == "model 'heart:7' not found; list versions with `batchpoint model list`"


def test_a_failing_registry_is_a_model_error_naming_the_registry() -> None:
    error = registry_error(MlflowException("database is locked"), "heart", None, URI)
    assert type(error) is ModelError
    assert str(error) == f"model heart: the MLflow registry at {URI} failed: database is locked"


def test_an_unreachable_registry_is_a_model_error_naming_the_model_only() -> None:
    error = registry_error(ConnectionRefusedError("refused"), "heart", "champion", URI)
    assert type(error) is ModelError
    assert str(error) == f"model heart: MLflow at {URI} failed: refused"


def test_registry_errors_chains_the_mlflow_error_and_lets_others_pass() -> None:
    cause = MlflowException("not found", error_code=RESOURCE_DOES_NOT_EXIST)
    with pytest.raises(NotFoundError) as raised, registry_errors("heart", "2", URI):
        raise cause
    assert raised.value.__cause__ is cause
    with pytest.raises(KeyError), registry_errors("heart", "2", URI):
        raise KeyError("a bug of ours stays a bug")


@pytest.mark.parametrize(
    ("ref", "what"),
    [(ParsedModelRef("heart", version="3"), "no version 3"), (ParsedModelRef("heart", alias="champion"), "no alias")],
)
def test_a_missing_model_reference_names_the_registry_and_the_valid_forms(ref: ParsedModelRef, what: str) -> None:
    error = resolution_error(MlflowException("not found", error_code=RESOURCE_DOES_NOT_EXIST), ref, URI)
    assert str(error).startswith(f"model {ref.uri} not found in the MLflow registry at {URI} (no model 'heart'")
    assert what in str(error)
    assert str(error).endswith(f"model must be {VALID_FORMS}")


def test_a_failing_download_says_what_failed() -> None:
    ref = ParsedModelRef("heart", version="3")
    assert str(resolution_error(MlflowException("boom"), ref, URI)) == (
        f"model models:/heart/3: the MLflow registry at {URI} failed: boom"
    )
    assert str(resolution_error(PermissionError("denied"), ref, URI)) == (
        "model models:/heart/3: reading its artifacts failed: PermissionError: denied"
    )


def test_resolution_errors_keeps_model_errors_as_they_are() -> None:
    ref = ParsedModelRef("heart", version="3")
    own = ModelError("model 'heart' has no registered versions")
    with pytest.raises(ModelError) as raised, resolution_errors(ref, URI):
        raise own
    assert raised.value is own
    with pytest.raises(ModelError, match="reading its artifacts failed: ValueError"), resolution_errors(ref, URI):
        raise ValueError("bad MLmodel")
