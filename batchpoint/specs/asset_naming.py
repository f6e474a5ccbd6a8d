"""Names, versions and references of registered assets (models, environments, computes, data).

Azure asset names: a letter or digit first, then letters, digits, ``_``, ``.``, ``-``. References in
deployments and job inputs take Azure's forms: ``azureml:<name>:<version>``, ``azureml:<name>@latest``
or a plain ``<name>`` (the latest version).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from batchpoint.errors import SpecError

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$"
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
LATEST = "latest"
REFERENCE_FORMS = "`azureml:<name>:<version>`, `azureml:<name>@latest` or `<name>`"

_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]*?"
_REFERENCE = re.compile(
    rf"^(?:azureml:)?(?P<name>{_NAME})(?::(?P<version>[A-Za-z0-9][A-Za-z0-9_.-]*)|@(?P<label>latest))?$"
)


def _version_text(value: Any) -> Any:
    # YAML reads `version: 1` as an int; Azure versions are strings.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


AssetName = Annotated[str, Field(pattern=NAME_PATTERN)]
AssetVersion = Annotated[str, BeforeValidator(_version_text), Field(pattern=VERSION_PATTERN)]


@dataclass(frozen=True)
class AssetRef:
    """A reference to one asset: a name with a version, or the latest version when ``version`` is None."""

    name: str
    version: str | None = None

    def __str__(self) -> str:
        return f"azureml:{self.name}:{self.version}" if self.version else f"azureml:{self.name}@{LATEST}"


def parse_asset_ref(value: str, field: str) -> AssetRef:
    """Parse ``azureml:<name>:<version>``, ``azureml:<name>@latest`` or ``<name>``; ``SpecError`` naming ``field``."""
    match = _REFERENCE.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise SpecError(field, f"got {value!r}", REFERENCE_FORMS)
    return AssetRef(match["name"], match["version"])
