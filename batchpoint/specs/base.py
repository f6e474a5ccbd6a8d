"""The pydantic base of every spec: frozen, unknown fields rejected, errors as ``SpecError``."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from batchpoint.errors import SpecError
from batchpoint.specs.validation_messages import GIVEN_MAX_CHARS, problem_and_form, shown

__all__ = ["GIVEN_MAX_CHARS", "Spec", "shown", "spec_error_from"]


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


def spec_error_from(exc: ValidationError, where: str) -> SpecError:
    """Turn pydantic's first error into a ``SpecError`` with a dotted field path."""
    first = exc.errors()[0]
    path = ".".join(str(p) for p in first["loc"]) or "<root>"
    raised = first.get("ctx", {}).get("error")
    if isinstance(raised, SpecError):  # a validator that knows the valid form said so
        return SpecError(f"{where}.{path}", raised.problem, raised.valid_form)
    problem, form = problem_and_form(first)
    return SpecError(f"{where}.{path}", problem, form)
