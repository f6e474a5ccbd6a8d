"""The MLflow edge: the one module of batchpoint's core that imports MLflow.

Everything the MLflow adapters of ``batchpoint.models`` share is here, so an MLflow upgrade is met
in one file (an import-linter contract in ``pyproject.toml`` keeps it so):

- ``client(settings)``: an ``MlflowClient`` on ``Settings.mlflow_uri`` (tracking and registry), its
  HTTP retries bounded by ``HTTP_LIMITS`` unless the caller wants MLflow's own;
- ``artifact_environment``: the S3 variables MLflow's artifact clients read from ``os.environ``;
  ``download`` and ``read_signature`` use it and MLflow's model files;
- error translation into ``batchpoint.errors``: ``registry_error`` and ``resolution_error`` (pure),
  the context managers ``registry_errors`` and ``resolution_errors``, and ``MLFLOW_FAILURES``;
- the ``batchpoint.*`` tags batchpoint writes on MLflow objects (``tag``, ``TYPE_TAG``, ...);
- the MLflow types and entities the adapters name, re-exported (``__all__``).
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    # Importing MLflow's client builds schemas of MLflow's own agent types and warns about their
    # `Any` fields (as in batchpoint.demo.forecaster); it says nothing about our models, and under
    # warnings-as-errors it would fail the import.
    warnings.filterwarnings("ignore", message=r".*Any type hint is inferred as AnyType", category=UserWarning)
    from mlflow.artifacts import download_artifacts
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset
    from mlflow.entities import Dataset, DatasetInput, InputTag, LoggedModelInput, Metric, Param, RunStatus
    from mlflow.entities.model_registry import ModelVersion
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient
    from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

from batchpoint.config import Settings
from batchpoint.errors import ModelError, NotFoundError
from batchpoint.models.signature import InputSignature
from batchpoint.scoring.builtin.file_scoring import PREDICTION_COLUMN
from batchpoint.scoring.builtin.mlflow_scorer import read_signature as scorer_signature
from batchpoint.specs.model_ref import VALID_FORMS, ParsedModelRef

__all__ = [
    "EXPERIMENT_PREFIX",
    "HTTP_LIMITS",
    "LAST_JOB_RUN_TAG",
    "MLFLOW_DATASET_CONTEXT",
    "MLFLOW_FAILURES",
    "MLMODEL",
    "TAG_PREFIX",
    "TYPE_TAG",
    "Dataset",
    "DatasetInput",
    "InputTag",
    "LoggedModelInput",
    "Metric",
    "MlflowClient",
    "MlflowException",
    "ModelVersion",
    "Param",
    "RunStatus",
    "artifact_environment",
    "client",
    "download",
    "is_missing",
    "read_output_signature",
    "read_signature",
    "registry_error",
    "registry_errors",
    "resolution_error",
    "resolution_errors",
    "s3_dataset",
    "tag",
]

MLMODEL = "MLmodel"
TAG_PREFIX = "batchpoint."
TYPE_TAG = f"{TAG_PREFIX}model_type"  # on model versions: the Azure model type
LAST_JOB_RUN_TAG = f"{TAG_PREFIX}last_job_run"  # on model versions: the newest job run that used it
# The experiment of each endpoint's job runs: ``batchpoint-jobs/<endpoint>``.
EXPERIMENT_PREFIX = "batchpoint-jobs/"
# MLflow retries a failing call 7 times with exponential backoff, minutes in all: an API request
# would hang that long on a server error. A few quick retries, then the error.
HTTP_LIMITS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
}
MLFLOW_FAILURES: tuple[type[Exception], ...] = (MlflowException, OSError)
"""What an MLflow call raises when the server, the registry or the artifact store fails it."""
_MISSING = {"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"}


def tag(key: str) -> str:
    """The MLflow tag batchpoint writes ``key`` as: ``batchpoint.<key>``."""
    return f"{TAG_PREFIX}{key}"


# ---- client and artifact access ------------------------------------------------------------
def client(settings: Settings, *, bounded_retries: bool = True) -> MlflowClient:
    """An MLflow client on ``settings.mlflow_uri``, for both tracking and the model registry.

    ``bounded_retries`` sets ``HTTP_LIMITS`` as defaults for the process (MLflow reads them from
    ``os.environ`` only, so they hold for every client made afterwards); without it a lookup keeps
    MLflow's own retries unless an earlier client set them.
    """
    if bounded_retries:
        for variable, value in HTTP_LIMITS.items():
            os.environ.setdefault(variable, value)
    return MlflowClient(tracking_uri=settings.mlflow_uri, registry_uri=settings.mlflow_uri)


@contextlib.contextmanager
def artifact_environment(settings: Settings, extra: Mapping[str, str] | None = None) -> Iterator[None]:
    """Set the S3 variables (``Settings.s3_env``) and ``extra`` for MLflow's artifact clients.

    They read them from ``os.environ`` only; the previous values are restored afterwards.
    """
    values = {**settings.s3_env(), **(extra or {})}
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def download(source: str, into: Path, settings: Settings) -> Path:
    """Download the artifacts at ``source`` into folder ``into``; the local path MLflow answers."""
    quiet = {"MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
    with artifact_environment(settings, quiet):
        downloaded = download_artifacts(artifact_uri=source, dst_path=str(into), tracking_uri=settings.mlflow_uri)
    return Path(downloaded)


def read_signature(model_path: Path) -> InputSignature | None:
    """The core form of the input signature of the MLflow model in folder ``model_path``.

    ``None`` when the model has none, or it uses tensors or types outside the core set: MLflow's own
    enforcement then applies unaided. The reading is the built-in scorer's, so the signature a job is
    planned with is the one its workers cast to.
    """
    return scorer_signature(model_path)


def read_output_signature(model_path: Path) -> tuple[tuple[str, str], ...] | None:
    """``(column, MLflow type)`` of each output the model's signature declares, as the built-in scorer names them.

    One unnamed output is the scorer's ``prediction`` column. ``None`` without a signature, with a
    tensor output, or with an output whose type is not one plain MLflow type: validity then checks
    no types.
    """
    from mlflow.models import Model
    from mlflow.types.schema import ColSpec, DataType

    signature = Model.load(str(model_path / MLMODEL)).signature
    if signature is None or signature.outputs is None or signature.outputs.is_tensor_spec():
        return None
    specs = list(signature.outputs.inputs)
    columns: list[tuple[str, str]] = []
    for col in specs:
        if not isinstance(col, ColSpec) or not isinstance(col.type, DataType):
            return None
        name = col.name if col.name is not None else (PREDICTION_COLUMN if len(specs) == 1 else None)
        if name is None:
            return None
        columns.append((name, col.type.name))
    return tuple(columns)


def s3_dataset(uri: str, name: str, digest: str, profile: Mapping[str, Any]) -> Dataset:
    """Files under ``uri`` as an MLflow dataset entity (metadata only: nothing is read)."""
    # MetaDataset leaves Dataset's `profile` unimplemented; Dataset is no ABC, so it instantiates.
    described = MetaDataset(resolve_dataset_source(uri), name=name, digest=digest)  # type: ignore[abstract]
    facts = described.to_dict()
    return Dataset(
        name=facts["name"],
        digest=facts["digest"],
        source_type=facts["source_type"],
        source=facts["source"],
        profile=json.dumps(profile),
    )


# ---- error translation ---------------------------------------------------------------------
def is_missing(exc: Exception) -> bool:
    """Whether an MLflow error says the thing asked for does not exist."""
    return getattr(exc, "error_code", "") in _MISSING or "not found" in str(exc).lower()


def registry_error(exc: Exception, name: str, which: str | None, mlflow_uri: str) -> NotFoundError | ModelError:
    """``exc``, raised by a registry call about model ``name`` (version or alias ``which``), in batchpoint's terms."""
    if not isinstance(exc, MlflowException):
        return ModelError(f"model {name}: MLflow at {mlflow_uri} failed: {exc}")
    what = f"{name}:{which}" if which else name
    if is_missing(exc):
        return NotFoundError("model", what, "list versions with `batchpoint model list`")
    return ModelError(f"model {what}: the MLflow registry at {mlflow_uri} failed: {exc}")


