"""``batchpoint demo``: the end-to-end path on the embedded stack, start to predictions."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from batchpoint.cli.stop_signals import StopRequestedError, stop_on_sigterm
from batchpoint.config import Settings
from batchpoint.errors import BatchpointError
from batchpoint.stack import Stack
from batchpoint.stack.process import pid_alive
from batchpoint.stack.state import read_state

if TYPE_CHECKING:
    from batchpoint.demo.walkthrough import DemoOutcome


def _say(message: str) -> None:
    click.echo(f"• {message}")


def _report(outcome: DemoOutcome, settings: Settings) -> None:
    click.echo("")
    click.secho(f"First predictions ({len(outcome.predictions)} rows for {outcome.rows_landed} landed):", bold=True)
    click.echo(outcome.predictions.head(10).to_string(index=False))
    click.echo("")
    click.echo(f"Output:                {outcome.output_uri}  (version {outcome.version_id})")
    click.echo(f"Landing → predictions: {outcome.latency_seconds:.1f} s")
    click.echo(f"Dagster UI:            {outcome.dagster_asset_url}")
    click.echo(f"MLflow UI:             {settings.mlflow_uri}")


@click.command()
@click.option("--products", default=400, show_default=True, help="Products in the generated sales history.")
@click.option("--files", "files", default=8, show_default=True, help="Files the month lands as.")
@click.option("--month", default=None, help="Month to land, YYYY-MM (default: the current month).")
@click.option("--timeout", default=300.0, show_default=True, help="Seconds to wait for the predictions.")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of the stack's data (default: $BATCHPOINT_DATA_DIR or .batchpoint).",
)
@click.option(
    "--keep-running/--stop",
    default=None,
    help="Keep the stack up afterwards to browse Dagster and MLflow (default: when run in a terminal).",
)
def demo(
    products: int, files: int, month: str | None, timeout: float, data_dir: Path | None, keep_running: bool | None
) -> None:
    """Land a month of sales files and watch them turn into forecasts, with no call from you.

    Starts the embedded stack (or uses one started with `batchpoint up --detach`), trains and
    registers a sales forecaster in MLflow, creates batch endpoint `sales-forecast` with default
    deployment `forecast-mlflow`, lands the month's files in s3://landing/sales/<month>/, and
    prints the predictions the data-arrival run wrote.
    """
    # Imported here, not at the top: the demo pulls in scikit-learn and pandas (about 4 s), which
    # every other `batchpoint` command, run once per line of a user's script, would pay for.
    from batchpoint.demo.walkthrough import DemoOptions, run_demo

    settings = Settings.from_env()
    if data_dir is not None:
        settings = dataclasses.replace(settings, data_dir=data_dir)
    options = DemoOptions(products=products, files=files, timeout_seconds=timeout)
    if month:
        options = dataclasses.replace(options, month=month)
    state = read_state(settings.data_dir.resolve())
    running = state is not None and pid_alive(state.launcher_pid)
    stack = None if running else Stack(settings, on_healthy=lambda s, url, t: _say(f"{s:<9} {url} ({t:.1f} s)"))
    stop_on_sigterm()  # `batchpoint down` from another terminal stops the demo's stack as Ctrl-C does
    try:
        if stack is None:
            _say(f"Using the stack already running from {settings.data_dir.resolve()}")
        else:
            _say(f"Starting the embedded stack (data in {settings.data_dir.resolve()}) …")
            stack.up()
        outcome = run_demo(settings, _say, options)
        _report(outcome, settings)
        if stack is not None and (keep_running if keep_running is not None else sys.stdin.isatty()):
            click.echo("\nThe stack keeps running; land more files or open the UIs. Ctrl-C stops it.")
            while True:
                time.sleep(1)
    except BatchpointError as exc:
        click.secho(f"demo failed: {exc}", fg="red", err=True)
        sys.exit(1)
    except (KeyboardInterrupt, StopRequestedError):
        click.echo("\nstopping")
    finally:
        if stack is not None:
            stack.down()
