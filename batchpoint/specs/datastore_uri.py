"""Azure's datastore URIs (``azureml://datastores/<name>/paths/<path>``) as batchpoint folders.

batchpoint has one datastore, the output bucket, known by Azure's default name ``workspaceblobstore``
so Azure's ``--output-path azureml://datastores/workspaceblobstore/paths/<endpoint>/`` works as it is.
A spec keeps the URI as given; the bucket is only known to the workspace, which resolves it
(``datastore_folder_in``) before anything is written.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator

from batchpoint.specs.s3_uri import S3_FORM, key_problem, split_s3_uri

DATASTORES = ("workspaceblobstore",)
DATASTORE_FORM = "`azureml://datastores/workspaceblobstore/paths/<prefix>/`"
OUTPUT_FOLDER_FORM = f"{S3_FORM} or {DATASTORE_FORM}"
_DATASTORE = re.compile(r"^azureml://datastores/(?P<name>[^/]*)/paths/(?P<path>.*)$", re.DOTALL)


def is_datastore_uri(value: str) -> bool:
    """Whether ``value`` is written as an ``azureml://datastores/...`` URI (valid or not)."""
    return value.startswith("azureml://datastores/")


def split_datastore_uri(uri: str) -> tuple[str, str]:
    """``(datastore, path)`` of a datastore URI, the path as a folder; ``ValueError`` with the valid form."""
    match = _DATASTORE.match(uri)
    if match is None:
        raise ValueError(f"must be {DATASTORE_FORM}")
    name, path = match["name"], match["path"]
    if name not in DATASTORES:
        raise ValueError(
            f"datastore {name!r} is not one batchpoint has ({', '.join(DATASTORES)}); must be {DATASTORE_FORM}"
        )
    if not path.strip("/"):
        raise ValueError(f"the path after `/paths/` is empty; must be {DATASTORE_FORM}")
    path = path if path.endswith("/") else path + "/"
    problem = key_problem(path)
    if problem is not None:
        raise ValueError(f"the path {problem}; must be {DATASTORE_FORM}")
    return name, path


def _validate_output_folder(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("azureml:"):
        split_datastore_uri(value)
        return value if value.endswith("/") else value + "/"
    try:
        split_s3_uri(value)
    except ValueError as exc:
        raise ValueError(f"must be {OUTPUT_FOLDER_FORM}") from exc
    return value if value.endswith("/") else value + "/"


OutputFolder = Annotated[str, BeforeValidator(_validate_output_folder)]
"""An ``s3://bucket/prefix/`` or ``azureml://datastores/<name>/paths/<prefix>/`` folder, ending with ``/``."""


def datastore_folder_in(folder: str, output_bucket: str) -> str:
    """``folder`` as ``s3://``: a datastore URI becomes a folder of ``output_bucket``; ``s3://`` stays."""
    if not is_datastore_uri(folder):
        return folder
    _, path = split_datastore_uri(folder)
    return f"s3://{output_bucket}/{path}"
