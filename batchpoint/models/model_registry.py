"""Adapter: register and look up model versions in MLflow's model registry (Azure ``ml_client.models``).

A local folder is logged as the artifacts of a run in the ``batchpoint-model-registrations``
experiment and registered from there; a ``runs:/<run_id>/<path>`` is registered as it is. The
model's Azure ``type`` is kept as a version tag. MLflow errors become ``NotFoundError`` or
``ModelError`` as ``mlflow_edge.registry_error`` says.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from pathlib import Path

from batchpoint.config import Settings
from batchpoint.errors import NotFoundError, SpecError
from batchpoint.models import mlflow_edge
from batchpoint.models.mlflow_edge import MLMODEL, TYPE_TAG, MlflowException, ModelVersion
from batchpoint.specs.model_asset import ModelSpec, ModelType, ModelVersionInfo

EXPERIMENT = "batchpoint-model-registrations"
LATEST = "latest"
# MLflow's own alias rule: word characters and hyphens; `v<digits>` would read as a version.
_ALIAS = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_VERSION_LIKE = re.compile(r"^[vV]\d+$")
Versions = list[ModelVersionInfo]  # named here: the class's own `list` method shadows the builtin


class ModelRegistry:
    """Model versions in the MLflow registry at ``Settings.mlflow_uri``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client = mlflow_edge.client(settings)

    # ---- create ---------------------------------------------------------------------------
    def create(self, spec: ModelSpec, local_dir: Path | None = None) -> ModelVersionInfo:
        """Register a new version of ``spec.name`` from ``local_dir`` (or ``spec.path``) or an MLflow run."""
        with self._translated(spec.name):
            if spec.run_artifact and local_dir is None:
                source, run_id = self._run_source(spec)
            else:
                source, run_id = self._log_folder(spec, self._folder(spec, local_dir))
            with contextlib.suppress(MlflowException):  # exists already: the usual case
                self._client.create_registered_model(spec.name)
            tags = {**spec.tags, TYPE_TAG: spec.type.value}
            created = self._client.create_model_version(
                spec.name, source, run_id=run_id, tags=tags, description=spec.description or None
            )
        return self._info(created)

    def _folder(self, spec: ModelSpec, local_dir: Path | None) -> Path:
        folder = local_dir if local_dir is not None else Path(spec.path) if spec.path else None
        if folder is None or not folder.is_dir():
            raise SpecError("path", f"{folder} is not a folder", "a local model folder or `runs:/<run_id>/<path>`")
        if spec.type is ModelType.MLFLOW_MODEL and not (folder / MLMODEL).is_file():
            raise SpecError(
                "path",
                f"folder {folder} has no {MLMODEL} file, so it is not an MLflow model",
                "an MLflow model folder (with MLmodel), or type custom_model for any files",
            )
        if not any(p.is_file() for p in folder.rglob("*")):
            raise SpecError("path", f"folder {folder} holds no files", "a folder with the model's files")
        return folder

    def _run_source(self, spec: ModelSpec) -> tuple[str, str]:
        rest = (spec.path or "").removeprefix("runs:/")
        run_id, _, artifact = rest.partition("/")
        if not run_id or not artifact:
            raise SpecError("path", f"got {spec.path!r}", "`runs:/<run_id>/<artifact path>`")
        run = self._client.get_run(run_id)
        return f"{run.info.artifact_uri.rstrip('/')}/{artifact}", run_id

    def _log_folder(self, spec: ModelSpec, folder: Path) -> tuple[str, str]:
        experiment = self._client.get_experiment_by_name(EXPERIMENT)
        experiment_id = experiment.experiment_id if experiment else self._client.create_experiment(EXPERIMENT)
        run = self._client.create_run(experiment_id, run_name=f"register-{spec.name}", tags={TYPE_TAG: spec.type})
        try:
            with mlflow_edge.artifact_environment(self.settings):
                self._client.log_artifacts(run.info.run_id, str(folder), artifact_path="model")
        except BaseException:
            self._client.set_terminated(run.info.run_id, status="FAILED")
            raise
        self._client.set_terminated(run.info.run_id)
        return f"{run.info.artifact_uri.rstrip('/')}/model", run.info.run_id

    # ---- read -----------------------------------------------------------------------------
    def get(self, name: str, version: str | None = None, label: str | None = None) -> ModelVersionInfo:
        """One version: by ``version``, by ``label`` (``latest`` or an alias), or the latest."""
        with self._translated(name, version or label):
            if version is not None:
                return self._info(self._client.get_model_version(name, str(version)))
            if label is not None and label != LATEST:
                return self._info(self._client.get_model_version_by_alias(name, label))
            with contextlib.suppress(MlflowException):  # an alias named latest wins, as in resolve_model
                return self._info(self._client.get_model_version_by_alias(name, LATEST))
            versions = self._versions(name)
        if not versions:
            raise NotFoundError("model", name, "register a version with `batchpoint model create`")
        return versions[0]

    def list(self, name: str | None = None) -> Versions:
        """Versions of ``name`` (newest first), or the latest version of every model (by name)."""
        with self._translated(name or "*"):
            if name is not None:
                versions = self._versions(name)
                if not versions:
                    self._client.get_registered_model(name)  # NotFoundError when the model is unknown
                return versions
            latest: Versions = []
            for model in self._client.search_registered_models(max_results=1000):
                found = self._versions(model.name)
                if found:
                    latest.append(found[0])
        return sorted(latest, key=lambda v: v.name)

    def _versions(self, name: str) -> Versions:
        found = self._client.search_model_versions(f"name = '{name}'", max_results=10000)
        return [self._info(v) for v in sorted(found, key=lambda v: int(v.version), reverse=True)]

    # ---- aliases --------------------------------------------------------------------------
    def set_alias(self, name: str, alias: str, version: str) -> ModelVersionInfo:
        """Point ``alias`` at ``version`` (``@alias`` in deployments then resolves to it)."""
        if alias == LATEST:
            raise SpecError("alias", "`latest` always means the newest version", "another alias name")
        _check_alias(alias)
        if not version.isdigit():
            raise SpecError("version", f"got {version!r}", "a model version number")
        with self._translated(name, str(version)):
            self._client.get_model_version(name, str(version))
            self._client.set_registered_model_alias(name, alias, str(version))
            return self._info(self._client.get_model_version(name, str(version)))

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove ``alias`` from model ``name``."""
        _check_alias(alias)
        with self._translated(name, alias):
            self._client.get_model_version_by_alias(name, alias)
            self._client.delete_registered_model_alias(name, alias)

    # ---- translation ----------------------------------------------------------------------
    @staticmethod
    def _info(version: ModelVersion) -> ModelVersionInfo:
        tags = dict(version.tags or {})
        kind = tags.pop(TYPE_TAG, ModelType.MLFLOW_MODEL.value)
        created = datetime.fromtimestamp(version.creation_timestamp / 1000, UTC) if version.creation_timestamp else None
        return ModelVersionInfo(
            name=str(version.name),
            version=str(version.version),
            type=ModelType(kind),
            uri=f"models:/{version.name}/{version.version}",
            aliases=sorted(version.aliases or []),
            description=version.description or "",
            tags=tags,
            created_at=created,
            source=str(version.source or ""),
        )

    def _translated(self, name: str, which: str | None = None) -> contextlib.AbstractContextManager[None]:
        return mlflow_edge.registry_errors(name, which, self.settings.mlflow_uri)


def _check_alias(alias: str) -> None:
    if not _ALIAS.match(alias) or _VERSION_LIKE.match(alias):
        raise SpecError(
            "alias", f"got {alias!r}", "letters, digits, '_' or '-' (at most 255), not `v<number>` nor `latest`"
        )
