"""The pydantic base of every spec: frozen, unknown fields rejected, errors as ``SpecError``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from batchpoint.errors import SpecError, SpecProblemsError
from batchpoint.specs.validation_messages import (
    GIVEN_MAX_CHARS,
    fields_at,
    problem_and_form,
    shown,
    unknown_field_form,
)

__all__ = ["GIVEN_MAX_CHARS", "Spec", "all_problems", "shown", "spec_error_from"]


class Spec(BaseModel):
    """Frozen, strict-about-fields base of all specs."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @classmethod
    def parse(cls, data: Any, *, where: str = "", also_accepted: Iterable[str] = ()) -> Self:
        """Validate ``data``; every problem becomes a ``SpecError`` naming the field (``SpecProblemsError`` if several).

        ``also_accepted``: top-level keys the caller takes before validation, offered for a misspelling.
        """
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise spec_error_from(exc, where or cls.__name__, cls, also_accepted) from exc


def field_problem(
    error: Mapping[str, Any],
    where: str,
    model: type[BaseModel] | None = None,
    also_accepted: Iterable[str] = (),
    listed: set[tuple[int | str, ...]] | None = None,
) -> SpecError:
    """One pydantic error as a ``SpecError`` at ``where.<dotted path>``; an unknown field lists the valid ones.

    ``listed``: the objects whose fields an earlier problem listed (added to; later ones refer to it).
    """
    loc = tuple(error.get("loc", ()))
    path = ".".join(str(p) for p in loc) or "<root>"
    field = f"{where}.{path}" if where else path
    ctx = error.get("ctx")
    raised = ctx.get("error") if isinstance(ctx, dict) else None
    if isinstance(raised, SpecError):  # a validator that knows the valid form said so
        return SpecError(field, raised.problem, raised.valid_form)
    problem, form = problem_and_form(error)
    if error.get("type") == "extra_forbidden" and model is not None and loc:
        valid = fields_at(model, loc[:-1])
        if valid is not None:
            said = listed is not None and loc[:-1] in listed
            form = unknown_field_form(str(loc[-1]), [*valid, *(also_accepted if len(loc) == 1 else ())], listed=said)
            if listed is not None:
                listed.add(loc[:-1])
    return SpecError(field, problem, form)


def spec_errors_of(
    errors: Iterable[Mapping[str, Any]],
    where: str,
    model: type[BaseModel] | None = None,
    also_accepted: Iterable[str] = (),
) -> SpecError:
    """Every problem of a spec at once: one ``SpecError``, or ``SpecProblemsError`` when there are several.

    A field is reported once (a union's members each refuse the same value; the first says why).
    """
    accepted = tuple(also_accepted)
    problems: dict[str, SpecError] = {}
    listed: set[tuple[int | str, ...]] = set()
    for error in errors:
        problem = field_problem(error, where, model, accepted, listed)
        problems.setdefault(problem.field, problem)
    found = list(problems.values()) or [SpecError(where or "<root>", "invalid")]
    return found[0] if len(found) == 1 else SpecProblemsError(found)


def all_problems(*errors: SpecError) -> SpecError:
    """``errors`` as one: the error itself when there is one, else ``SpecProblemsError`` (one per field)."""
    flat: dict[str, SpecError] = {}
    for error in errors:
        for problem in error.problems if isinstance(error, SpecProblemsError) else [error]:
            flat.setdefault(problem.field, problem)
    found = list(flat.values())
    return found[0] if len(found) == 1 else SpecProblemsError(found)


def spec_error_from(
    exc: ValidationError, where: str, model: type[BaseModel] | None = None, also_accepted: Iterable[str] = ()
) -> SpecError:
    """Turn pydantic's errors into a ``SpecError`` (``SpecProblemsError`` for several) with dotted field paths."""
    return spec_errors_of(exc.errors(), where, model, also_accepted)
