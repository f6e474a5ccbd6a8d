"""``batchpoint batch-endpoint ...``: ``az ml batch-endpoint`` over the SDK."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from batchpoint.cli.api_command import api_command, client, emit, output_options
from batchpoint.errors import SpecError
from batchpoint.sdk.entities import BatchEndpoint, Input
from batchpoint.specs.yaml_loading import endpoint_from_dict, load_endpoint

ENDPOINT_COLUMNS = ("name", "defaults.deployment_name", "description")
JOB_COLUMNS = ("name", "status", "deployment_name", "trigger", "created_at", "output_uri")
SET_FORM = "`field.sub=value`, e.g. `defaults.deployment_name=classifier-xgboost`"
INVOKE_SET_FORM = "`key=value`, e.g. `output_file_name=predictions.csv` or `retry_settings.max_retries=3`"

_epilog = """\b
Examples:
  batchpoint batch-endpoint create -n heart-classifier -f endpoint.yml
  batchpoint batch-endpoint update --name heart-classifier --set defaults.deployment_name=classifier-xgboost
  batchpoint batch-endpoint invoke --name heart-classifier --input data --input-type uri_folder
  batchpoint batch-endpoint invoke --name heart-classifier --input azureml:heart-unlabeled@latest -o table
  batchpoint batch-endpoint invoke --name heart-classifier --input data --instance-count 2 \\
      --mini-batch-size 20 --set output_file_name=predictions.csv
  batchpoint batch-endpoint list-jobs --name heart-classifier
"""


@click.group("batch-endpoint", epilog=_epilog)
def batch_endpoint() -> None:
    """Create, update, invoke and inspect batch endpoints (like `az ml batch-endpoint`)."""


def _to_entity(data: dict[str, Any]) -> BatchEndpoint:
    return BatchEndpoint._from_dict(endpoint_from_dict(data).model_dump(mode="json", exclude_none=True))


def apply_sets(data: dict[str, Any], assignments: tuple[str, ...]) -> dict[str, Any]:
    """``data`` with each ``a.b=value`` of ``--set`` applied (values stay strings unless JSON-looking)."""
    for assignment in assignments:
        key, sep, raw = assignment.partition("=")
        if not sep or not key.strip():
            raise SpecError("--set", f"got {assignment!r}", SET_FORM)
        *parents, leaf = key.strip().split(".")
        node = data
        for part in parents:
            child = node.get(part)
            node[part] = child = dict(child) if isinstance(child, dict) else {}
            node = child
        node[leaf] = None if raw.lower() in ("null", "none", "") else raw
    return data


@batch_endpoint.command("create", epilog=_epilog)
@click.option("--name", "-n", help="Endpoint name (overrides the file's).")
@click.option("--file", "-f", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="endpoint.yml")
@click.option("--set", "assignments", multiple=True, help=f"Override a field: {SET_FORM}.")
@output_options
@api_command
def create(name: str | None, file: Path | None, assignments: tuple[str, ...], output: str, query: str | None) -> None:
    """Create (or replace) an endpoint from Azure's endpoint.yml."""
    data = load_endpoint(file, name=name).model_dump(mode="json", exclude_none=True) if file else {"name": name}
    if not data.get("name"):
        raise SpecError("BatchEndpoint.name", "is missing", "-n NAME or `name:` in the file")
    endpoint = _to_entity(apply_sets(data, assignments))
    emit(client(output).batch_endpoints.begin_create_or_update(endpoint).result(), output, query, ENDPOINT_COLUMNS)


@batch_endpoint.command("update", epilog=_epilog)
@click.option("--name", "-n", required=True, help="Endpoint name.")
@click.option("--set", "assignments", multiple=True, help=f"Change a field: {SET_FORM}.")
@click.option("--file", "-f", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="endpoint.yml")
@output_options
@api_command
def update(name: str, assignments: tuple[str, ...], file: Path | None, output: str, query: str | None) -> None:
    """Change an endpoint, e.g. its default deployment."""
    ml_client = client(output)
    if file is not None:
        data = load_endpoint(file, name=name).model_dump(mode="json", exclude_none=True)
    else:
        data = ml_client.batch_endpoints.get(name)._to_dict()
    endpoint = _to_entity(apply_sets(data, assignments))
    emit(ml_client.batch_endpoints.begin_create_or_update(endpoint).result(), output, query, ENDPOINT_COLUMNS)


