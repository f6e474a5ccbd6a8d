"""``s3://bucket/key`` URIs as specs accept them."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator

S3_FORM = "`s3://<bucket>/<key or prefix>`"
_S3 = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<key>.*))?$")


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``(bucket, key)`` of an ``s3://`` URI; ``ValueError`` showing the valid form otherwise."""
    match = _S3.match(uri) if isinstance(uri, str) else None
    if match is None:
        raise ValueError(f"must be {S3_FORM}")
    return match["bucket"], match["key"] or ""


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
