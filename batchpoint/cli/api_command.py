"""What every az-ml-style command shares: the SDK client, ``--output``/``--query``, one-line errors.

Output follows ``az``: JSON by default (so ``$(batchpoint ... | jq -r .name)`` works as with ``az``),
``-o table`` for people, ``-o tsv`` for shells; the default can be changed with ``AZURE_CORE_OUTPUT``
or ``BATCHPOINT_CORE_OUTPUT`` (the latter wins), as ``az``'s ``core.output``. ``--query`` is JMESPath,
applied before printing.

A user error (``BatchpointError``: bad YAML, unknown entity, refused token ...) prints one red
line and exits 1, never a traceback. Azure-only fields print one yellow ``warning:`` line each.
"""

from __future__ import annotations

import functools
import json
import os
import warnings
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

import click
import jmespath
import jmespath.exceptions

from batchpoint.errors import BatchpointError, SpecError
from batchpoint.sdk import MLClient

P = ParamSpec("P")
R = TypeVar("R")

OUTPUT_FORMATS = ("json", "table", "tsv")
OUTPUT_VARIABLES = ("BATCHPOINT_CORE_OUTPUT", "AZURE_CORE_OUTPUT")  # first set wins
OUTPUT_HELP = "json (the default, as az; or $BATCHPOINT_CORE_OUTPUT / $AZURE_CORE_OUTPUT), table for people, or tsv."
QUERY_HELP = "JMESPath, as in az: `name`, `defaults.deployment_name`, `[].name`, `[].{name:name, status:status}`."
_OUTPUT_CHOSEN = "batchpoint.output_chosen"  # click context meta: -o was given
QUERY_FORM = "a JMESPath expression, e.g. `[].name` or `defaults.deployment_name`"


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
    """Add ``--output/-o`` and ``--query``; the command gets ``output`` resolved (see ``default_output``)."""
    return _with_output(func, fallback="json")


def people_output_options(func: Callable[P, R]) -> Callable[P, R]:
    """``output_options`` for a batchpoint-only command whose output is for people: a table unless asked."""
    return _with_output(func, fallback="table")


def _with_output(func: Callable[P, R], fallback: str) -> Callable[P, R]:
    @functools.wraps(func)
    def resolved(*args: P.args, **kwargs: P.kwargs) -> R:
        output = kwargs.get("output")
        # An -o on the command line asks for that document alone: no progress beside it (az shows
        # its upload bars with the default JSON output, and so do we, on a terminal).
        click.get_current_context().meta[_OUTPUT_CHOSEN] = output is not None
        if output is None:
            try:
                output = default_output("json" if kwargs.get("query") else fallback)
            except BatchpointError as exc:
                click.secho(f"error: {exc}", fg="red", err=True)
                raise click.exceptions.Exit(1) from exc
        kwargs["output"] = str(output).lower()
        return func(*args, **kwargs)

    with_query = click.option("--query", default=None, help=QUERY_HELP)(resolved)
    choice = click.Choice(list(OUTPUT_FORMATS), case_sensitive=False)
    return click.option("--output", "-o", "output", type=choice, default=None, help=OUTPUT_HELP)(with_query)


def default_output(fallback: str = "json") -> str:
    """The output format without ``-o``: ``$BATCHPOINT_CORE_OUTPUT``, else ``$AZURE_CORE_OUTPUT``, else ``fallback``."""
    for variable in OUTPUT_VARIABLES:
        value = os.environ.get(variable, "").strip().lower()
        if not value:
            continue
        # az's jsonc is JSON in colour; the same data for a script.
        value = {"jsonc": "json"}.get(value, value)
        if value not in OUTPUT_FORMATS:
            raise SpecError(variable, f"{value!r} is not an output format", " | ".join(OUTPUT_FORMATS))
        return value
    return fallback


def progress_wanted(output: str) -> bool:
    """Whether progress may be drawn beside ``output``: not when ``-o json``/``tsv`` was asked for.

    Whether it is drawn also needs a terminal; ``batchpoint.sdk.progress`` checks that.
    """
    chosen = bool(click.get_current_context().meta.get(_OUTPUT_CHOSEN, False))
    return output == "table" or not chosen


def client(output: str = "table") -> MLClient:
    """The SDK client (BATCHPOINT_API_URL, BATCHPOINT_API_TOKEN, ~/.batchpoint/config.json), closed with the command.

    Its progress bars (uploads, ``job stream``) follow ``progress_wanted(output)``.
    """
    ml_client = MLClient(show_progress=progress_wanted(output))
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
    """``data`` with the JMESPath ``expression`` applied (``data`` itself when there is none)."""
    if not expression:
        return data
    try:
        return jmespath.search(expression, data)
    except jmespath.exceptions.JMESPathError as exc:
        raise SpecError("--query", f"{expression!r} is not valid JMESPath ({exc})", QUERY_FORM) from exc


def emit(value: Any, output: str, expression: str | None = None, columns: Sequence[str] = ()) -> None:
    """Print ``value`` as a table (``columns`` for lists), JSON or tab-separated values.

    After a ``--query`` the result's own shape decides: its keys are the columns, and a list of
    plain values is one ``Result`` column (as in ``az``).
    """
    data = query(as_data(value), expression)
    if expression:
        columns = ()
    if output == "json":
        click.echo(json.dumps(data, indent=2, default=str))
    elif output == "tsv":
        rows = data if isinstance(data, list) else [data]
        for row in rows:
            cells = ([_dotted(row, c) for c in columns] or list(row.values())) if isinstance(row, dict) else [row]
            click.echo("\t".join(_tsv_cell(c) for c in cells))
    elif isinstance(data, list):
        _table(data, columns)
    elif isinstance(data, dict):
        width = max((len(k) for k in data), default=0)
        for key, item in data.items():
            shown = json.dumps(item, default=str) if isinstance(item, dict | list) else item
            click.echo(f"{key:<{width}}  {'' if shown is None else shown}")
    else:
        click.echo("" if data is None else str(data))


def _tsv_cell(value: Any) -> str:
    if value is None:
        return ""
    return json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)


def _cell(row: Any, column: str) -> str:
    value = _dotted(row, column) if isinstance(row, dict) else row
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return "" if value is None else str(value)


def _dotted(row: dict[str, Any], column: str) -> Any:
    """A table column's value: a field, or a dotted path into nested fields (``progress.rows``)."""
    value: Any = row
    for part in column.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _table(rows: list[Any], columns: Sequence[str]) -> None:
    if not rows:
        click.echo("(none)")
        return
    if not all(isinstance(r, dict) for r in rows):
        columns = ["Result"]  # a list of plain values, as `az -o table` shows one
        rows = [{"Result": r} for r in rows]
    cols = list(columns) or list(dict.fromkeys(k for r in rows for k in r))
    cells = [[_cell(r, c) for c in cols] for r in rows]
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(cols)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
    for line in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
