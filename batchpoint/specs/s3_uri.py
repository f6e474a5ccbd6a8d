"""``s3://bucket/key`` URIs as specs accept them: canonical keys only.

A key is a path below its bucket, so it may not climb out of it or hide a second spelling of the
same folder: no ``.`` or ``..`` segments, no empty segments (``a//b``, a leading ``/``), no
backslashes, no control characters. A trailing ``/`` (a folder) is the one empty segment allowed.
SeaweedFS keeps objects in a filer tree, where ``landing/../batchpoint/x`` would name another bucket.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator

S3_FORM = "`s3://<bucket>/<key or prefix>` (no `.`, `..` or empty segments, no backslashes)"
_S3 = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<key>.*))?$", re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def key_problem(key: str) -> str | None:
    """What makes ``key`` non-canonical (a traversal or a second spelling), or None when it is canonical."""
    if _CONTROL.search(key):
        return "holds a control character"
    if "\\" in key:
        return "holds a backslash"
    if key.startswith("/"):
        return "starts with `/`"
    segments = key.split("/")
    if segments[-1] == "":  # a folder: `a/b/`
        segments = segments[:-1]
    for segment in segments:
        if segment == "":
            return "has an empty segment (`//`)"
        if segment in {".", ".."}:
            return f"has a `{segment}` segment"
    return None


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``(bucket, key)`` of an ``s3://`` URI; ``ValueError`` showing the valid form otherwise."""
    match = _S3.match(uri) if isinstance(uri, str) else None
    if match is None:
        raise ValueError(f"must be {S3_FORM}")
    key = match["key"] or ""
    problem = key_problem(key)
    if problem is not None:
        raise ValueError(f"the key {problem}; must be {S3_FORM}")
    return match["bucket"], key


def _validate(value: Any) -> Any:
    split_s3_uri(value)
    return value


S3Uri = Annotated[str, BeforeValidator(_validate)]
"""A string that is an ``s3://bucket/...`` URI."""


def _validate_folder(value: Any) -> Any:
    split_s3_uri(value)
    return value if value.endswith("/") else value + "/"


S3Folder = Annotated[str, BeforeValidator(_validate_folder)]
"""An ``s3://bucket/prefix/`` URI, normalised to end with ``/``."""