def resolution_error(exc: Exception, ref: ParsedModelRef, mlflow_uri: str) -> ModelError:
    """``exc``, raised while resolving ``ref`` and downloading its files, in batchpoint's terms."""
    if not isinstance(exc, MlflowException):
        return ModelError(f"model {ref.uri}: reading its artifacts failed: {type(exc).__name__}: {exc}")
    if is_missing(exc):
        what = f"version {ref.version}" if ref.version else f"alias {ref.alias!r}"
        return ModelError(
            f"model {ref.uri} not found in the MLflow registry at {mlflow_uri} (no model {ref.name!r} "
            f"or no {what}); model must be {VALID_FORMS}"
        )
    return ModelError(f"model {ref.uri}: the MLflow registry at {mlflow_uri} failed: {exc.message}")


@contextlib.contextmanager
def registry_errors(name: str, which: str | None, mlflow_uri: str) -> Iterator[None]:
    """Raise MLflow and connection errors of the block as ``registry_error`` says."""
    try:
        yield
    except MLFLOW_FAILURES as exc:
        raise registry_error(exc, name, which, mlflow_uri) from exc


@contextlib.contextmanager
def resolution_errors(ref: ParsedModelRef, mlflow_uri: str) -> Iterator[None]:
    """Raise MLflow, file and value errors of the block as ``resolution_error`` says; ``ModelError`` as it is."""
    try:
        yield
    except ModelError:
        raise
    except (MlflowException, OSError, ValueError) as exc:
        raise resolution_error(exc, ref, mlflow_uri) from exc
