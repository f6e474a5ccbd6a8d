"""``batchpoint batch-endpoint backfill``: re-score a range of months and show each month's progress."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from batchpoint.cli.api_command import api_command, client, emit, people_output_options, progress_wanted
from batchpoint.sdk.backfill_poller import BackfillPoller
from batchpoint.sdk.entities.backfill import Backfill
from batchpoint.sdk.progress import terminal_console

MONTH_COLUMNS = ("month", "status", "job_name", "dagster_run_id", "output_uri")

_epilog = """\b
Examples:
  batchpoint batch-endpoint backfill --name sales-forecast --from 2026-01 --to 2026-06
  batchpoint batch-endpoint backfill -n sales-forecast --from 2026-01 --to 2026-06 --failed-only
  batchpoint batch-endpoint backfill -n sales-forecast --from 2026-05 --to 2026-05 -d challenger
  batchpoint batch-endpoint backfill -n sales-forecast --from 2026-05 --to 2026-05 -d challenger --promote
  batchpoint batch-endpoint backfill -n sales-forecast --from 2026-01 --to 2026-06 --no-wait -o json
\b
A backfill is a Dagster asset partition backfill of the endpoint's predictions: one run per month,
each a new output version. `latest` moves for the default deployment's runs; another deployment's
runs leave it where it is unless --promote. The command waits and exits 1 if any month failed.
"""


@click.command("backfill", epilog=_epilog)
@click.option("--name", "-n", required=True, help="Endpoint name.")
@click.option("--from", "from_month", required=True, metavar="YYYY-MM", help="First month to re-score.")
@click.option("--to", "to_month", required=True, metavar="YYYY-MM", help="Last month to re-score (included).")
@click.option("--deployment-name", "-d", help="Deployment to score with (default: the endpoint's default).")
@click.option(
    "--failed-only",
    is_flag=True,
    help="Only months whose newest version failed or tolerated failed items; re-score just their failed files.",
)
@click.option(
    "--promote/--no-promote",
    default=None,
    help="Move `latest` to the new versions (default: only with the endpoint's default deployment).",
)
@click.option("--no-wait", is_flag=True, help="Print the backfill and return; follow it in Dagster's UI.")
@click.option("--poll-interval", type=float, default=2.0, show_default=True, help="Seconds between progress reads.")
@people_output_options
@api_command
def backfill(
    name: str,
    from_month: str,
    to_month: str,
    deployment_name: str | None,
    failed_only: bool,
    promote: bool | None,
    no_wait: bool,
    poll_interval: float,
    output: str,
    query: str | None,
) -> None:
    """Re-score months of an endpoint as new output versions, printing each month's progress."""
    poller = client(output).batch_endpoints.begin_backfill(
        name,
        from_month=from_month,
        to_month=to_month,
        deployment_name=deployment_name,
        failed_only=failed_only,
        promote=promote,
    )
    people = output == "table"
    if people:
        _announce(poller.backfill)
    if no_wait:
        if not people:
            emit(poller.backfill, output, query)
        return
    # People get progress: one line per month updating in place on a terminal, a line per change
    # when piped. With -o json/tsv stdout is the one document a script reads, and nothing else.
    console = terminal_console(sys.stdout, show_progress=people and progress_wanted(output))
    if console is not None:
        final = _follow_live(poller, poll_interval, console)
    else:
        final = _follow(poller, poll_interval, say=click.echo if people else _quiet)
    if people:
        _summary(final)
    else:
        emit(final, output, query, MONTH_COLUMNS)
    if final.status != "Completed":
        raise click.exceptions.Exit(1)


def _announce(started: Backfill) -> None:
    months = [m.month for m in started.months]
    promote = {True: "moves latest", False: "leaves latest where it is", None: "default"}[started.promote]
    what = "failed files of " if started.failed_only else ""
    click.echo(
        f"Backfill {started.name} of {started.endpoint_name}: re-scoring {what}{len(months)} month(s) "
        f"with deployment {started.deployment_name} ({promote})"
    )
    click.echo(f"Months: {', '.join(months)}")
    if started.studio_url:
        click.echo(f"Dagster: {started.studio_url}")


def _follow(poller: BackfillPoller, poll_interval: float, say: Callable[[str], None]) -> Backfill:
    """Poll until every month's run ended, saying each month's status as it changes."""
    began = time.monotonic()
    seen = {m.month: m.status for m in poller.backfill.months}
    while True:
        current = poller.poll()
        for month in current.months:
            if seen.get(month.month) != month.status:
                seen[month.month] = month.status
                say(f"[{time.monotonic() - began:6.1f} s] {month.month}: {month.status:<10} {_counts(current)}")
        if current.done:
            return current
        time.sleep(poll_interval)


def follow_quietly(poller: BackfillPoller, poll_interval: float, say: Callable[[str], None] | None) -> Backfill:
    """``_follow``, saying nothing when ``say`` is ``None`` (a script reads stdout)."""
    return _follow(poller, poll_interval, say=say or _quiet)


def _quiet(line: str) -> None:
    del line  # -o json/tsv: the final document is the whole output


def _follow_live(poller: BackfillPoller, poll_interval: float, console: Console) -> Backfill:
    """Poll until every month's run ended, one line per month updated in place."""
    began = time.monotonic()
    current = poller.backfill
    with Live(_months_table(current, 0.0), console=console, refresh_per_second=4) as live:
        while True:
            current = poller.poll()
            live.update(_months_table(current, time.monotonic() - began))
            if current.done:
                return current
            time.sleep(poll_interval)


_STATUS_STYLES = {"Completed": "green", "Failed": "red", "Canceled": "red", "Running": "yellow"}


def _months_table(backfill: Backfill, elapsed: float) -> Table:
    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    for column in ("month", "status", "job", "took"):
        table.add_column(column)
    for month in backfill.months:
        took = ""
        if month.started_at is not None and month.ended_at is not None:
            took = f"{(month.ended_at - month.started_at).total_seconds():.1f} s"
        status = Text(month.status, style=_STATUS_STYLES.get(month.status, ""))
        table.add_row(month.month, status, month.job_name or "", took)
    table.caption = f"{elapsed:.0f} s {_counts(backfill)}"
    return table


def _counts(backfill: Backfill) -> str:
    done = backfill.count("Completed", "Failed", "Canceled")
    failed = backfill.count("Failed", "Canceled")
    return f"({done}/{len(backfill.months)} done, {failed} failed)"


def _summary(final: Backfill) -> None:
    completed = final.count("Completed")
    colour = "green" if final.status == "Completed" else "red"
    click.secho(
        f"Backfill {final.name} {final.status}: {completed} of {len(final.months)} month(s) completed", fg=colour
    )
    for month in final.months:
        if month.status != "Completed":
            reason = (month.error or "no error recorded").strip().splitlines()[0][:200]
            click.secho(f"  {month.month}: {month.status} — {reason}", fg="red")
        elif month.output_uri:
            click.echo(f"  {month.month}: {month.output_uri}")
