"""Models: register a version from an uploaded folder, list, show by version or label, set aliases."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile, status

from batchpoint.api.answers import AliasRequest, ValueList, same_key
from batchpoint.api.archives import ARCHIVE_FORM, ArchiveLimits, extract_model_archive
from batchpoint.api.body_limits import UPLOAD_ROUTE
from batchpoint.api.deps import WorkspaceDep
from batchpoint.errors import SpecError
from batchpoint.specs.model_asset import ModelSpec, ModelVersionInfo

router = APIRouter(prefix="/v1/models", tags=["models"])

SPEC_FORM = 'a ModelSpec as JSON, e.g. {"name": "forecaster", "type": "mlflow_model"}'


def _model_spec(raw: str) -> ModelSpec:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise SpecError("spec", f"is not JSON: {exc}", SPEC_FORM) from exc
    if not isinstance(data, dict):
        raise SpecError("spec", f"got a JSON {type(data).__name__}", SPEC_FORM)
    return ModelSpec.parse(data, where="spec")


@router.post("/{name}/versions", status_code=status.HTTP_201_CREATED, openapi_extra=UPLOAD_ROUTE)
def create_model_version(
    name: str,
    workspace: WorkspaceDep,
    spec: Annotated[str, Form(description=SPEC_FORM)],
    archive: Annotated[UploadFile | None, File(description=ARCHIVE_FORM)] = None,
) -> ModelVersionInfo:
    """Register a new version: the model folder as a tar.gz, or ``path: runs:/<run_id>/<path>`` without one."""
    model = _model_spec(spec)
    same_key("name", model.name, name)
    if model.run_artifact:
        return workspace.models.create(model, None)
    if archive is None:
        raise SpecError("archive", "is missing", ARCHIVE_FORM + " (or spec.path `runs:/<run_id>/<path>`)")
    with tempfile.TemporaryDirectory(prefix="bp-model-") as tmp:
        folder = extract_model_archive(archive.file, Path(tmp), ArchiveLimits.of(workspace.settings))
        return workspace.models.create(model, folder)


@router.get("")
def list_models(workspace: WorkspaceDep) -> ValueList[ModelVersionInfo]:
    """The latest version of every registered model."""
    return ValueList(value=workspace.models.list())


@router.get("/{name}/versions")
def list_model_versions(name: str, workspace: WorkspaceDep) -> ValueList[ModelVersionInfo]:
    """Every version of one model, newest first."""
    return ValueList(value=workspace.models.list(name))


@router.get("/{name}/versions/{version}")
def get_model_version(name: str, version: str, workspace: WorkspaceDep) -> ModelVersionInfo:
    """One model version."""
    return workspace.models.get(name, version=version)


@router.get("/{name}/labels/{label}")
def get_model_by_label(name: str, label: str, workspace: WorkspaceDep) -> ModelVersionInfo:
    """The version a label (``latest``) or alias points to."""
    return workspace.models.get(name, label=label)


@router.put("/{name}/aliases/{alias}")
def set_model_alias(name: str, alias: str, body: AliasRequest, workspace: WorkspaceDep) -> ModelVersionInfo:
    """Point ``models:/<name>@<alias>`` at a version."""
    return workspace.models.set_alias(name, alias, body.version)


@router.delete("/{name}/aliases/{alias}", status_code=status.HTTP_204_NO_CONTENT)
def delete_model_alias(name: str, alias: str, workspace: WorkspaceDep) -> Response:
    """Remove an alias (the version stays)."""
    workspace.models.delete_alias(name, alias)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
