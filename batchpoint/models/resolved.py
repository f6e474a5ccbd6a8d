"""``ResolvedModel``: one concrete registered model version, with its artifacts on local disk.

On disk a version is laid out as Azure ML lays it out for scoring scripts::

    model_dir/               AZUREML_MODEL_DIR
        <subfolder>/         local_path: the model's files (``MLmodel`` here for an MLflow model)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from batchpoint.errors import ModelError
from batchpoint.models.signature import InputSignature

ModelKind = Literal["mlflow_model", "custom_model"]
MODEL_KINDS: tuple[ModelKind, ...] = ("mlflow_model", "custom_model")
# ``model_dir`` left out: the folder holding ``local_path``, which is the layout every resolver makes.
_UNSET_DIR = Path()


@dataclass(frozen=True)
class ResolvedModel:
    """A model reference pinned to a version: what a job scores with and records in its manifest.

    ``local_path`` is the folder holding the model's files and ``model_dir`` its parent, the folder
    scoring scripts see as ``AZUREML_MODEL_DIR``. ``kind`` is Azure's model type; a custom model has
    no signature.
    """

    name: str
    version: str
    uri: str
    run_id: str | None
    signature: InputSignature | None
    local_path: Path
    requested: str = ""
    kind: ModelKind = "mlflow_model"
    model_dir: Path = _UNSET_DIR
    output_signature: tuple[tuple[str, str], ...] | None = None
    """``(column, MLflow type)`` of each prediction column the signature declares (validity checks them)."""

    def __post_init__(self) -> None:
        if self.model_dir == _UNSET_DIR:
            object.__setattr__(self, "model_dir", self.local_path.parent)
        elif self.local_path.parent != self.model_dir:
            raise ModelError(
                f"model {self.uri}: local_path {self.local_path} must be one subfolder of model_dir "
                f"{self.model_dir} (`<model_dir>/<subfolder>`, as AZUREML_MODEL_DIR is laid out)"
            )
        if self.kind not in MODEL_KINDS:
            raise ModelError(f"model {self.uri}: kind must be one of {', '.join(MODEL_KINDS)}, got {self.kind!r}")

    @property
    def subfolder(self) -> str:
        """The name of the folder under ``model_dir`` that holds the model's files."""
        return self.local_path.name

    def to_dict(self) -> dict[str, Any]:
        """JSON form for manifests and asset metadata."""
        return {
            "name": self.name,
            "version": self.version,
            "uri": self.uri,
            "kind": self.kind,
            "run_id": self.run_id,
            "requested": self.requested or self.uri,
            "signature": self.signature.to_dict() if self.signature else None,
            "output_signature": (
                None if self.output_signature is None else [{"name": n, "type": t} for n, t in self.output_signature]
            ),
        }
