"""Adapter: resolve a model reference against the MLflow registry and cache its artifacts locally.

Each model version is downloaded once into ``Settings.cache_dir/models/<name>/<version>`` (to a
temporary folder first, then renamed, so a half-downloaded model is never used) and reused by every
later job; MLflow would otherwise leave a fresh copy in TMPDIR on each load.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mlflow.artifacts import download_artifacts
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.models import Model
from mlflow.tracking import MlflowClient
from mlflow.types.schema import ColSpec, DataType

from batchpoint.config import Settings
from batchpoint.errors import ModelError
from batchpoint.models.resolved import ResolvedModel
from batchpoint.scoring.signature import COLUMN_TYPES, ColumnSpec, InputSignature
from batchpoint.specs.model_ref import VALID_FORMS, ParsedModelRef

LATEST = "latest"
_MLMODEL = "MLmodel"


def resolve_model(ref: ParsedModelRef, settings: Settings) -> ResolvedModel:
    """Pin ``ref`` to a registered version and make sure its artifacts are in the local cache.

    ``@latest`` is the newest version unless an alias named ``latest`` is set (Azure's meaning).
    Raises ``ModelError`` naming the model, the registry and the valid reference forms.
    """
    client = MlflowClient(tracking_uri=settings.mlflow_uri, registry_uri=settings.mlflow_uri)
    with _translated(ref, settings):
        version = _find_version(client, ref)
        local_path = _cached_download(version, settings)
        signature = read_signature(local_path)
    return ResolvedModel(
        name=str(version.name),
        version=str(version.version),
        uri=f"models:/{version.name}/{version.version}",
        run_id=version.run_id or None,
        signature=signature,
        local_path=local_path,
        requested=ref.uri,
    )


def read_signature(model_dir: Path) -> InputSignature | None:
    """The core form of a local model's input signature.

    ``None`` when the model has none, or it uses tensors or types outside the core set: MLflow's own
    enforcement then applies unaided.
    """
    signature = Model.load(str(model_dir / _MLMODEL)).signature
    if signature is None or signature.inputs is None or signature.inputs.is_tensor_spec():
        return None
    columns: list[ColumnSpec] = []
    for col in signature.inputs.inputs:
        if not isinstance(col, ColSpec) or col.name is None or not isinstance(col.type, DataType):
            return None
        kind = col.type.name
        if kind not in COLUMN_TYPES:
            return None
        columns.append(ColumnSpec(col.name, kind, bool(col.required)))
    return InputSignature(tuple(columns))


def _find_version(client: MlflowClient, ref: ParsedModelRef) -> ModelVersion:
    if ref.version is not None:
        return client.get_model_version(ref.name, ref.version)
    alias = ref.alias or LATEST
    try:
        return client.get_model_version_by_alias(ref.name, alias)
    except MlflowException:
        if alias != LATEST:
            raise
    versions = client.search_model_versions(f"name = '{ref.name}'")
    if not versions:
        raise ModelError(f"model {ref.name!r} has no registered versions; register one, then use {VALID_FORMS}")
    return max(versions, key=lambda v: int(v.version))


def _cached_download(version: ModelVersion, settings: Settings) -> Path:
    target = settings.cache_dir / "models" / str(version.name) / str(version.version)
    if (target / _MLMODEL).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version.version}-", dir=target.parent))
    try:
        env = {**settings.s3_env(), "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
        with _environment(env):
            downloaded = Path(
                download_artifacts(
                    artifact_uri=f"models:/{version.name}/{version.version}",
                    dst_path=str(staging),
                    tracking_uri=settings.mlflow_uri,
                )
            )
        if not (downloaded / _MLMODEL).is_file():
            raise ModelError(f"models:/{version.name}/{version.version} has no {_MLMODEL} file: not an MLflow model")
        try:
            downloaded.rename(target)
        except OSError:
            # Another job downloaded the same version meanwhile; theirs is complete, use it.
            if not (target / _MLMODEL).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set variables for MLflow's artifact clients, which read them from ``os.environ`` only."""
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


@contextlib.contextmanager
def _translated(ref: ParsedModelRef, settings: Settings) -> Iterator[None]:
    try:
        yield
    except ModelError:
        raise
    except MlflowException as exc:
        raise ModelError(_message(ref, settings, exc)) from exc
    except (OSError, ValueError) as exc:
        raise ModelError(f"model {ref.uri}: reading its artifacts failed: {type(exc).__name__}: {exc}") from exc


def _message(ref: ParsedModelRef, settings: Settings, exc: Any) -> str:
    code = getattr(exc, "error_code", "")
    if code == "RESOURCE_DOES_NOT_EXIST" or "not found" in str(exc).lower():
        what = f"version {ref.version}" if ref.version else f"alias {ref.alias!r}"
        return (
            f"model {ref.uri} not found in the MLflow registry at {settings.mlflow_uri} (no model {ref.name!r} "
            f"or no {what}); model must be {VALID_FORMS}"
        )
    return f"model {ref.uri}: the MLflow registry at {settings.mlflow_uri} failed: {exc.message}"
