"""Validity: predictions that are there, of the signature's columns and types, in the classes seen."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from batchpoint.checks.results import CheckResult, CheckStatus, Figure

NAME = "validity"
_SHOWN = 5

# MLflow's column types (a signature's outputs) and the Arrow types a prediction of that type may have.
_ACCEPTED: Mapping[str, tuple[str, ...]] = {
    "double": ("floating",),
    "float": ("floating",),
    "long": ("integer",),
    "integer": ("integer",),
    "boolean": ("boolean",),
    "string": ("string",),
    "binary": ("binary",),
    "datetime": ("timestamp", "date"),
}


def _kind(data_type: pa.DataType) -> str:
    for kind, test in (
        ("floating", pa.types.is_floating),
        ("integer", pa.types.is_integer),
        ("boolean", pa.types.is_boolean),
        ("string", lambda t: pa.types.is_string(t) or pa.types.is_large_string(t)),
        ("binary", lambda t: pa.types.is_binary(t) or pa.types.is_large_binary(t)),
        ("timestamp", pa.types.is_timestamp),
        ("date", pa.types.is_date),
    ):
        if test(data_type):
            return kind
    return str(data_type)


def _missing_count(column: pa.ChunkedArray) -> int:
    nulls = int(column.null_count)
    if pa.types.is_floating(column.type):
        nulls += int(pc.sum(pc.is_nan(column.fill_null(0.0))).as_py() or 0)
    return nulls


def validity(
    predictions: pa.Table,
    columns: Sequence[str],
    *,
    signature_types: Mapping[str, str] | None = None,
    classes: Mapping[str, Collection[object]] | None = None,
    allow_nulls: bool = False,
    blocking: bool = False,
) -> CheckResult:
    """Whether the prediction ``columns`` of ``predictions`` hold valid values.

    ``signature_types``: MLflow's type per output column (the model signature's outputs), when it
    has one; ``classes``: per class column, the classes seen (e.g. in the training labels or the
    previous versions); ``allow_nulls``: the endpoint accepts null or NaN predictions.
    """
    problems: list[str] = []
    figures: dict[str, Figure] = {"rows": predictions.num_rows}
    per_column: dict[str, dict[str, Figure]] = {}
    for name in columns:
        if name not in predictions.column_names:
            problems.append(f"column {name!r} is missing")
            continue
        column = predictions.column(name)
        missing = _missing_count(column)
        per_column[name] = {"null_or_nan": missing, "type": str(column.type)}
        if missing and not allow_nulls:
            problems.append(f"{missing} of {predictions.num_rows} predictions of {name!r} are null or NaN")
        expected = (signature_types or {}).get(name)
        if expected is not None and _kind(column.type) not in _ACCEPTED.get(expected, (expected,)):
            problems.append(f"{name!r} is {column.type}, the signature says {expected}")
        known = (classes or {}).get(name)
        if known is not None:
            seen = {v for v in pc.unique(column.drop_null()).to_pylist()}
            unknown = sorted(map(str, seen - set(known)))
            per_column[name]["unknown_classes"] = len(unknown)
            if unknown:
                shown = ", ".join(unknown[:_SHOWN]) + (", ..." if len(unknown) > _SHOWN else "")
                problems.append(f"{name!r} has {len(unknown)} class(es) never seen before: {shown}")
    figures["problems"] = len(problems)
    if problems:
        return CheckResult(NAME, CheckStatus.FAILED, blocking, "; ".join(problems), figures, per_column)
    return CheckResult(
        NAME, CheckStatus.PASSED, blocking, f"{len(columns)} prediction column(s) valid", figures, per_column
    )
