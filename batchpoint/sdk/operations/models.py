"""``ml_client.models``: register a local model folder (sent as tar.gz) or run artifacts; read versions."""

from __future__ import annotations

import io
import json
from typing import Any

from batchpoint.errors import SpecError
from batchpoint.sdk.entities.model import Model
from batchpoint.sdk.operations.endpoints import segment
from batchpoint.sdk.progress import UploadBar, counting_reader, stderr_console
from batchpoint.sdk.transport import ApiTransport
from batchpoint.sdk.uploads import archived_files, existing_local, model_archive
from batchpoint.specs.asset_naming import LATEST

PATH_FORMS = "a local model folder or file, or `runs:/<run_id>/<artifact path>`"


class ModelOperations:
    """Azure: ``MLClient.models``."""

    def __init__(self, transport: ApiTransport) -> None:
        self._api = transport

    def create_or_update(self, model: Model) -> Model:
        """Register a new version of ``model.name`` from ``model.path``; returns it with its version."""
        if not model.name:
            raise SpecError("Model.name", "is missing", "a letter or digit, then letters, digits, _ . -")
        if model.path is None:
            raise SpecError("Model.path", "is missing", PATH_FORMS)
        spec = model._to_dict()
        files = None
        if str(model.path).startswith("runs:/"):
            spec["path"] = str(model.path)
        else:
            local = existing_local(model.path, "Model.path")
            archive, count = model_archive(local), archived_files(local)
            console = stderr_console(self._api.show_progress)
            with UploadBar(console, f"uploading model {model.name}", len(archive), count) as bar:
                body = counting_reader(io.BytesIO(archive), bar.advance)
                files = {"archive": ("model.tar.gz", body, "application/gzip")}
                answer = self._send(spec, model.name, files)
                bar.file_done(count)
            return Model._from_dict(answer)
        return Model._from_dict(self._send(spec, model.name, files))

    def _send(self, spec: dict[str, Any], name: str, files: dict[str, Any] | None) -> Any:
        return self._api.request(
            "POST", f"/v1/models/{segment(name)}/versions", data={"spec": json.dumps(spec)}, files=files
        )

    def get(self, name: str, version: str | int | None = None, label: str | None = None) -> Model:
        """One version by ``version``, or by ``label`` (``latest``, or an alias); latest when neither is given."""
        if version is not None and label is not None:
            raise SpecError("version", "given with label", "one of version= or label=")
        if version is not None:
            path = f"/v1/models/{segment(name)}/versions/{segment(str(version))}"
        else:
            path = f"/v1/models/{segment(name)}/labels/{segment(label or LATEST)}"
        return Model._from_dict(self._api.get(path))

    def list(self, name: str | None = None) -> list[Model]:
        """The latest version of every model, or every version of ``name`` (newest first)."""
        path = f"/v1/models/{segment(name)}/versions" if name else "/v1/models"
        return [Model._from_dict(d) for d in self._api.values(path)]

    def set_alias(self, name: str, alias: str, version: str | int) -> Model:
        """Point ``models:/<name>@<alias>`` at ``version``."""
        path = f"/v1/models/{segment(name)}/aliases/{segment(alias)}"
        return Model._from_dict(self._api.request("PUT", path, json={"version": str(version)}))
