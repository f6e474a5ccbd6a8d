"""``DataAssetSpec`` (Azure ``Data``): a registered folder or file in the datastore, ``name:version``."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, ValidationInfo, field_validator

from batchpoint.specs.asset_naming import AssetName, AssetVersion
from batchpoint.specs.base import Spec
from batchpoint.specs.free_text import Description, Tags
from batchpoint.specs.s3_uri import S3Uri


class DataAssetType(StrEnum):
    """Azure's ``AssetTypes`` for data that batch endpoints read."""

    URI_FOLDER = "uri_folder"
    URI_FILE = "uri_file"


class DataAssetSpec(Spec):
    """A data asset; ``path`` is ``s3://bucket/prefix/`` (folder) or ``s3://bucket/key`` (file)."""

    name: AssetName
    version: AssetVersion | None = None
    type: DataAssetType = DataAssetType.URI_FOLDER
    path: S3Uri
    description: Description = ""
    tags: Tags = Field(default_factory=dict)

    @field_validator("path")
    @classmethod
    def _file_names_an_object(cls, path: str, info: ValidationInfo) -> str:
        if info.data.get("type") is DataAssetType.URI_FILE and (path.endswith("/") or path.count("/") < 3):
            raise ValueError("a uri_file path must name one object: `s3://<bucket>/<key>`")
        return path
