"""``batchpoint model create|list|show``: ``az ml model`` over the SDK."""

from __future__ import annotations

from pathlib import Path

import click

from batchpoint.cli.api_command import api_command, client, emit, output_options
from batchpoint.errors import SpecError
from batchpoint.sdk.entities import Model
from batchpoint.specs.yaml_loading import load_model

MODEL_COLUMNS = ("name", "version", "type", "uri", "aliases")

_create_epilog = """\b
Examples:
  batchpoint model create --name heart-classifier --type mlflow_model --path model
  batchpoint model create -f model.yml
  batchpoint model create --name heart-classifier --path runs:/<run_id>/model
"""


@click.group()
def model() -> None:
    """Register models and read their versions (like `az ml model`)."""


@model.command("create", epilog=_create_epilog)
@click.option("--name", "-n", help="Model name (letters, digits, _ . -).")
@click.option(
    "--type", "model_type", type=click.Choice(["mlflow_model", "custom_model"]), help="Default: custom_model."
)
@click.option("--path", "-p", help="Local model folder or file, or runs:/<run_id>/<path>.")
@click.option("--version", "-v", help="Version to register (default: the next number).")
@click.option("--description", "-d", help="What the model is.")
@click.option("--file", "-f", "file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Model YAML.")
@output_options
@api_command
def create(
    name: str | None,
    model_type: str | None,
    path: str | None,
    version: str | None,
    description: str | None,
    file: Path | None,
    output: str,
    query: str | None,
) -> None:
    """Register a new model version from a local folder (sent to the API as tar.gz)."""
    entity = Model(name=name, type=model_type, path=path, version=version, description=description)
    if file is not None:
        spec = load_model(file).model_dump(mode="json", exclude_none=True)
        entity = Model(
            name=name or spec["name"],
            version=version or spec.get("version"),
            type=model_type or spec.get("type"),
            path=path or spec.get("path"),
            description=description or spec.get("description"),
            tags=spec.get("tags"),
            properties=spec.get("properties"),
        )
    if not entity.name or entity.path is None:
        raise SpecError("model", "needs --name and --path (or -f model.yml)", "--name NAME --path FOLDER")
    emit(client(output).models.create_or_update(entity), output, query, MODEL_COLUMNS)


@model.command("list")
@click.option("--name", "-n", help="Every version of this model (default: the latest of each model).")
@output_options
@api_command
def list_models(name: str | None, output: str, query: str | None) -> None:
    """List models, or the versions of one."""
    emit(client(output).models.list(name), output, query, MODEL_COLUMNS)


@model.command("show")
@click.option("--name", "-n", required=True, help="Model name.")
@click.option("--version", "-v", help="Version (default: latest).")
@click.option("--label", "-l", help="`latest` or an alias.")
@output_options
@api_command
def show(name: str, version: str | None, label: str | None, output: str, query: str | None) -> None:
    """Show one model version."""
    emit(client(output).models.get(name, version=version, label=label), output, query, MODEL_COLUMNS)