@batch_endpoint.command("show")
@click.option("--name", "-n", required=True, help="Endpoint name.")
@output_options
@api_command
def show(name: str, output: str, query: str | None) -> None:
    """Show one endpoint."""
    emit(client(output).batch_endpoints.get(name), output, query, ENDPOINT_COLUMNS)


@batch_endpoint.command("list")
@output_options
@api_command
def list_endpoints(output: str, query: str | None) -> None:
    """List endpoints."""
    emit(client(output).batch_endpoints.list(), output, query, ENDPOINT_COLUMNS)


@batch_endpoint.command("delete")
@click.option("--name", "-n", required=True, help="Endpoint name.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@api_command
def delete(name: str, yes: bool) -> None:
    """Delete an endpoint with its deployments."""
    if not yes:
        click.confirm(f"delete batch endpoint {name!r} and its deployments?", abort=True)
    client().batch_endpoints.begin_delete(name).result()
    click.echo(f"batch endpoint {name} deleted")


@batch_endpoint.command("invoke", epilog=_epilog)
@click.option("--name", "-n", required=True, help="Endpoint name.")
@click.option(
    "--input",
    "-i",
    "input_path",
    required=True,
    help="Local file/folder (uploaded), public https:// URL (copied in at invoke), s3://... or azureml:<data>:<v>.",
)
@click.option(
    "--input-type",
    type=click.Choice(["uri_folder", "uri_file"], case_sensitive=False),
    default="uri_folder",
    show_default=True,
)
@click.option("--deployment-name", "-d", help="Deployment to run (default: the endpoint's default).")
@click.option(
    "--output-path",
    help="Where outputs go: s3://<bucket>/<prefix>/ or azureml://datastores/workspaceblobstore/paths/<prefix>/.",
)
@click.option("--instance-count", type=int, help="Instances (worker pools) for this job, as in az.")
@click.option("--mini-batch-size", type=int, help="Files per mini-batch for this job.")
@click.option("--error-threshold", type=int, help="Failed files tolerated for this job (-1 = all).")
@click.option("--max-retries", type=int, help="Retries per mini-batch for this job.")
@click.option("--timeout", type=int, help="Seconds per mini-batch for this job.")
@click.option("--output-file-name", help="Predictions file name for this job.")
@click.option("--set", "assignments", multiple=True, help=f"Override a setting for this job: {INVOKE_SET_FORM}.")
@click.option("--experiment-name", help="Accepted as in az; jobs are grouped by endpoint.")
@output_options
@api_command
def invoke(
    name: str,
    input_path: str,
    input_type: str,
    deployment_name: str | None,
    output_path: str | None,
    instance_count: int | None,
    mini_batch_size: int | None,
    error_threshold: int | None,
    max_retries: int | None,
    timeout: int | None,
    output_file_name: str | None,
    assignments: tuple[str, ...],
    experiment_name: str | None,
    output: str,
    query: str | None,
) -> None:
    """Start a job on the endpoint and print it at once (local inputs are uploaded first).

    ``--set`` takes az's invoke keys (``output_file_name``, ``retry_settings.max_retries`` ...);
    a flag given too wins over the same ``--set`` key.
    """
    sets = _invoke_sets(assignments)
    overrides = {
        "instance_count": instance_count,
        "mini_batch_size": mini_batch_size,
        "error_threshold": error_threshold,
        "max_retries": max_retries,
        "timeout": timeout,
        "output_file_name": output_file_name,
    }
    job = client(output).batch_endpoints.invoke(
        endpoint_name=name,
        input=Input(type=input_type, path=input_path),
        deployment_name=deployment_name,
        output_path=output_path,
        params_override=[sets, {k: v for k, v in overrides.items() if v is not None}],
        experiment_name=experiment_name,
    )
    emit(job, output, query, JOB_COLUMNS)


def _invoke_sets(assignments: tuple[str, ...]) -> dict[str, str]:
    """``--set key=value`` of ``invoke`` as ``params_override`` (the SDK checks the keys)."""
    values: dict[str, str] = {}
    for assignment in assignments:
        key, sep, raw = assignment.partition("=")
        if not sep or not key.strip():
            raise SpecError("--set", f"got {assignment!r}", INVOKE_SET_FORM)
        values[key.strip()] = raw
    return values


@batch_endpoint.command("list-jobs")
@click.option("--name", "-n", required=True, help="Endpoint name.")
@output_options
@api_command
def list_jobs(name: str, output: str, query: str | None) -> None:
    """List the endpoint's jobs, newest first."""
    emit(client(output).batch_endpoints.list_jobs(name), output, query, JOB_COLUMNS)
