"""``batchpoint token create|revoke|list``: API tokens, written to the registry directly (an admin action).

The secret is printed once, at creation; the registry keeps only its sha256.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import click

from batchpoint.config import Settings
from batchpoint.errors import BatchpointError
from batchpoint.management.workspace import Workspace


@contextmanager
def _workspace() -> Iterator[Workspace]:
    settings = Settings.from_env()
    if not settings.registry_url:  # the default sqlite registry lives in data_dir
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        with Workspace(settings) as workspace:
            yield workspace
    except BatchpointError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def token() -> None:
    """Create, revoke and list the bearer tokens of the HTTPS API."""


@token.command("create")
@click.argument("name_argument", metavar="[NAME]", required=False)
@click.option("--name", "name_option", help="A name that says who or what uses the token.")
def create(name_argument: str | None, name_option: str | None) -> None:
    """Create a token and print its secret (shown only this once)."""
    name = name_option or name_argument
    if not name:
        raise click.UsageError("give the token a name: batchpoint token create --name <name>")
    with _workspace() as workspace:
        token_id, secret = workspace.tokens.create(name)
    click.echo(f"token {token_id} ({name}); its secret, shown only now:", err=True)
    click.echo(secret)
    click.echo("use it as: export BATCHPOINT_API_TOKEN=<secret>", err=True)


@token.command("revoke")
@click.option("--id", "token_id", required=True, help="The token's id (tok_...), as `token list` shows.")
def revoke(token_id: str) -> None:
    """Revoke a token: the API refuses it from now on."""
    with _workspace() as workspace:
        workspace.tokens.revoke(token_id)
    click.echo(f"token {token_id} revoked")


@token.command("list")
@click.option("--output", "-o", type=click.Choice(["table", "json"]), default="table", show_default=True)
def list_tokens(output: str) -> None:
    """List tokens (ids, names, dates; never secrets)."""
    with _workspace() as workspace:
        tokens = workspace.tokens.list()
    rows = [_row(t) for t in tokens]
    if output == "json":
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    click.echo(f"{'ID':<14} {'NAME':<24} {'CREATED':<26} REVOKED")
    for row in rows:
        click.echo(f"{row['id']:<14} {row['name']:<24} {row['created_at']!s:<26} {row['revoked_at'] or ''}")


def _row(info: object) -> dict[str, object]:
    return {key: getattr(info, key, None) for key in ("id", "name", "created_at", "revoked_at")}
