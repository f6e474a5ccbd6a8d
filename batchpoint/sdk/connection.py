"""Where the API is and which token to send: read once, when an ``MLClient`` is built.

Order: the ``endpoint=`` / ``token=`` arguments, then ``BATCHPOINT_API_URL`` /
``BATCHPOINT_API_TOKEN``, then ``~/.batchpoint/config.json`` (``{"api_url": ..., "api_token": ...}``),
then the default URL of this machine's stack (``http://<host>:<api port>`` from ``Settings``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from batchpoint.config import Settings
from batchpoint.errors import SpecError

URL_VARIABLE = "BATCHPOINT_API_URL"
TOKEN_VARIABLE = "BATCHPOINT_API_TOKEN"  # noqa: S105 -- the variable's name, not a secret
CONFIG_FILE_FORM = '{"api_url": "https://host:port", "api_token": "<secret>"}'


def default_config_path() -> Path:
    """``~/.batchpoint/config.json``."""
    return Path.home() / ".batchpoint" / "config.json"


@dataclass(frozen=True)
class Connection:
    """The API's base URL and the bearer secret (empty when none was found)."""

    url: str
    token: str

    @classmethod
    def resolve(
        cls,
        *,
        endpoint: str | None = None,
        token: str | None = None,
        environ: Mapping[str, str] | None = None,
        config_path: Path | None = None,
    ) -> Connection:
        """Find URL and token in the documented order."""
        env = os.environ if environ is None else environ
        file_values = read_config_file(config_path or default_config_path())
        url = endpoint or env.get(URL_VARIABLE) or file_values.get("api_url") or _default_url(env)
        secret = token or env.get(TOKEN_VARIABLE) or file_values.get("api_token") or ""
        return cls(url=url.rstrip("/"), token=secret)


def read_config_file(path: Path) -> dict[str, str]:
    """The string values of the client config file; empty when it does not exist."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SpecError(str(path), f"cannot be read as JSON: {exc}", CONFIG_FILE_FORM) from exc
    if not isinstance(data, dict):
        raise SpecError(str(path), f"got a {type(data).__name__}", CONFIG_FILE_FORM)
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def _default_url(env: Mapping[str, str]) -> str:
    settings = Settings.from_env(env)
    scheme = "https" if settings.tls_cert and settings.tls_key else "http"
    return f"{scheme}://{settings.host}:{settings.ports.api}"
