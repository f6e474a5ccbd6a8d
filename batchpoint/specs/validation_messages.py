"""Pydantic's errors said once: what was wrong with the value, and the form a valid value takes.

Pydantic's message already states the rule (``String should match pattern '^...$'``); putting it
as the problem *and* as the valid form repeated it. Here the problem is what was given and the
valid form is the rule, in words where batchpoint knows them (its name patterns).
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from batchpoint.specs.asset_naming import NAME_PATTERN, VERSION_PATTERN

GIVEN_MAX_CHARS = 200
"""How much of a refused value an error message repeats (a 20 MiB description is not echoed)."""


def shown(value: Any) -> str:
    """``repr(value)``, cut to ``GIVEN_MAX_CHARS`` characters."""
    text = repr(value)
    return text if len(text) <= GIVEN_MAX_CHARS else f"{text[:GIVEN_MAX_CHARS]}... ({len(text)} characters)"


# Every pattern a spec field uses, in words; any other pattern is quoted.
PATTERN_FORMS: dict[str, str] = {
    NAME_PATTERN: "1 to 255 letters, digits, '_', '.' or '-', starting with a letter or digit",
    VERSION_PATTERN: "1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit",
    r"^[A-Za-z][A-Za-z0-9-]{1,31}$": "2 to 32 letters, digits or '-', starting with a letter",
    r"^[A-Za-z][A-Za-z0-9-]{2,31}$": "3 to 32 letters, digits or '-', starting with a letter",
    r"^[A-Za-z][A-Za-z0-9-]{1,30}[A-Za-z0-9]$": (
        "3 to 32 letters, digits or '-', starting with a letter and not ending with '-'"
    ),
    r"^[^/\\]+$": "a file name (no '/' or '\\')",
    r"^(debug|info|warning|error|critical)$": "one of debug, info, warning, error, critical",
    r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$": "an S3 bucket name: 3 to 63 lower-case letters, digits, '.' or '-'",
    r"^\d{4}-(0[1-9]|1[0-2])$": "a month as YYYY-MM",
    r"^\d+(\.\d+){0,2}$": "a Python version such as 3.11 or 3.11.7",
    r"^\d+$": "a whole number",
}

_BOUNDS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}

_TYPE_FORMS = {
    "missing": "a value (the field is required)",
    "extra_forbidden": "one of the documented fields",
    "json_invalid": "a JSON document",
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "a string",
    "dict_type": "a mapping of field: value",
    "model_type": "a mapping of field: value",
    "model_attributes_type": "a mapping of field: value",
    "list_type": "a list",
    "datetime_parsing": "an ISO 8601 date and time",
    "datetime_type": "an ISO 8601 date and time",
}


def valid_form_of(error: Mapping[str, Any]) -> str | None:
    """The form a valid value takes, from one pydantic error (its ``type`` and ``ctx``); ``None`` if unknown."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        return PATTERN_FORMS.get(pattern, f"text matching the regular expression {pattern}")
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        (bound, value), *_ = [(k, v) for k, v in ctx.items() if k in _BOUNDS] or [("", "")]
        return f"a number {_BOUNDS.get(bound, '')} {value}".strip()
    if kind in {"string_too_short", "string_too_long"}:
        short = kind == "string_too_short"
        return f"at {'least' if short else 'most'} {ctx.get('min_length' if short else 'max_length')} characters"
    if kind in {"literal_error", "enum"}:
        return f"one of {ctx.get('expected')}"
    if kind == "value_error":
        # A validator's own words: "must be at least min_instances (3)" -> "at least min_instances (3)".
        return str(error.get("msg", "")).removeprefix("Value error, ").removeprefix("must be ") or None
    return _TYPE_FORMS.get(kind)


def unknown_field_form(given: str, valid: Iterable[str], *, listed: bool = False) -> str:
    """``one of: a, b, c; did you mean b?`` -- the fields an object takes and the near miss, if any.

    ``listed``: an earlier problem of the same object already lists them (a message says them once).
    """
    names = sorted(set(valid))
    form = "one of the fields listed above" if listed else f"one of: {', '.join(names)}"
    close = difflib.get_close_matches(given, names, n=1)
    return f"{form}; did you mean {close[0]}?" if close else form


def _members(annotation: Any) -> list[Any]:
    """The types an annotation may hold: ``Annotated`` unwrapped, a union split into its members."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _members(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [member for arg in get_args(annotation) for member in _members(arg)]
    return [annotation]


def _is_model(candidate: Any) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)


def fields_at(model: type[BaseModel], loc: Sequence[int | str]) -> list[str] | None:
    """The field names (aliases where set) of the object at ``loc`` below ``model``; ``None`` if not a model.

    Follows pydantic's error locations: field names, dict keys, list indexes and the class names
    pydantic inserts for the member of a union it tried.
    """
    current: list[Any] = [model]
    for part in loc:
        found: list[Any] = []
        for candidate in current:
            origin, args = get_origin(candidate), get_args(candidate)
            if _is_model(candidate):
                fields = candidate.model_fields
                info = fields.get(str(part)) or next((f for f in fields.values() if f.alias == part), None)
                if info is not None:
                    found += _members(info.annotation)
                elif candidate.__name__ == part:  # the union member pydantic tried
                    found.append(candidate)
            elif origin in (dict, Mapping) and len(args) == 2:
                found += _members(args[1])
            elif origin in (list, tuple, Sequence) and args and isinstance(part, int):
                found += _members(args[0])
        current = found
    models = [c for c in current if _is_model(c)]
    if not models:
        return None
    return sorted({info.alias or name for m in models for name, info in m.model_fields.items()})


def problem_and_form(error: Mapping[str, Any]) -> tuple[str, str | None]:
    """What was wrong and the valid form, each said once, from one pydantic error.

    With a known valid form the problem is only what was given (``got 'x'``); without one it is
    pydantic's message and what was given.
    """
    kind = str(error.get("type", ""))
    form = valid_form_of(error)
    if kind == "missing":
        return "is required", form
    if kind == "extra_forbidden":
        return "unknown field", form
    given = error.get("input")
    got = "" if isinstance(given, dict | bytes) else f"got {shown(given)}"
    if form is not None:
        return got or str(error.get("msg", "invalid")), form
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return (f"{message}, {got}" if got else message), None
