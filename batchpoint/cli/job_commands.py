"""``batchpoint job show|list|stream|cancel|download``: ``az ml job`` over the SDK."""

from __future__ import annotations

from pathlib import Path

import click

from batchpoint.cli.api_command import api_command, client, emit, output_options
from batchpoint.cli.endpoint_commands import JOB_COLUMNS

_epilog = """\b
Examples:
  batchpoint job show -n batchjob-0123456789ab
  batchpoint job show -n batchjob-0123456789ab --query status -o tsv
  batchpoint job stream -n batchjob-0123456789ab
  batchpoint job download -n batchjob-0123456789ab --output-name score --download-path ./
"""


@click.group(epilog=_epilog)
def job() -> None:
    """Follow, cancel and download batch jobs (like `az ml job`)."""


@job.command("show", epilog=_epilog)
@click.option("--name", "-n", required=True, help="Job name (batchjob-...).")
@click.option("--web", "-w", is_flag=True, help="Also print the job's Dagster run page.")
@output_options
@api_command
def show(name: str, web: bool, output: str, query: str | None) -> None:
    """Show a job: status, progress, inputs, where its outputs are."""
    found = client(output).jobs.get(name)
    emit(found, output, query, JOB_COLUMNS)
    if web and found.studio_url:
        click.echo(found.studio_url, err=True)


@job.command("list")
@click.option("--parent-job-name", "-p", help="Only this job (a batch job is its own scoring job).")
@output_options
@api_command
def list_jobs(parent_job_name: str | None, output: str, query: str | None) -> None:
    """List the jobs of every endpoint, newest first."""
    emit(client(output).jobs.list(parent_job_name=parent_job_name), output, query, JOB_COLUMNS)


@job.command("stream", epilog=_epilog)
@click.option("--name", "-n", required=True, help="Job name.")
@api_command
def stream(name: str) -> None:
    """Print the job's log as it grows until it ends; exit 1 if it failed."""
    client().jobs.stream(name)


@job.command("cancel")
@click.option("--name", "-n", required=True, help="Job name.")
@output_options
@api_command
def cancel(name: str, output: str, query: str | None) -> None:
    """Cancel a job that has not ended."""
    emit(client(output).jobs.begin_cancel(name).result(), output, query, JOB_COLUMNS)


@job.command("download", epilog=_epilog)
@click.option("--name", "-n", required=True, help="Job name.")
@click.option("--download-path", "-p", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
@click.option("--output-name", help="`score` (a batch job's one output).")
@click.option("--all", "all_outputs", is_flag=True, help="Accepted for az compatibility: everything is downloaded.")
@api_command
def download(name: str, download_path: Path, output_name: str | None, all_outputs: bool) -> None:
    """Download predictions and logs to <download-path>/named-outputs/score/."""
    target = client().jobs.download(name, download_path=download_path, output_name=output_name)
    click.echo(f"downloaded the outputs of {name} to {target}")
