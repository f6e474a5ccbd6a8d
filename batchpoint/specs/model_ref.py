"""A reference to a registered model version: ``models:/name/version`` or ``models:/name@alias``.

Azure's ``azureml:name:version`` and ``azureml:name@latest`` are accepted and normalised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

from batchpoint.errors import SpecError

VALID_FORMS = (
    "`models:/<name>/<version>`, `models:/<name>@<alias>`, `azureml:<name>:<version>` or `azureml:<name>@latest`"
)
_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
_PATTERNS = (
    re.compile(rf"^models:/(?P<name>{_NAME})/(?P<version>\d+)$"),
    re.compile(rf"^models:/(?P<name>{_NAME})@(?P<alias>[A-Za-z0-9_-]+)$"),
    re.compile(rf"^azureml:(?P<name>{_NAME}):(?P<version>\d+)$"),
    re.compile(rf"^azureml:(?P<name>{_NAME})@(?P<alias>[A-Za-z0-9_-]+)$"),
)


@dataclass(frozen=True)
class ParsedModelRef:
    """A model name plus exactly one of version or alias."""

    name: str
    version: str | None = None
    alias: str | None = None

    @property
    def uri(self) -> str:
        """The MLflow model URI."""
        return f"models:/{self.name}/{self.version}" if self.version else f"models:/{self.name}@{self.alias}"

    def __str__(self) -> str:
        return self.uri


def parse_model_ref(value: Any) -> ParsedModelRef:
    """Parse a model reference; raises ``SpecError`` showing the valid forms."""
    if isinstance(value, ParsedModelRef):
        return value
    if not isinstance(value, str):
        raise SpecError("model", f"got {value!r}", VALID_FORMS)
    for pattern in _PATTERNS:
        match = pattern.match(value.strip())
        if match:
            groups = match.groupdict()
            return ParsedModelRef(groups["name"], groups.get("version"), groups.get("alias"))
    raise SpecError("model", f"got {value!r}", VALID_FORMS)


def _validate(value: Any) -> ParsedModelRef:
    try:
        return parse_model_ref(value)
    except SpecError as exc:
        # pydantic reports ValueError with the field path; keep our message with the valid form.
        raise ValueError(f"must be {VALID_FORMS}") from exc


ModelRef = Annotated[ParsedModelRef, BeforeValidator(_validate), PlainSerializer(str, return_type=str)]
