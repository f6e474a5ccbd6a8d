"""``batchpoint batch-deployment ...``: ``az ml batch-deployment`` over the SDK.

Azure's deployment.yml loads unchanged: relative paths from the YAML's folder; an inline
``environment:`` (or ``model:``) mapping is registered first and referenced by version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from batchpoint.cli.api_command import api_command, client, emit, output_options
from batchpoint.cli.endpoint_commands import JOB_COLUMNS, SET_FORM, apply_sets
from batchpoint.sdk import MLClient
from batchpoint.sdk.entities import BatchDeployment, Environment, Model
from batchpoint.specs.yaml_loading import deployment_from_dict, environment_from_dict, model_from_dict, read_yaml

DEPLOYMENT_COLUMNS = ("name", "endpoint_name", "model", "compute", "settings.mini_batch_size")

_epilog = """\b
Examples:
  batchpoint batch-deployment create --file deployment.yml --endpoint-name heart-classifier --set-default
  batchpoint batch-deployment show --name classifier-xgboost --endpoint-name heart-classifier
  batchpoint batch-deployment list-jobs --name classifier-xgboost --endpoint-name heart-classifier
"""


@click.group("batch-deployment", epilog=_epilog)
def batch_deployment() -> None:
    """Create and inspect deployments of batch endpoints (like `az ml batch-deployment`)."""


def deployment_from_file(
    ml_client: MLClient, file: Path, *, endpoint_name: str | None, name: str | None, assignments: tuple[str, ...] = ()
) -> BatchDeployment:
    """The SDK entity for ``file``; inline environment/model registered, local code left for the SDK to upload."""
    raw: dict[str, Any] = apply_sets(read_yaml(file), assignments)
    if name:
        raw["name"] = name
    if isinstance(raw.get("environment"), dict):
        env_spec = environment_from_dict(raw["environment"], base_dir=file.parent)
        env = Environment._from_dict(env_spec.model_dump(mode="json", exclude_none=True))
        raw["environment"] = ml_client.environments.create_or_update(env).id
    if isinstance(raw.get("model"), dict):
        inline = {"name": f"{raw.get('name', 'deployment')}-model", **raw["model"]}
        model_spec = model_from_dict(inline, base_dir=file.parent)
        model = Model(name=model_spec.name, type=str(model_spec.type), path=model_spec.path, tags=model_spec.tags)
        raw["model"] = ml_client.models.create_or_update(model).id
    spec = deployment_from_dict(raw, endpoint_name=endpoint_name, base_dir=file.parent)
    return BatchDeployment._from_dict(spec.model_dump(mode="json", exclude_none=True))


@batch_deployment.command("create", epilog=_epilog)
@click.option("--file", "-f", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--endpoint-name", "-e", help="Endpoint (overrides the file's endpoint_name).")
@click.option("--name", "-n", help="Deployment name (overrides the file's).")
@click.option("--set-default", is_flag=True, help="Make it the endpoint's default deployment.")
@click.option("--set", "assignments", multiple=True, help=f"Override a field: {SET_FORM}.")
@output_options
@api_command
def create(
    file: Path,
    endpoint_name: str | None,
    name: str | None,
    set_default: bool,
    assignments: tuple[str, ...],
    output: str,
    query: str | None,
) -> None:
    """Create (or replace) a deployment from Azure's deployment.yml."""
    ml_client = client(output)
    deployment = deployment_from_file(ml_client, file, endpoint_name=endpoint_name, name=name, assignments=assignments)
    result = ml_client.batch_deployments.begin_create_or_update(deployment, set_default=set_default).result()
    emit(result, output, query, DEPLOYMENT_COLUMNS)


@batch_deployment.command("update", epilog=_epilog)
@click.option("--name", "-n", required=True, help="Deployment name.")
@click.option("--endpoint-name", "-e", required=True, help="Endpoint name.")
@click.option("--set", "assignments", multiple=True, required=True, help=f"Change a field: {SET_FORM}.")
@output_options
@api_command
def update(name: str, endpoint_name: str, assignments: tuple[str, ...], output: str, query: str | None) -> None:
    """Change fields of a deployment, e.g. `--set settings.mini_batch_size=20`."""
    ml_client = client(output)
    data = apply_sets(ml_client.batch_deployments.get(name, endpoint_name)._to_dict(), assignments)
    deployment = BatchDeployment._from_dict(deployment_from_dict(data).model_dump(mode="json", exclude_none=True))
    emit(ml_client.batch_deployments.begin_create_or_update(deployment).result(), output, query, DEPLOYMENT_COLUMNS)


@batch_deployment.command("show")
@click.option("--name", "-n", required=True, help="Deployment name.")
@click.option("--endpoint-name", "-e", required=True, help="Endpoint name.")
@output_options
@api_command
def show(name: str, endpoint_name: str, output: str, query: str | None) -> None:
    """Show one deployment."""
    emit(client(output).batch_deployments.get(name, endpoint_name), output, query, DEPLOYMENT_COLUMNS)


@batch_deployment.command("list")
@click.option("--endpoint-name", "-e", required=True, help="Endpoint name.")
@output_options
@api_command
def list_deployments(endpoint_name: str, output: str, query: str | None) -> None:
    """List an endpoint's deployments."""
    emit(client(output).batch_deployments.list(endpoint_name), output, query, DEPLOYMENT_COLUMNS)


@batch_deployment.command("delete")
@click.option("--name", "-n", required=True, help="Deployment name.")
@click.option("--endpoint-name", "-e", required=True, help="Endpoint name.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@api_command
def delete(name: str, endpoint_name: str, yes: bool) -> None:
    """Delete a deployment (not the default one while others exist)."""
    if not yes:
        click.confirm(f"delete deployment {name!r} of {endpoint_name!r}?", abort=True)
    client().batch_deployments.begin_delete(name, endpoint_name).result()
    click.echo(f"batch deployment {name} of {endpoint_name} deleted")


@batch_deployment.command("list-jobs")
@click.option("--name", "-n", required=True, help="Deployment name.")
@click.option("--endpoint-name", "-e", required=True, help="Endpoint name.")
@output_options
@api_command
def list_jobs(name: str, endpoint_name: str, output: str, query: str | None) -> None:
    """List the jobs this deployment ran, newest first."""
    emit(client(output).batch_deployments.list_jobs(endpoint_name, name), output, query, JOB_COLUMNS)
