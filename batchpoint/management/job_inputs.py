"""The inputs of an invocation, resolved to S3 paths that exist.

``azureml:<data>:<version>`` / ``azureml:<data>@latest`` become the data asset's path (and type);
an ``https://`` URL is copied into the datastore first (``url_inputs``);
a ``uri_file`` must exist (HEAD), a ``uri_folder`` must hold at least one object. Errors name the input.
"""

from __future__ import annotations

from collections.abc import Mapping

from batchpoint.config import Settings
from batchpoint.errors import NotFoundError, SpecError
from batchpoint.management.asset_ops import DataOperations
from batchpoint.management.url_inputs import fetch_url_input
from batchpoint.specs.job import INPUT_PATH_FORMS, InputType, JobInput
from batchpoint.specs.s3_uri import split_s3_uri
from batchpoint.storage.port import ObjectStore

SCORABLE = (InputType.URI_FOLDER, InputType.URI_FILE)


def resolve_inputs(
    inputs: Mapping[str, JobInput], data: DataOperations, store: ObjectStore, settings: Settings
) -> dict[str, JobInput]:
    """Every input as an existing ``s3://`` file or folder."""
    return {name: _resolve(name, given, data, store, settings) for name, given in inputs.items()}


def _resolve(name: str, given: JobInput, data: DataOperations, store: ObjectStore, settings: Settings) -> JobInput:
    field = f"inputs.{name}"
    if given.is_url:
        if given.type not in SCORABLE:
            raise SpecError(f"{field}.type", f"got {given.type.value!r}", "uri_folder or uri_file")
        resolved = fetch_url_input(f"{field}.path", given, store, settings)
    elif given.is_data_asset:
        asset = data.resolve(given.path, f"{field}.path")
        resolved = JobInput(type=InputType(asset.type.value), path=asset.path)
    else:
        resolved = given
    if resolved.type not in SCORABLE:
        raise SpecError(f"{field}.type", f"got {resolved.type.value!r}", "uri_folder or uri_file")
    bucket, key = split_s3_uri(resolved.path)
    if resolved.type is InputType.URI_FILE:
        if not key or key.endswith("/"):
            raise SpecError(f"{field}.path", f"{resolved.path} is a folder", "`s3://<bucket>/<key>` for uri_file")
        try:
            store.head(bucket, key)
        except NotFoundError as exc:
            raise SpecError(f"{field}.path", f"{resolved.path} does not exist", INPUT_PATH_FORMS) from exc
        return resolved
    prefix = key if not key or key.endswith("/") else key + "/"
    try:
        first = next(iter(store.list(bucket, prefix)), None)
    except NotFoundError:
        first = None
    if first is None:
        raise SpecError(f"{field}.path", f"no files under {resolved.path}", "a folder holding the files to score")
    return JobInput(type=InputType.URI_FOLDER, path=f"s3://{bucket}/{prefix}")
