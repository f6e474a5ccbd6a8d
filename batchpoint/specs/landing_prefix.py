"""``data_arrival.prefix``: the landing folder an endpoint watches, in its one canonical spelling.

A prefix is a relative folder below the trigger's bucket: segments of letters, digits, ``_``, ``.``
and ``-`` (none made of dots only) joined by single ``/``. Traversal (``..``), no-op (``.``) and
empty segments, a leading ``/``, backslashes and control characters are refused, since the router
compares keys by prefix and SeaweedFS would resolve ``../batchpoint/`` into another bucket.
A missing trailing ``/`` is added (``sales`` is stored as ``sales/``), the same normalisation
``output_path`` gets; more than one trailing ``/`` is an empty segment and refused.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

from batchpoint.errors import SpecError
from batchpoint.specs.s3_uri import key_problem

FIELD = "data_arrival.prefix"
MAX_LENGTH = 512
FORM = (
    "a relative folder such as `sales/` or `sales/eu/`: segments of letters, digits, `_`, `.`, `-` "
    f"joined by single `/`, ending with `/`, at most {MAX_LENGTH} characters "
    "(no `.` or `..` segments, no leading `/`, no `//`, no backslashes)"
)
_SEGMENT = r"[A-Za-z0-9_.-]*[A-Za-z0-9_-][A-Za-z0-9_.-]*"  # at least one character that is not a dot
PATTERN = rf"^{_SEGMENT}(?:/{_SEGMENT})*/$"
_CANONICAL = re.compile(PATTERN)
_ALLOWED = re.compile(r"[A-Za-z0-9_./-]")


def landing_prefix(value: Any, field: str = FIELD) -> str:
    """``value`` as a canonical landing folder (``/`` appended when missing); ``SpecError`` naming ``field``."""
    if not isinstance(value, str):
        raise SpecError(field, f"got {value!r}", FORM)
    prefix = value if value.endswith("/") else value + "/"
    if len(prefix) > MAX_LENGTH:
        raise SpecError(field, f"is {len(prefix)} characters long", FORM)
    if _CANONICAL.match(prefix):
        return prefix
    raise SpecError(field, f"{_problem(value)}, got {value!r}", FORM)


def _problem(value: str) -> str:
    if value in {"", "/"}:
        return "is empty"
    if (problem := key_problem(value)) is not None:
        return problem
    bad = next((c for c in value if not _ALLOWED.match(c)), None)
    if bad is not None:
        return f"holds the character {bad!r}"
    return "has a segment made of dots only"


LandingPrefix = Annotated[
    str,
    BeforeValidator(landing_prefix),
    WithJsonSchema({"type": "string", "pattern": PATTERN, "maxLength": MAX_LENGTH, "description": FORM}),
]
"""A canonical landing folder, ``sales/eu/``."""
