"""``batchpoint environment|compute|data ...``: ``az ml`` asset commands over the SDK, Azure YAML unchanged."""

from __future__ import annotations

from pathlib import Path

import click

from batchpoint.cli.api_command import api_command, client, emit, output_options
from batchpoint.errors import SpecError
from batchpoint.sdk.entities import AmlCompute, Data, Environment
from batchpoint.specs.yaml_loading import compute_from_dict, load_data, load_environment, read_yaml

ENVIRONMENT_COLUMNS = ("name", "version", "python_version", "description")
COMPUTE_COLUMNS = ("name", "min_instances", "max_instances", "idle_time_before_scale_down")
DATA_COLUMNS = ("name", "version", "type", "path")
YamlFile = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group()
def environment() -> None:
    """Register environments: pip requirements or a conda file (like `az ml environment`).

    \b
    Example:
      batchpoint environment create -f environment.yml
    """


@environment.command("create")
@click.option("--file", "-f", required=True, type=YamlFile, help="Azure environment YAML (conda_file relative to it).")
@output_options
@api_command
def create_environment(file: Path, output: str, query: str | None) -> None:
    """Register an environment version (the next number unless the file gives one)."""
    spec = load_environment(file).model_dump(mode="json", exclude_none=True)
    emit(client(output).environments.create_or_update(Environment._from_dict(spec)), output, query, ENVIRONMENT_COLUMNS)


@environment.command("show")
@click.option("--name", "-n", required=True)
@click.option("--version", "-v", help="Default: latest.")
@output_options
@api_command
def show_environment(name: str, version: str | None, output: str, query: str | None) -> None:
    """Show one environment version."""
    emit(client(output).environments.get(name, version=version), output, query, ENVIRONMENT_COLUMNS)


@environment.command("list")
@click.option("--name", "-n", help="Every version of this environment.")
@output_options
@api_command
def list_environments(name: str | None, output: str, query: str | None) -> None:
    """List environments."""
    emit(client(output).environments.list(name), output, query, ENVIRONMENT_COLUMNS)


@click.group()
def compute() -> None:
    """Create compute pools that bound a job's workers (like `az ml compute`).

    \b
    Examples:
      batchpoint compute create -f compute.yml
      batchpoint compute create -n batch-cluster --type AmlCompute --size STANDARD_DS3_V2 \\
        --min-instances 0 --max-instances 5 --idle-time-before-scale-down 120 --tier dedicated
    """


@compute.command("create")
@click.option("--file", "-f", type=YamlFile, help="Azure compute YAML (type: amlcompute); flags override it.")
@click.option("--name", "-n", help="Compute name (overrides the file's).")
@click.option("--type", "-t", "compute_type", help="AmlCompute (any case; the only type here). Default: amlcompute.")
@click.option("--size", help="Azure VM size (accepted; no meaning here).")
@click.option("--tier", help="dedicated or low_priority (accepted; no meaning here).")
@click.option("--min-instances", type=int)
@click.option("--max-instances", type=int)
@click.option("--idle-time-before-scale-down", type=int, help="Seconds.")
@click.option("--location", help="Azure region (accepted; no meaning here).")
@click.option("--description")
@output_options
@api_command
def create_compute(
    file: Path | None,
    name: str | None,
    compute_type: str | None,
    size: str | None,
    tier: str | None,
    min_instances: int | None,
    max_instances: int | None,
    idle_time_before_scale_down: int | None,
    location: str | None,
    description: str | None,
    output: str,
    query: str | None,
) -> None:
    """Create or replace a compute, from Azure's compute YAML and/or `az ml compute create`'s flags."""
    # The file and the flags are one Azure compute document: Azure-only fields warn the same way.
    values = read_yaml(file) if file else {}
    given = {
        "name": name,
        "type": compute_type,
        "size": size,
        "tier": tier,
        "min_instances": min_instances,
        "max_instances": max_instances,
        "idle_time_before_scale_down": idle_time_before_scale_down,
        "location": location,
        "description": description,
    }
    values.update({k: v for k, v in given.items() if v is not None})
    if not values.get("name"):
        raise SpecError("compute.name", "is missing", "-n NAME or -f compute.yml")
    spec = compute_from_dict({"type": "amlcompute", **values})
    entity = AmlCompute._from_dict(spec.model_dump(mode="json", exclude_none=True))
    emit(client(output).compute.begin_create_or_update(entity).result(), output, query, COMPUTE_COLUMNS)


@compute.command("show")
@click.option("--name", "-n", required=True)
@output_options
@api_command
def show_compute(name: str, output: str, query: str | None) -> None:
    """Show one compute."""
    emit(client(output).compute.get(name), output, query, COMPUTE_COLUMNS)


@compute.command("list")
@output_options
@api_command
def list_computes(output: str, query: str | None) -> None:
    """List computes."""
    emit(client(output).compute.list(), output, query, COMPUTE_COLUMNS)


@compute.command("delete")
@click.option("--name", "-n", required=True)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@api_command
def delete_compute(name: str, yes: bool) -> None:
    """Delete a compute."""
    if not yes:
        click.confirm(f"delete compute {name!r}?", abort=True)
    client().compute.begin_delete(name).result()
    click.echo(f"compute {name} deleted")


@click.group()
def data() -> None:
    """Register data assets; local paths are uploaded (like `az ml data`).

    \b
    Example:
      batchpoint data create -f heart-dataset-unlabeled.yml
    """


@data.command("create")
@click.option("--file", "-f", type=YamlFile, help="Azure data YAML (path relative to it).")
@click.option("--name", "-n", help="Data asset name (overrides the file's).")
@click.option("--path", "-p", help="Local file/folder or s3://... (overrides the file's).")
@click.option("--type", "data_type", type=click.Choice(["uri_folder", "uri_file"]), help="Default: uri_folder.")
@click.option("--version", "-v", help="Default: the next number.")
@output_options
@api_command
def create_data(
    file: Path | None,
    name: str | None,
    path: str | None,
    data_type: str | None,
    version: str | None,
    output: str,
    query: str | None,
) -> None:
    """Register a data asset version."""
    ml_client = client(output)
    values: dict[str, object] = {}
    if file is not None:
        values = load_data(file, upload=ml_client.data.upload).model_dump(mode="json", exclude_none=True)
    given = {"name": name, "path": path, "type": data_type, "version": version}
    values.update({k: v for k, v in given.items() if v is not None})
    if not values.get("name") or not values.get("path"):
        raise SpecError("data", "needs a name and a path", "-f data.yml or --name NAME --path PATH")
    emit(ml_client.data.create_or_update(Data._from_dict(values)), output, query, DATA_COLUMNS)


@data.command("show")
@click.option("--name", "-n", required=True)
@click.option("--version", "-v", help="Default: latest.")
@output_options
@api_command
def show_data(name: str, version: str | None, output: str, query: str | None) -> None:
    """Show one data asset version."""
    emit(client(output).data.get(name, version=version), output, query, DATA_COLUMNS)


@data.command("list")
@click.option("--name", "-n", help="Every version of this data asset.")
@output_options
@api_command
def list_data(name: str | None, output: str, query: str | None) -> None:
    """List data assets."""
    emit(client(output).data.list(name), output, query, DATA_COLUMNS)
