"""Adapter: resolve a model reference against the MLflow registry and cache its artifacts locally.

Each model version is downloaded once and reused by every later job (MLflow would otherwise leave
a fresh copy in TMPDIR on each load), laid out as Azure ML gives it to scoring scripts::

    Settings.cache_dir/models/<name>/
        <version>/               model_dir (AZUREML_MODEL_DIR), renamed into place whole
            <subfolder>/         local_path: the files, named as the source's last segment (``model``)
        <version>.lock           one process downloads, the others wait then reuse
        .<version>-*/            a download in progress (or a crashed one)

A ``<version>`` folder holding ``MLmodel`` directly is the flat layout of earlier releases: it is
downloaded again in this layout.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from batchpoint.config import Settings
from batchpoint.errors import ModelError
from batchpoint.file_lock import locked
from batchpoint.models import mlflow_edge
from batchpoint.models.mlflow_edge import MLMODEL, TYPE_TAG, MlflowClient, MlflowException, ModelVersion, read_signature
from batchpoint.models.resolved import MODEL_KINDS, ModelKind, ResolvedModel
from batchpoint.specs.model_ref import VALID_FORMS, ParsedModelRef

# read_signature lives in mlflow_edge; it is exported here too, where the built-in scorer imports it.
__all__ = ["read_signature", "resolve_model"]

LATEST = "latest"
_DEFAULT_SUBFOLDER = "model"


def resolve_model(ref: ParsedModelRef, settings: Settings) -> ResolvedModel:
    """Pin ``ref`` to a registered version and make sure its artifacts are in the local cache.

    ``@latest`` is the newest version unless an alias named ``latest`` is set (Azure's meaning).
    Custom models (any files, no ``MLmodel``) resolve too, without a signature.
    Raises ``ModelError`` naming the model, the registry and the valid reference forms.
    """
    # MLflow's own retries (minutes), unless this process bounded them already (see mlflow_edge.client).
    client = mlflow_edge.client(settings, bounded_retries=False)
    with mlflow_edge.resolution_errors(ref, settings.mlflow_uri):
        version = _find_version(client, ref)
        local_path = _cached_download(client, version, settings)
        kind = _model_kind(version, local_path)
        signature = read_signature(local_path) if kind == "mlflow_model" else None
        outputs = mlflow_edge.read_output_signature(local_path) if kind == "mlflow_model" else None
    return ResolvedModel(
        name=str(version.name),
        version=str(version.version),
        uri=f"models:/{version.name}/{version.version}",
        run_id=version.run_id or None,
        signature=signature,
        output_signature=outputs,
        local_path=local_path,
        requested=ref.uri,
        kind=kind,
        model_dir=local_path.parent,
    )


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


def _cached_download(client: MlflowClient, version: ModelVersion, settings: Settings) -> Path:
    """``<version>/<subfolder>`` in the cache, downloaded first when absent or in the old flat layout."""
    model_dir = settings.cache_dir / "models" / str(version.name) / str(version.version)
    local_path = model_dir / _subfolder(client, version)
    if _complete(model_dir, local_path):
        return local_path
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    # One process downloads (or replaces an old-layout copy) while the others wait, then reuse it:
    # replacing without the lock could move away a copy another process just put in place.
    with locked(model_dir.parent / f"{version.version}.lock"):
        if not _complete(model_dir, local_path):
            shutil.rmtree(model_dir, ignore_errors=True)  # the flat layout of earlier releases
            _download(client, version, settings, model_dir, local_path.name)
    return local_path


def _complete(model_dir: Path, local_path: Path) -> bool:
    # Versions are renamed into place whole, so the folder existing means a finished download;
    # an ``MLmodel`` directly in it is the flat layout earlier releases cached.
    return local_path.is_dir() and not (model_dir / MLMODEL).exists()


def _subfolder(client: MlflowClient, version: ModelVersion) -> str:
    """The folder name the version's files get: the last path segment of its source.

    ``model`` for folders registered by batchpoint. A source that is an MLflow 3 logged model
    (``models:/m-<id>``) gets the name it was logged under (``log_model(name=...)``), as Azure does.
    """
    source = str(version.source or "").rstrip("/")
    model_id = source.removeprefix("models:/")
    if model_id != source and "/" not in model_id:
        name = str(client.get_logged_model(model_id).name or "")
    else:
        name = source.rsplit("/", 1)[-1]
    return name if name and name not in {".", ".."} and not set(name) & set(":/\\") else _DEFAULT_SUBFOLDER


def _download(client: MlflowClient, version: ModelVersion, settings: Settings, model_dir: Path, subfolder: str) -> None:
    """Download the version's files into ``model_dir/subfolder``, renaming ``model_dir`` into place last."""
    staging = Path(tempfile.mkdtemp(prefix=f".{version.version}-", dir=model_dir.parent))
    try:
        # Where the files are, asked of this registry: MLflow resolves a `models:/` URI against its
        # process-wide default registry instead, whatever registry_uri it is given.
        source = client.get_model_version_download_uri(str(version.name), str(version.version))
        downloaded = mlflow_edge.download(source, staging, settings)
        destination = staging / subfolder
        if downloaded != destination and downloaded.parent == staging and downloaded.is_dir():
            downloaded.rename(destination)  # the download URI's last segment differs from the source's
        # MLflow answers with a path even when the source holds nothing.
        if not destination.is_dir() or not any(p.is_file() for p in destination.rglob("*")):
            raise ModelError(
                f"models:/{version.name}/{version.version}: no folder of files at its source {source}; "
                "register a folder holding the model's files"
            )
        os.rename(staging, model_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _model_kind(version: ModelVersion, local_path: Path) -> ModelKind:
    """The version's ``batchpoint.model_type`` tag; untagged: ``mlflow_model`` when it has ``MLmodel``."""
    tagged = (version.tags or {}).get(TYPE_TAG)
    has_mlmodel = (local_path / MLMODEL).is_file()
    if tagged is None:
        return "mlflow_model" if has_mlmodel else "custom_model"
    if tagged not in MODEL_KINDS:
        raise ModelError(
            f"models:/{version.name}/{version.version}: tag {TYPE_TAG} is {tagged!r}; expected one of "
            f"{', '.join(MODEL_KINDS)}"
        )
    if tagged == "custom_model":
        return "custom_model"
    if not has_mlmodel:
        raise ModelError(
            f"models:/{version.name}/{version.version} is tagged {TYPE_TAG}=mlflow_model but has no {MLMODEL} "
            "file, so it is not an MLflow model; register its folder as custom_model"
        )
    return "mlflow_model"
