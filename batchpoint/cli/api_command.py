"""What every az-ml-style command shares: the SDK client, ``--output``/``--query``, one-line errors.

A user error (``BatchpointError``: bad YAML, unknown entity, refused token ...) prints one red
line and exits 1, never a traceback. Azure-only fields print one yellow ``warning:`` line each.
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

import click

from batchpoint.errors import BatchpointError
from batchpoint.sdk import MLClient

P = ParamSpec("P")
R = TypeVar("R")

OUTPUT_HELP = "table for people (default), json or tsv for scripts."
QUERY_HELP = "Pick a field: `name`, `status`, `defaults.deployment_name`, or `[].name` from a list."


def api_command(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` turning batchpoint errors into one red line and exit code 1; show warnings briefly."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = func(*args, **kwargs)
            except BatchpointError as exc:
                _show_warnings(caught)
                click.secho(f"error: {exc}", fg="red", err=True)
                raise click.exceptions.Exit(1) from exc
            _show_warnings(caught)
            return result

    return wrapper


def _show_warnings(caught: list[warnings.WarningMessage]) -> None:
    for warning in caught:
        click.secho(f"warning: {warning.message}", fg="yellow", err=True)


def output_options(func: Callable[P, R]) -> Callable[P, R]:
    """Add ``--output/-o`` and ``--query``."""
    func = click.option("--query", default=None, help=QUERY_HELP)(func)
    choice = click.Choice(["table", "json", "tsv"])
    return click.option("--output", "-o", "output", type=choice, default="table", help=OUTPUT_HELP)(func)


def client() -> MLClient:
    """The SDK client (BATCHPOINT_API_URL, BATCHPOINT_API_TOKEN, ~/.batchpoint/config.json), closed with the command."""
    ml_client = MLClient()
    click.get_current_context().call_on_close(ml_client.close)
    return ml_client


def as_data(value: Any) -> Any:
    """An entity (or list of them) as plain JSON-able data."""
    if isinstance(value, list):
        return [as_data(v) for v in value]
    if hasattr(value, "_to_dict"):
        return as_data(value._to_dict())
    if isinstance(value, dict):
        return {k: as_data(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def query(data: Any, expression: str | None) -> Any:
    """A small subset of JMESPath: dotted fields, and ``[].field`` over a list."""
    if not expression:
        return data
    if expression.startswith("[]"):
        rest = expression[2:].lstrip(".")
        return [query(item, rest) for item in data]
    for part in expression.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def emit(value: Any, output: str, expression: str | None = None, columns: Sequence[str] = ()) -> None:
    """Print ``value`` as a table (``columns`` for lists), JSON or tab-separated values."""
    data = query(as_data(value), expression)
    if output == "json":
        click.echo(json.dumps(data, indent=2, default=str))
    elif output == "tsv":
        rows = data if isinstance(data, list) else [data]
        for row in rows:
            cells = [row.get(c) for c in columns] if isinstance(row, dict) else [row]
            click.echo("\t".join("" if c is None else str(c) for c in cells))
    elif isinstance(data, list):
        _table(data, columns)
    elif isinstance(data, dict):
        width = max((len(k) for k in data), default=0)
        for key, item in data.items():
            shown = json.dumps(item, default=str) if isinstance(item, dict | list) else item
            click.echo(f"{key:<{width}}  {'' if shown is None else shown}")
    else:
        click.echo("" if data is None else str(data))


def _cell(row: Any, column: str) -> str:
    value = query(row, column) if isinstance(row, dict) else row
    return "" if value is None else str(value)


def _table(rows: list[Any], columns: Sequence[str]) -> None:
    if not rows:
        click.echo("(none)")
        return
    cols = list(columns) or (list(rows[0]) if isinstance(rows[0], dict) else ["value"])
    cells = [[_cell(r, c) for c in cols] for r in rows]
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(cols)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
    for line in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
