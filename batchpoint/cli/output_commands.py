"""``batchpoint output versions|show|rollback|prune``: an endpoint partition's output versions, over the SDK."""

from __future__ import annotations

from typing import Any

import click

from batchpoint.cli.api_command import api_command, as_data, client, emit, people_output_options
from batchpoint.outputs.job_logs import check_lines
from batchpoint.outputs.manifest import Manifest
from batchpoint.outputs.version_views import summarize

VERSION_COLUMNS = ("version", "status", "rows", "failed", "model", "deployment", "promoted", "latest")

_epilog = """\b
Examples:
  batchpoint output versions --endpoint sales-forecast --partition 2026-05
  batchpoint output show --endpoint sales-forecast --partition 2026-05
  batchpoint output show --endpoint sales-forecast --partition 2026-05 --version 20260501T101500.123Z-6f1c2a9e -o json
  batchpoint output rollback --endpoint sales-forecast --partition 2026-05 --version 20260501T101500.123Z-6f1c2a9e
  batchpoint output prune --endpoint sales-forecast --partition 2026-05 --keep 3
"""


def _where(func: Any) -> Any:
    func = click.option("--partition", "-p", required=True, help="The month, YYYY-MM (e.g. 2026-05).")(func)
    return click.option("--endpoint", "-e", required=True, help="Batch endpoint name.")(func)


@click.group(epilog=_epilog)
def output() -> None:
    """List, inspect, roll back and prune the output versions of an endpoint's month.

    Every run of a month writes a new version; `latest` is the one readers get. A version whose
    blocking check failed is Failed-check: written, but `latest` stayed. Rolling back moves
    `latest` to another Completed (or, deliberately, Failed-check) version; pruning deletes old
    versions, never the latest one.
    """


def _row(summary: dict[str, Any]) -> dict[str, Any]:
    model = summary.get("model_name")
    if model and summary.get("model_version"):
        model = f"{model}:{summary['model_version']}"
    return {
        "version": summary.get("version_id"),
        "status": summary.get("status"),
        "rows": summary.get("rows"),
        "failed": summary.get("failed_items"),
        "model": model,
        "deployment": summary.get("deployment_name"),
        "promoted": "yes" if summary.get("promoted", True) else "no",
        "latest": "*" if summary.get("is_latest") else "",
    }


def _emit_versions(versions: list[Any], output: str, query: str | None) -> None:
    data = as_data(versions)
    if output == "json" or query:
        emit(data, output, query, VERSION_COLUMNS)
    else:
        emit([_row(v) for v in data], output, None, VERSION_COLUMNS)


@output.command("versions", epilog=_epilog)
@_where
@people_output_options
@api_command
def versions(endpoint: str, partition: str, output: str, query: str | None) -> None:
    """List the month's versions, newest first.

    LATEST `*` marks the one readers of latest.json get.
    """
    _emit_versions(client(output).outputs.list_versions(endpoint, partition), output, query)


@output.command("show", epilog=_epilog)
@_where
@click.option("--version", "-v", "version", help="Version id (default: the one latest points at).")
@people_output_options
@api_command
def show(endpoint: str, partition: str, version: str | None, output: str, query: str | None) -> None:
    """Show one version (default: the latest).

    A summary as a table, with what each check of the version found (completeness, validity,
    drift); the whole manifest with -o json.
    """
    answer = client(output).outputs.get_version(endpoint, partition, version)  # the manifest plus is_latest
    if output == "json" or query:
        emit(answer, output, query)
        return
    manifest = Manifest.from_dict(answer)
    version_id = manifest.version_id or version or ""
    shown = summarize(manifest, version_id, is_latest=bool(answer.get("is_latest"))).to_dict()
    shown.update(error=manifest.error, logs=dict(manifest.logs))
    report = manifest.checks
    if report is not None:
        shown["checks"] = ", ".join(f"{r.name} {r.status.value.replace('_', ' ')}" for r in report.results)
    emit(shown, output)
    if report is not None and output == "table":
        click.echo("\nchecks (blocking ones keep latest where it is when they fail):")
        for line in check_lines(report):
            click.echo(f"  {line}")
        if report.baseline_version:
            click.echo(f"  drift baseline: {report.baseline_partition}'s latest, {report.baseline_version}")


@output.command("rollback", epilog=_epilog)
@_where
@click.option("--version", "-v", "version", required=True, help="The Completed version latest should point at.")
@people_output_options
@api_command
def rollback(endpoint: str, partition: str, version: str, output: str, query: str | None) -> None:
    """Point latest at another Completed version.

    Older or newer than the current one; a Failed version is refused.
    """
    moved = client(output).outputs.rollback(endpoint, partition, version)
    _emit_versions([moved], output, query)


@output.command("prune", epilog=_epilog)
@_where
@click.option("--keep", "-k", required=True, type=click.IntRange(min=1), help="Newest versions to keep (>= 1).")
@people_output_options
@api_command
def prune(endpoint: str, partition: str, keep: int, output: str, query: str | None) -> None:
    """Delete all but the newest --keep versions.

    The one latest points at is always kept, so --keep + 1 may remain.
    """
    result = client(output).outputs.prune(endpoint, partition, keep)
    if output == "json" or query:
        emit(result, output, query)
        return
    deleted = result["deleted"]
    click.echo(f"deleted {len(deleted)} version(s){': ' + ', '.join(deleted) if deleted else ''}")
    click.echo(f"kept {len(result['kept'])}: {', '.join(result['kept'])}")
