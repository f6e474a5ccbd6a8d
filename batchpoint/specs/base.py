"""The pydantic base of every spec: frozen, unknown fields rejected, errors as ``SpecError``."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from batchpoint.errors import SpecError


class Spec(BaseModel):
    """Frozen, strict-about-fields base of all specs."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @classmethod
    def parse(cls, data: Any, *, where: str = "") -> Self:
        """Validate ``data``; the first problem becomes a ``SpecError`` naming the field."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise spec_error_from(exc, where or cls.__name__) from exc


GIVEN_MAX_CHARS = 200
"""How much of a refused value an error message repeats (a 20 MiB description is not echoed)."""


def shown(value: Any) -> str:
    """``repr(value)``, cut to ``GIVEN_MAX_CHARS`` characters."""
    text = repr(value)
    return text if len(text) <= GIVEN_MAX_CHARS else f"{text[:GIVEN_MAX_CHARS]}... ({len(text)} characters)"


def spec_error_from(exc: ValidationError, where: str) -> SpecError:
    """Turn pydantic's first error into a ``SpecError`` with a dotted field path."""
    first = exc.errors()[0]
    path = ".".join(str(p) for p in first["loc"]) or "<root>"
    kind = first["type"]
    if kind == "extra_forbidden":
        return SpecError(f"{where}.{path}", "unknown field", "one of the documented fields")
    raised = first.get("ctx", {}).get("error")
    if isinstance(raised, SpecError):  # a validator that knows the valid form said so
        return SpecError(f"{where}.{path}", raised.problem, raised.valid_form)
    problem = first["msg"]
    if kind != "missing":
        problem += f", got {shown(first.get('input'))}"
    return SpecError(f"{where}.{path}", problem)
