"""``batchpoint batch-endpoint compare``: score a month with a challenger deployment and diff it against ``latest``."""

from __future__ import annotations

import json

import click

from batchpoint.cli.api_command import api_command, client, emit, people_output_options
from batchpoint.cli.backfill_command import follow_quietly
from batchpoint.errors import NotFoundError

_epilog = """\b
Examples:
  batchpoint batch-endpoint compare --name sales-forecast --deployment-name challenger --partition 2026-05
  batchpoint batch-endpoint compare -n sales-forecast -d challenger -p 2026-05 -o json
\b
The month is scored with the challenger as a one-month backfill that does not move `latest`
(every file re-scored), then joined with the month's `latest` on input file and row index: the
agreement rate of class columns, the mean and max absolute difference of number columns, and the
rows that differ most. The report is `compare/report.txt` (and `.json`) in the challenger's
version, and its manifest's `compare`. It needs per-row lineage on both sides: MLflow deployments
scored by the built-in scorer. Exits 1 if the challenger's run failed.
"""


@click.command("compare", epilog=_epilog)
@click.option("--name", "-n", required=True, help="Endpoint name.")
@click.option("--deployment-name", "-d", required=True, help="The challenger: a deployment of the endpoint.")
@click.option("--partition", "-p", required=True, metavar="YYYY-MM", help="The month to score and compare.")
@click.option("--poll-interval", type=float, default=2.0, show_default=True, help="Seconds between progress reads.")
@people_output_options
@api_command
def compare(
    name: str, deployment_name: str, partition: str, poll_interval: float, output: str, query: str | None
) -> None:
    """Score a month with a challenger deployment, without promoting it, and diff it against the month's latest."""
    endpoints = client(output).batch_endpoints
    poller = endpoints.begin_compare(name, deployment_name=deployment_name, partition=partition)
    people = output == "table"
    if people:
        click.echo(f"Comparing {deployment_name} with {name}'s latest of {partition} (backfill {poller.backfill.name})")
    final = follow_quietly(poller, poll_interval, say=click.echo if people else None)
    month = final.months[0] if final.months else None
    if month is None or not month.output_uri:
        error = month.error if month is not None else "no run"
        raise click.ClickException(f"the challenger's run of {partition} wrote no version: {error}")
    version = month.output_uri.rstrip("/").rsplit("/", 1)[-1]
    try:
        report = endpoints.compare_report(name, partition, version)
    except NotFoundError as exc:
        # A run that failed scoring writes its version without a report.
        raise click.ClickException(f"the challenger's run of {partition} ended {month.status}: {month.error}") from exc
    if people:
        click.echo(str(report.get("text") or report.get("note", "")).rstrip())
        click.echo(f"report: {month.output_uri}compare/report.txt")
    elif output == "json" and not query:
        click.echo(json.dumps({k: v for k, v in report.items() if k != "text"}, indent=2, default=str))
    else:
        emit({k: v for k, v in report.items() if k != "text"}, output, query)
    if month.status != "Completed":  # e.g. a blocking check of the challenger's version failed
        click.echo(f"the challenger's run ended {month.status}: {month.error}", err=True)
        raise click.exceptions.Exit(1)
