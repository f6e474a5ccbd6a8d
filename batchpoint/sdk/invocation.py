"""The body of ``POST /v1/batch-endpoints/{name}/invoke`` from Azure's ``invoke(...)`` arguments.

``params_override`` takes Azure's list of one-key dicts (``[{"mini_batch_size": "20"}]``) or one dict.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from batchpoint.errors import SpecError
from batchpoint.sdk.entities.inputs import Input
from batchpoint.sdk.entities.job_output import Output
from batchpoint.specs.yaml_loading import AzureFieldWarning

OVERRIDE_NAMES: dict[str, str] = {
    "instance_count": "instance_count",
    "compute.instance_count": "instance_count",
    "resources.instance_count": "instance_count",
    "mini_batch_size": "mini_batch_size",
    "error_threshold": "error_threshold",
    "max_retries": "max_retries",
    "retry_settings.max_retries": "max_retries",
    "timeout": "timeout",
    "retry_settings.timeout": "timeout",
    "output_file_name": "output_file_name",
    "logging_level": "logging_level",
    "output_dataset.path": "output_path",
    "output_path": "output_path",
}
_INTEGERS = {"instance_count", "mini_batch_size", "error_threshold", "max_retries", "timeout"}
_WITHOUT_MEANING = {"output_dataset.datastore_id", "experiment_name"}
OVERRIDE_FORMS = ", ".join(sorted(OVERRIDE_NAMES))

Resolve = Callable[[str | Path, str], str]


def input_body(value: Input | str | Path, field: str, resolve: Resolve) -> dict[str, Any]:
    """One ``JobInput``: a local path becomes the ``s3://`` URI ``resolve`` uploads it to."""
    given = value if isinstance(value, Input) else Input(path=value)
    if given.path is None:
        raise SpecError(f"{field}.path", "is missing", "a local path, `s3://...` or `azureml:<data>:<version>`")
    return {"type": str(given.type), "path": resolve(given.path, f"{field}.path")}


def override_values(params_override: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None) -> dict[str, Any]:
    """Setting overrides under the ``InvokeRequest`` names; integers from Azure's strings."""
    if params_override is None:
        return {}
    items = [params_override] if isinstance(params_override, Mapping) else list(params_override)
    values: dict[str, Any] = {}
    for item in items:
        for key, raw in item.items():
            if key in _WITHOUT_MEANING:
                warnings.warn(
                    f"params_override {key} has no meaning in batchpoint; ignored", AzureFieldWarning, stacklevel=3
                )
                continue
            name = OVERRIDE_NAMES.get(key)
            if name is None:
                raise SpecError(f"params_override.{key}", "is not an override batchpoint knows", OVERRIDE_FORMS)
            values[name] = _integer(name, raw) if name in _INTEGERS else raw
    return values


def _integer(name: str, raw: Any) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"params_override.{name}", f"got {raw!r}", "an integer") from exc


def output_path_of(output_path: str | None, outputs: Mapping[str, Output | str] | None) -> str | None:
    """The folder a job writes to from ``output_path=`` or Azure's ``outputs={"score": Output(path=...)}``."""
    if not outputs:
        return output_path
    form = "outputs={'score': Output(path='azureml://datastores/workspaceblobstore/paths/<prefix>/')}"
    if output_path is not None:
        raise SpecError("outputs", "give output_path= or outputs=, not both", form)
    if len(outputs) != 1:
        raise SpecError("outputs", f"got {len(outputs)} outputs; a batch job has one, `score`", form)
    (given,) = outputs.values()
    path = given.path if isinstance(given, Output) else given
    if not path:
        raise SpecError("outputs.path", "is missing", form)
    return str(path)


def invoke_body(
    *,
    input: Input | str | Path | None,
    inputs: Mapping[str, Input | str | Path] | None,
    deployment_name: str | None,
    output_path: str | None,
    params_override: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None,
    resolve: Resolve,
) -> dict[str, Any]:
    """The ``InvokeRequest`` JSON."""
    if (input is None) == (not inputs):
        raise SpecError(
            "input", "give exactly one of input= or inputs=", "input=Input(...) or inputs={'name': Input(...)}"
        )
    given = {"input": input} if input is not None else dict(inputs or {})
    body: dict[str, Any] = {"inputs": {name: input_body(v, f"inputs.{name}", resolve) for name, v in given.items()}}
    body.update(override_values(params_override))
    if output_path is not None:
        body["output_path"] = output_path
    if deployment_name:
        body["deployment_name"] = deployment_name
    return body
